/**
 * The admin client's consumer-group operations (Admin delegates here): list, describe (member
 * assignments decoded from their ConsumerProtocol bytes), delete, committed offsets, lag, and offset
 * resets the way kafka-consumer-groups.sh does them: planned from the committed offsets and the
 * partitions' log start and end, and written as commits outside any generation, which the
 * coordinator accepts only while the group has no members.
 */
import { SluiceError } from '../errors.ts';
import { OffsetSpec } from '../protocol/wire/ops.ts';
import { AdminError, failuresOf } from './admin-error.ts';
import { decodeAssignment, decodeSubscription } from './consumer-protocol.ts';
import type { TopicPartition } from './fetcher.ts';
import { type CommittedOffset, commitOffsets, fetchCommitted } from './offset-commits.ts';
import { groupByTopic } from './responses.ts';
import type { ClientTransport } from './transport.ts';

/** A group as `listGroups` shows it. */
export interface GroupListing {
  groupId: string;
  protocolType: string;
  /** Empty, PreparingRebalance, CompletingRebalance, Stable or Dead. */
  state: string;
}

/** A member of a described group. */
export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Subscribed topics (ConsumerProtocol groups; [] otherwise). */
  subscription: string[];
  /** Assigned partitions (ConsumerProtocol groups in state Stable; [] otherwise). */
  assignment: TopicPartition[];
}

/** A described group; an unknown group is described with state Dead and no members, as in Kafka. */
export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  /** The chosen assignor (ConsumerProtocol groups). */
  protocolName: string;
  generationId: number;
  leader: string;
  members: GroupMemberDescription[];
}

/** One partition of a group's lag: log end minus the committed offset. */
export interface PartitionLag extends TopicPartition {
  /** -1 when the group has committed nothing for the partition. */
  committedOffset: number;
  /** The high watermark (-1 if the partition is gone). */
  logEndOffset: number;
  /** logEndOffset − committedOffset; null without a committed offset. */
  lag: number | null;
  /** The member the partition is assigned to, if any. */
  memberId: string | null;
  clientId: string | null;
  clientHost: string | null;
}

/** Where `resetOffsets` moves the group's offsets (Kafka's --to-earliest … --shift-by). */
export type OffsetResetTarget =
  | 'earliest'
  | 'latest'
  | { offset: number }
  | { timestamp: number }
  | { shiftBy: number };

/** Which partitions to reset: a topic (all its partitions) or some of its partitions. */
export type OffsetResetScope = string | { topic: string; partitions: number[] };

/** One line of an offset reset plan. */
export interface OffsetResetPlan extends TopicPartition {
  /** The committed offset before the reset (-1: none). */
  currentOffset: number;
  newOffset: number;
}

export async function listGroups(
  transport: ClientTransport,
  options: { states?: string[] } = {},
): Promise<GroupListing[]> {
  const response = await transport.request('listGroups', options.states ? { states: options.states } : {});
  return response.groups
    .map(({ groupId, protocolType, state }) => ({ groupId, protocolType, state }))
    .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

export async function describeGroups(
  transport: ClientTransport,
  groupIds: readonly string[],
): Promise<GroupDescription[]> {
  const response = await transport.request('describeGroups', { groupIds: [...groupIds] });
  const failures = failuresOf(response.groups, (g) => g.groupId);
  if (failures.length > 0) throw new AdminError('describeGroups', failures);
  return response.groups.map((g) => ({
    groupId: g.groupId,
    state: g.state,
    protocolType: g.protocolType,
    protocolName: g.protocolName,
    generationId: g.generationId,
    leader: g.leader,
    members: g.members.map((m) => {
      const consumer = g.protocolType === 'consumer';
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscription: consumer ? orEmpty(() => decodeSubscription(m.metadata).topics) : [],
        assignment: consumer ? orEmpty(() => decodeAssignment(m.assignment)) : [],
      };
    }),
  }));
}

export async function deleteGroups(transport: ClientTransport, groupIds: readonly string[]): Promise<void> {
  const response = await transport.request('deleteGroups', { groupIds: [...groupIds] });
  const failures = failuresOf(response.groups, (g) => g.groupId);
  if (failures.length > 0) throw new AdminError('deleteGroups', failures);
}

/** Committed offsets: of every partition of `topics`, or (default) of every partition the group committed. */
export async function fetchGroupOffsets(
  transport: ClientTransport,
  groupId: string,
  topics?: readonly string[],
): Promise<CommittedOffset[]> {
  const partitions = topics
    ? await partitionsOf(
        transport,
        topics.map((t) => ({ topic: t })),
      )
    : null;
  return fetchCommitted(transport, groupId, partitions);
}

/** Committed offset, log end and lag of every partition the group committed or has assigned. */
export async function groupLag(transport: ClientTransport, groupId: string): Promise<PartitionLag[]> {
  const [committed, [group]] = await Promise.all([
    fetchCommitted(transport, groupId, null),
    describeGroups(transport, [groupId]),
  ]);
  const rows = new Map<string, PartitionLag>();
  const row = (tp: TopicPartition) => {
    const k = `${tp.topic}\u0000${tp.partition}`;
    let r = rows.get(k);
    if (!r) {
      r = {
        ...tp,
        committedOffset: -1,
        logEndOffset: -1,
        lag: null,
        memberId: null,
        clientId: null,
        clientHost: null,
      };
      rows.set(k, r);
    }
    return r;
  };
  for (const c of committed) row(c).committedOffset = c.offset;
  for (const m of group?.members ?? []) {
    for (const tp of m.assignment)
      Object.assign(row(tp), { memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost });
  }
  const list = [...rows.values()].sort((a, b) =>
    a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
  );
  const ends = await offsetsAt(transport, list, OffsetSpec.latest);
  list.forEach((r, i) => {
    r.logEndOffset = ends[i] ?? -1;
    if (r.committedOffset >= 0 && r.logEndOffset >= 0)
      r.lag = Math.max(0, r.logEndOffset - r.committedOffset);
  });
  return list;
}

