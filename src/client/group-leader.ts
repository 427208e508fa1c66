/**
 * What the group leader does between JoinGroup and SyncGroup: decode every member's ConsumerProtocol
 * Subscription, look up the partition counts of all their topics, run the assignor the group chose,
 * and encode each member's ConsumerProtocol Assignment. Also the topic lookups shared with the
 * member's periodic metadata check (a pattern's matches, partition counts that changed).
 */
import { SluiceError } from '../errors.ts';
import type { JoinGroupResponse } from '../protocol/wire/ops.ts';
import type { Assignor, AssignorMember } from './assignor.ts';
import { decodeSubscription, encodeAssignment } from './consumer-protocol.ts';
import type { ClientTransport } from './transport.ts';

/** The leader's result: the SyncGroup assignments, and the partition counts they were computed from. */
export interface LeaderAssignment {
  assignments: { memberId: string; assignment: Uint8Array }[];
  /** Every topic some member subscribes to, with its partition count (-1: it does not exist). */
  topicPartitions: Map<string, number>;
}

/** Compute every member's assignment with the assignor named by the join response. */
export async function computeAssignments(
  transport: ClientTransport,
  assignors: readonly Assignor[],
  joined: JoinGroupResponse,
): Promise<LeaderAssignment> {
  const assignor = assignors.find((a) => a.name === joined.protocolName);
  if (!assignor) {
    throw new SluiceError(
      'INCONSISTENT_GROUP_PROTOCOL',
      `the group chose assignor ${joined.protocolName}, which this consumer does not have`,
    );
  }
  const members: AssignorMember[] = joined.members.map((m) => {
    let topics: string[] = [];
    let owned: AssignorMember['ownedPartitions'] = [];
    let generationId = -1;
    let userData: Uint8Array | null = null;
    try {
      const sub = decodeSubscription(m.metadata);
      ({ topics, ownedPartitions: owned, generationId, userData } = sub);
    } catch (err) {
      // A member whose metadata is not a ConsumerProtocol subscription gets nothing, as in Kafka.
      if (!(err instanceof SluiceError)) throw err;
    }
    return {
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      topics,
      ownedPartitions: owned,
      generationId,
      userData,
    };
  });
  const topicPartitions = await partitionCounts(transport, [...new Set(members.flatMap((m) => m.topics))]);
  const existing = new Map([...topicPartitions].filter(([, n]) => n > 0));
  const result = assignor.assign(members, existing);
  return {
    assignments: members.map((m) => ({
      memberId: m.memberId,
      assignment: encodeAssignment(result.get(m.memberId) ?? []),
    })),
    topicPartitions,
  };
}

/** Partition counts of `topics` (-1 for a topic that does not exist or has no partitions yet). */
export async function partitionCounts(
  transport: ClientTransport,
  topics: readonly string[],
): Promise<Map<string, number>> {
  const counts = new Map(topics.map((t) => [t, -1]));
  if (topics.length === 0) return counts;
  const response = await transport.request('metadata', {
    topics: [...topics],
    allowAutoTopicCreation: false,
  });
  for (const t of response.topics) {
    if (!t.error && t.partitions.length > 0 && counts.has(t.name)) counts.set(t.name, t.partitions.length);
  }
  return counts;
}

/** The non-internal topics whose name matches `pattern` (search semantics, as RegExp.test). */
export async function matchingTopics(transport: ClientTransport, pattern: RegExp): Promise<string[]> {
  const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')); // test() without lastIndex state
  const response = await transport.request('metadata', { topics: null, allowAutoTopicCreation: false });
  return response.topics
    .filter((t) => !t.isInternal && !t.error && re.test(t.name))
    .map((t) => t.name)
    .sort();
}

/** Two partition-count maps hold the same topics and counts. */
export function sameCounts(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [topic, n] of a) if (b.get(topic) !== n) return false;
  return true;
}
