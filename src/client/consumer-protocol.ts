/**
 * Kafka's ConsumerProtocol inside the group ops' opaque bytes: what a member puts in its JoinGroup
 * `metadata` (a Subscription) and what the leader hands each member through SyncGroup (an
 * Assignment). Sluice writes what librdkafka writes, so that Sluice, librdkafka and Java consumers can
 * share a group; it reads every version (0–3) that Kafka clients write.
 *
 * Layout (both int16 version first, then non-flexible fields; generated codecs in
 * src/protocol/kafka/messages/consumer-protocol-*.ts):
 *   Subscription v0  topics []string · user_data nullable bytes
 *                v1  + owned_partitions [] {topic string, partitions []int32}
 *                v2  + generation_id int32      v3  + rack_id nullable string
 *   Assignment   v0+ assigned_partitions [] {topic, partitions []int32} · user_data nullable bytes
 *
 * Generation of a member's owned partitions (what the sticky assignor needs to discard stale claims):
 * the v2+ `generation_id`; else Java's cooperative-sticky user data (an int32); else librdkafka's
 * sticky user data (owned partitions, then an int32 generation); else unknown (-1).
 */
import { SluiceError } from '../errors.ts';
import { ConsumerProtocolAssignment } from '../protocol/kafka/messages/consumer-protocol-assignment.ts';
import { ConsumerProtocolSubscription } from '../protocol/kafka/messages/consumer-protocol-subscription.ts';
import { Reader } from '../protocol/kafka/reader.ts';
import type { TopicPartition } from './fetcher.ts';

/** The subscription version Sluice writes: v1 (owned partitions), as librdkafka does. */
export const SUBSCRIPTION_VERSION = 1;
/** The assignment version Sluice writes: v0, as librdkafka does (every reader accepts it). */
export const ASSIGNMENT_VERSION = 0;

/** A member's subscription, decoded. */
export interface Subscription {
  /** The version it was written with. */
  version: number;
  topics: string[];
  userData: Uint8Array | null;
  ownedPartitions: TopicPartition[];
  /** The generation the owned partitions are from (-1: unknown). */
  generationId: number;
  rackId: string | null;
}

const NO_USER_DATA = new Uint8Array(0);

/** Encode a subscription (version 1: topics, user data, owned partitions); no user data is written as empty bytes, as librdkafka and kafkajs do. */
export function encodeSubscription(
  topics: readonly string[],
  ownedPartitions: readonly TopicPartition[],
  userData: Uint8Array | null = NO_USER_DATA,
): Uint8Array {
  return ConsumerProtocolSubscription.encodeVersioned(SUBSCRIPTION_VERSION, {
    topics: [...topics],
    userData,
    ownedPartitions: byTopic(ownedPartitions),
  });
}

/** Decode a subscription of any version; malformed bytes throw INVALID_REQUEST. */
export function decodeSubscription(bytes: Uint8Array): Subscription {
  const { version, value } = ConsumerProtocolSubscription.decodeVersioned(bytes);
  let ownedPartitions = flatten(value.ownedPartitions ?? []);
  let generationId = value.generationId ?? -1;
  if (generationId < 0 && value.userData) {
    const sticky = stickyUserData(value.userData);
    if (sticky) {
      generationId = sticky.generationId;
      if (ownedPartitions.length === 0) ownedPartitions = sticky.partitions;
    }
  }
  return {
    version,
    topics: value.topics,
    userData: value.userData,
    ownedPartitions,
    generationId,
    rackId: value.rackId ?? null,
  };
}

/** Encode an assignment (version 0, empty user data: byte for byte what a librdkafka leader sends). */
export function encodeAssignment(partitions: readonly TopicPartition[]): Uint8Array {
  return ConsumerProtocolAssignment.encodeVersioned(ASSIGNMENT_VERSION, {
    assignedPartitions: byTopic(partitions),
    userData: NO_USER_DATA,
  });
}

/** Decode an assignment of any version; empty bytes are "no partitions" (what kafkajs and the broker send). */
export function decodeAssignment(bytes: Uint8Array): TopicPartition[] {
  if (bytes.length === 0) return [];
  return flatten(ConsumerProtocolAssignment.decodeVersioned(bytes).value.assignedPartitions);
}

/** The user data Java's cooperative-sticky assignor writes: the member's generation as an int32. */
export function generationUserData(generationId: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, generationId);
  return out;
}

/** Java's 4-byte generation, or librdkafka's StickyAssignorUserData v1 (partitions + generation). */
function stickyUserData(
  data: Uint8Array,
): { partitions: TopicPartition[]; generationId: number } | undefined {
  try {
    const r = new Reader(data);
    if (data.length === 4) return { partitions: [], generationId: r.int32() };
    const partitions: TopicPartition[] = [];
    for (let topics = r.arrayLength(false, 1); topics > 0; topics--) {
      const topic = r.string(false);
      for (let n = r.arrayLength(false, 4); n > 0; n--) partitions.push({ topic, partition: r.int32() });
    }
    const generationId = r.int32();
    return r.remaining === 0 ? { partitions, generationId } : undefined;
  } catch (err) {
    if (err instanceof SluiceError) return undefined; // opaque user data of another assignor
    throw err;
  }
}

/** Topic-partitions grouped by topic in first-seen order, partitions sorted: the wire shape. */
export function byTopic(partitions: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const topics = new Map<string, number[]>();
  for (const tp of partitions) {
    let list = topics.get(tp.topic);
    if (!list) topics.set(tp.topic, (list = []));
    list.push(tp.partition);
  }
  return [...topics].map(([topic, list]) => ({ topic, partitions: list.sort((a, b) => a - b) }));
}

function flatten(topics: readonly { topic: string; partitions: readonly number[] }[]): TopicPartition[] {
  return topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
}
