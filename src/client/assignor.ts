/**
 * Partition assignors: the group leader (one of the consumers) runs one to split the subscribed
 * topics' partitions among the members. The broker only picks which assignor (protocol name) the
 * group uses, by vote among the names every member lists; the names are Kafka's, so a group may mix
 * Sluice, librdkafka and Java consumers: `range`, `roundrobin`, `cooperative-sticky`.
 *
 * The built-in ones are in built-in-assignors.ts. Member order is Kafka's (MemberInfo.compareTo): static members (group instance id) first, by
 * instance id, then the others by member id; strings compare by UTF-16 code units, as Java's do.
 */
import type { TopicPartition } from './fetcher.ts';

/** One member as the leader sees it, from its JoinGroup subscription. */
export interface AssignorMember {
  memberId: string;
  groupInstanceId: string | null;
  /** Subscribed topics. */
  topics: readonly string[];
  /** Partitions the member owns now (cooperative rebalancing; empty with eager assignors). */
  ownedPartitions: readonly TopicPartition[];
  /** The generation its owned partitions are from (-1: unknown). */
  generationId: number;
  userData: Uint8Array | null;
}

/**
 * An assignor. `eager`: every member gives up all its partitions before the group rebalances.
 * `cooperative`: members keep their partitions through a rebalance and give up only those the
 * assignment moves elsewhere; the assignor must not hand a partition to a new owner in the same
 * rebalance in which its old owner still holds it (the old owner revokes it and rejoins, and the next
 * rebalance assigns it).
 */
export interface Assignor {
  /** The protocol name members vote on. */
  readonly name: string;
  readonly rebalanceProtocol: 'eager' | 'cooperative';
  /** User data to put in this member's subscription (default none). */
  userData?(generationId: number): Uint8Array | null;
  /**
   * Assign partitions: `partitionsPerTopic` has every subscribed topic that exists. Returns every
   * member's partitions (members missing from the map get none).
   */
  assign(
    members: readonly AssignorMember[],
    partitionsPerTopic: ReadonlyMap<string, number>,
  ): Map<string, TopicPartition[]>;
}

/** Java's String.compareTo: UTF-16 code units. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Kafka's member order: static members first (by instance id), then by member id. */
export function compareMembers(a: AssignorMember, b: AssignorMember): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null)
    return compareStrings(a.groupInstanceId, b.groupInstanceId);
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

/** Topic-partitions by topic, then partition. */
export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  return compareStrings(a.topic, b.topic) || a.partition - b.partition;
}

/** An empty assignment for every member. */
export function emptyAssignment(members: readonly AssignorMember[]): Map<string, TopicPartition[]> {
  return new Map(members.map((m) => [m.memberId, []]));
}

/** Every partition of the members' subscribed topics that exist, sorted by topic then partition. */
export function allPartitionsSorted(
  members: readonly AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>,
): TopicPartition[] {
  const topics = new Set<string>();
  for (const m of members) for (const t of m.topics) if (partitionsPerTopic.has(t)) topics.add(t);
  const out: TopicPartition[] = [];
  for (const topic of [...topics].sort(compareStrings)) {
    const n = partitionsPerTopic.get(topic) ?? 0;
    for (let partition = 0; partition < n; partition++) out.push({ topic, partition });
  }
  return out;
}
