/**
 * Kafka's CooperativeStickyAssignor (`cooperative-sticky`): a balanced assignment that moves as few
 * partitions as possible, used with incremental cooperative rebalancing (KIP-429).
 *
 * 1. Claims. Members send the partitions they own and the generation they got them in. Only claims
 *    from the highest generation count (older ones may be stale), only for topics the member still
 *    subscribes to; a partition claimed twice in that generation is nobody's (Kafka 2.8's rules).
 * 2. Sticky balance.
 *    - Every member subscribes to the same topics (the common case): Kafka's constrained assignment.
 *      With P partitions and C members each member gets ⌊P/C⌋ or ⌈P/C⌉, and exactly P mod C get the
 *      larger quota. In member order, each member keeps its claims (sorted by partition, then topic)
 *      up to its quota — the larger quota while members with the larger quota are still wanted —
 *      and the rest are freed. The free partitions (sorted by topic, partition) are dealt round robin
 *      to the members under the smaller quota (sorted by member id), then one each to members at the
 *      smaller quota until P mod C members hold the larger one.
 *    - Subscriptions differ: claims are kept, free partitions go to the least loaded member
 *      subscribed to them (fewest candidates first), then partitions move from the most to the least
 *      loaded eligible member while the difference is two or more. (Kafka's general sticky algorithm
 *      balances the same way with more elaborate tie-breaking; the results may differ in which
 *      partition moves, not in balance or stickiness.)
 * 3. Cooperative adjustment. A partition the assignment gives to a member other than the one that
 *    claims it is left out this time: its owner sees it missing from its assignment, revokes it
 *    (committing first) and rejoins, and the rebalance that follows assigns it, now unowned.
 */
import {
  type Assignor,
  type AssignorMember,
  allPartitionsSorted,
  compareMembers,
  compareStrings,
  compareTopicPartitions,
  emptyAssignment,
} from './assignor.ts';
import { generationUserData } from './consumer-protocol.ts';
import type { TopicPartition } from './fetcher.ts';

const key = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  rebalanceProtocol: 'cooperative',
  userData: (generationId) => generationUserData(generationId),
  assign(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>) {
    const ordered = [...members].sort(compareMembers);
    const claims = validClaims(ordered, partitionsPerTopic);
    const first = new Set(ordered[0]?.topics ?? []);
    const allEqual = ordered.every(
      (m) => m.topics.length === first.size && m.topics.every((t) => first.has(t)),
    );
    const target = allEqual
      ? constrainedAssign(ordered, claims, partitionsPerTopic)
      : generalAssign(ordered, claims, partitionsPerTopic);
    // Cooperative: never hand over a partition its previous owner still holds (raw claims, as Kafka).
    const claimedBy = new Map<string, string>();
    for (const m of members) for (const tp of m.ownedPartitions) claimedBy.set(key(tp), m.memberId);
    for (const [memberId, list] of target) {
      const owned = new Set(members.find((m) => m.memberId === memberId)!.ownedPartitions.map(key));
      target.set(
        memberId,
        list.filter((tp) => owned.has(key(tp)) || !otherClaims(members, memberId, tp)),
      );
    }
    return target;
  },
};

function otherClaims(members: readonly AssignorMember[], memberId: string, tp: TopicPartition): boolean {
  return members.some(
    (m) =>
      m.memberId !== memberId &&
      m.ownedPartitions.some((o) => o.topic === tp.topic && o.partition === tp.partition),
  );
}

/** Claims that count: highest generation, existing partitions of subscribed topics, claimed once. */
function validClaims(
  members: readonly AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const maxGeneration = Math.max(-1, ...members.map((m) => m.generationId));
  const claims = emptyAssignment(members);
  const owner = new Map<string, string>();
  const doubly = new Set<string>();
  for (const m of members) {
    if (m.generationId !== maxGeneration) continue;
    for (const tp of m.ownedPartitions) {
      const n = partitionsPerTopic.get(tp.topic);
      if (n === undefined || tp.partition >= n || !m.topics.includes(tp.topic)) continue;
      const k = key(tp);
      const other = owner.get(k);
      if (other === undefined) {
        owner.set(k, m.memberId);
        claims.get(m.memberId)!.push(tp);
      } else if (other !== m.memberId) {
        doubly.add(k);
      }
    }
  }
  for (const [id, list] of claims)
    claims.set(
      id,
      list.filter((tp) => !doubly.has(key(tp))),
    );
  return claims;
}