/**
 * Plan (and unless `dryRun`, commit) new offsets for `scope` (default: every topic the group has
 * committed offsets for). Targets are clamped to each partition's [log start, log end], as
 * kafka-consumer-groups.sh does; `shiftBy` needs a committed offset; a timestamp with no record at or
 * after it resets to the log end. Refused (NON_EMPTY_GROUP) while the group has members.
 */
export async function resetGroupOffsets(
  transport: ClientTransport,
  groupId: string,
  target: OffsetResetTarget,
  options: { scope?: readonly OffsetResetScope[]; dryRun?: boolean } = {},
): Promise<OffsetResetPlan[]> {
  const [group] = await describeGroups(transport, [groupId]);
  if (group && group.members.length > 0) {
    throw new SluiceError(
      'NON_EMPTY_GROUP',
      `offsets can only be reset while group '${groupId}' is inactive, but its state is ${group.state} with ${group.members.length} member(s)`,
    );
  }
  const scope = options.scope
    ? options.scope.map((s) => (typeof s === 'string' ? { topic: s } : s))
    : [...new Set((await fetchCommitted(transport, groupId, null)).map((c) => c.topic))].map((topic) => ({
        topic,
      }));
  const partitions = await partitionsOf(transport, scope);
  if (partitions.length === 0) return [];
  const [committed, low, high] = await Promise.all([
    fetchCommitted(transport, groupId, partitions),
    offsetsAt(transport, partitions, OffsetSpec.earliest),
    offsetsAt(transport, partitions, OffsetSpec.latest),
  ]);
  const current = new Map(committed.map((c) => [`${c.topic}\u0000${c.partition}`, c.offset]));
  const at =
    typeof target === 'object' && 'timestamp' in target
      ? await offsetsAt(transport, partitions, target.timestamp)
      : [];
  const plan = partitions.map((tp, i): OffsetResetPlan => {
    const lo = low[i]!;
    const hi = high[i]!;
    const currentOffset = current.get(`${tp.topic}\u0000${tp.partition}`) ?? -1;
    const clamp = (n: number) => Math.min(Math.max(n, lo), hi);
    let newOffset: number;
    if (target === 'earliest') newOffset = lo;
    else if (target === 'latest') newOffset = hi;
    else if ('offset' in target) newOffset = clamp(target.offset);
    else if ('timestamp' in target) newOffset = at[i]! < 0 ? hi : clamp(at[i]!);
    else {
      if (currentOffset < 0) {
        throw new SluiceError(
          'INVALID_REQUEST',
          `cannot shift ${tp.topic}-${tp.partition}: group ${groupId} has no committed offset for it`,
        );
      }
      newOffset = clamp(currentOffset + target.shiftBy);
    }
    return { ...tp, currentOffset, newOffset };
  });
  if (!options.dryRun) {
    await commitOffsets(
      transport,
      { groupId, generationId: -1, memberId: '', groupInstanceId: null },
      plan.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.newOffset })),
    );
  }
  return plan;
}

/** Every partition of the named topics (or the listed partitions); unknown topics fail. */
async function partitionsOf(
  transport: ClientTransport,
  scope: readonly { topic: string; partitions?: number[] }[],
): Promise<TopicPartition[]> {
  if (scope.length === 0) return [];
  const topics = [...new Set(scope.map((s) => s.topic))];
  const response = await transport.request('metadata', { topics, allowAutoTopicCreation: false });
  const failures = failuresOf(response.topics, (t) => t.name);
  if (failures.length > 0) throw new AdminError('metadata', failures);
  const out: TopicPartition[] = [];
  for (const s of scope) {
    const count = response.topics.find((t) => t.name === s.topic)?.partitions.length ?? 0;
    for (const partition of s.partitions ?? Array.from({ length: count }, (_, p) => p)) {
      if (partition >= count)
        throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `${s.topic} has no partition ${partition}`);
      out.push({ topic: s.topic, partition });
    }
  }
  return out;
}

/** listOffsets at `timestamp` for each partition, in order; -1 where it failed (a deleted topic). */
async function offsetsAt(
  transport: ClientTransport,
  partitions: readonly TopicPartition[],
  timestamp: number,
): Promise<number[]> {
  if (partitions.length === 0) return [];
  const response = await transport.request('listOffsets', {
    topics: groupByTopic(partitions, (tp) => ({ partition: tp.partition, timestamp })),
  });
  return partitions.map((tp) => {
    const p = response.topics
      .find((t) => t.topic === tp.topic)
      ?.partitions.find((x) => x.partition === tp.partition);
    return p && !p.error ? p.offset : -1;
  });
}

function orEmpty<T>(decode: () => T[]): T[] {
  try {
    return decode();
  } catch (err) {
    if (err instanceof SluiceError) return []; // not ConsumerProtocol bytes
    throw err;
  }
}
