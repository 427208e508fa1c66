/**
 * Micro benchmark of the group leader's work: decoding every member's ConsumerProtocol subscription,
 * running an assignor, encoding every assignment. In process, no broker.
 *
 *   node --import tsx bench/micro/client-assignors.ts
 *
 * Groups of 10, 100 and 500 members over 20 topics of 50 partitions (1 000 partitions):
 *   range / roundrobin       a first assignment (nobody owns anything)
 *   cooperative-sticky       a member joins a balanced group (claims from every other member), and
 *                            the same with unequal subscriptions (half the members on half the topics),
 *                            which takes the general sticky path
 * Each figure is the median of 5 runs (after a warm-up run), in milliseconds per rebalance.
 */
import type { Assignor, AssignorMember } from '../../src/client/assignor.ts';
import {
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  generationUserData,
} from '../../src/client/consumer-protocol.ts';
import { cooperativeStickyAssignor } from '../../src/client/cooperative-sticky-assignor.ts';
import type { TopicPartition } from '../../src/client/fetcher.ts';
import { rangeAssignor } from '../../src/client/range-assignor.ts';
import { roundRobinAssignor } from '../../src/client/round-robin-assignor.ts';

const RUNS = 5;
const TOPICS = Array.from({ length: 20 }, (_, i) => `topic-${String(i).padStart(2, '0')}`);
const PARTITIONS = 50;
const counts = new Map(TOPICS.map((t) => [t, PARTITIONS]));

/** Members' JoinGroup metadata: owned partitions from `previous` (a balanced earlier assignment). */
function metadata(
  members: number,
  previous: Map<string, TopicPartition[]> | undefined,
  unequal: boolean,
): { memberId: string; metadata: Uint8Array }[] {
  return Array.from({ length: members }, (_, i) => {
    const memberId = `consumer-${String(i).padStart(4, '0')}-${'x'.repeat(36)}`;
    const topics = unequal && i % 2 === 1 ? TOPICS.slice(0, TOPICS.length / 2) : TOPICS;
    const owned = previous?.get(memberId) ?? [];
    return { memberId, metadata: encodeSubscription(topics, owned, generationUserData(previous ? 1 : -1)) };
  });
}

/** What the leader does with the JoinGroup members; returns the assignment and the bytes. */
function lead(assignor: Assignor, joined: { memberId: string; metadata: Uint8Array }[]) {
  const members: AssignorMember[] = joined.map((m) => {
    const s = decodeSubscription(m.metadata);
    return {
      memberId: m.memberId,
      groupInstanceId: null,
      topics: s.topics,
      ownedPartitions: s.ownedPartitions,
      generationId: s.generationId,
      userData: s.userData,
    };
  });
  const result = assignor.assign(members, counts);
  let bytes = 0;
  for (const m of members) bytes += encodeAssignment(result.get(m.memberId) ?? []).length;
  return { result, bytes };
}

function median(fn: () => void): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

const row = (label: string, ms: number) =>
  console.log(`    ${label.padEnd(58)}${ms.toFixed(2).padStart(8)} ms`);

console.log(
  `Group leader: decode subscriptions, assign ${TOPICS.length * PARTITIONS} partitions, encode assignments; median of ${RUNS}, node ${process.version}`,
);
for (const members of [10, 100, 500]) {
  const fresh = metadata(members, undefined, false);
  console.log(`  ${members} members`);
  row(
    'range, first assignment',
    median(() => lead(rangeAssignor, fresh)),
  );
  row(
    'roundrobin, first assignment',
    median(() => lead(roundRobinAssignor, fresh)),
  );
  for (const unequal of [false, true]) {
    // A balanced assignment of members − 1, then one more member joins with nothing.
    const before = lead(cooperativeStickyAssignor, metadata(members - 1, undefined, unequal)).result;
    const joined = metadata(members, before, unequal);
    const label = unequal ? 'unequal subscriptions' : 'equal subscriptions';
    row(
      `cooperative-sticky, a member joins (${label})`,
      median(() => lead(cooperativeStickyAssignor, joined)),
    );
  }
}