/** Kafka's ConstrainedAssignmentBuilder (all members subscribe to the same topics). */
function constrainedAssign(
  members: readonly AssignorMember[],
  claims: Map<string, TopicPartition[]>,
  partitionsPerTopic: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const assignment = emptyAssignment(members);
  const all = allPartitionsSorted(members, partitionsPerTopic);
  const minQuota = Math.floor(all.length / members.length);
  const maxQuota = Math.ceil(all.length / members.length);
  const expectedOverMin = all.length % members.length;
  let overMin = 0;
  const assigned = new Set<string>();
  let underMin: string[] = [];
  let exactlyMin: string[] = [];
  for (const m of members) {
    const owned = [...claims.get(m.memberId)!].sort(
      (a, b) => a.partition - b.partition || compareStrings(a.topic, b.topic),
    );
    let keep: TopicPartition[];
    if (owned.length < minQuota) {
      keep = owned;
      underMin.push(m.memberId);
    } else if (owned.length >= maxQuota && overMin < expectedOverMin) {
      overMin++;
      if (overMin === expectedOverMin) exactlyMin = [];
      keep = owned.slice(0, maxQuota);
    } else {
      keep = owned.slice(0, minQuota);
      if (overMin < expectedOverMin) exactlyMin.push(m.memberId);
    }
    assignment.get(m.memberId)!.push(...keep);
    for (const tp of keep) assigned.add(key(tp));
  }
  underMin = underMin.sort(compareStrings);
  exactlyMin = exactlyMin.sort(compareStrings);
  // Java walks underMin with an Iterator and removes members as they reach minQuota; `cursor` is
  // the iterator's next index and `last` the index of the member it returned last.
  let cursor = 0;
  for (const tp of all) {
    if (assigned.has(key(tp))) continue;
    let consumer: string;
    let last = -1;
    if (cursor < underMin.length) {
      last = cursor++;
      consumer = underMin[last]!;
    } else if (underMin.length === 0) {
      const polled = exactlyMin.shift();
      if (polled === undefined) break; // cannot happen: the quotas add up to P
      consumer = polled;
    } else {
      cursor = 0;
      last = cursor++;
      consumer = underMin[last]!;
    }
    const list = assignment.get(consumer)!;
    list.push(tp);
    if (list.length === minQuota && last >= 0) {
      underMin.splice(last, 1);
      cursor = last;
      exactlyMin.push(consumer);
    } else if (list.length === maxQuota) {
      overMin++;
      if (overMin === expectedOverMin) exactlyMin = [];
    }
  }
  return assignment;
}

/** Sticky balance when subscriptions differ; see the module comment. */
function generalAssign(
  members: readonly AssignorMember[],
  claims: Map<string, TopicPartition[]>,
  partitionsPerTopic: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const assignment = new Map([...claims].map(([id, list]) => [id, [...list]]));
  const assigned = new Set([...claims.values()].flat().map(key));
  const eligible = (topic: string) => members.filter((m) => m.topics.includes(topic));
  const count = (m: AssignorMember) => assignment.get(m.memberId)!.length;
  const leastLoaded = (candidates: readonly AssignorMember[]) =>
    [...candidates].sort((a, b) => count(a) - count(b) || compareMembers(a, b))[0];
  const free = allPartitionsSorted(members, partitionsPerTopic)
    .filter((tp) => !assigned.has(key(tp)))
    .sort((a, b) => eligible(a.topic).length - eligible(b.topic).length || compareTopicPartitions(a, b));
  for (const tp of free) {
    const to = leastLoaded(eligible(tp.topic));
    if (to) assignment.get(to.memberId)!.push(tp);
  }
  // Move from the most loaded while someone eligible has at least two fewer; each move narrows the
  // spread, so this ends.
  for (let moved = true; moved; ) {
    moved = false;
    const byLoad = [...members].sort((a, b) => count(b) - count(a) || compareMembers(a, b));
    for (const from of byLoad) {
      const list = assignment.get(from.memberId)!;
      for (let i = list.length - 1; i >= 0 && !moved; i--) {
        const tp = list[i]!;
        const to = leastLoaded(eligible(tp.topic).filter((m) => m !== from));
        if (to && count(to) <= list.length - 2) {
          list.splice(i, 1);
          assignment.get(to.memberId)!.push(tp);
          moved = true;
        }
      }
      if (moved) break;
    }
  }
  return assignment;
}
