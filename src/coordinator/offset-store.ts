/**
 * Committed offsets and group metadata, kept in memory and persisted in the internal compacted topic
 * `__consumer_offsets` (several partitions; a group lives in partition `abs(javaHash(groupId)) % N`,
 * as in Kafka). Its partitions are ordinary logs owned by worker threads; compaction keeps the latest
 * record per key.
 *
 * Record format (ours, not Kafka's binary one; keys are JSON so that `kcat -C -t __consumer_offsets`
 * stays readable, values are CBOR because group metadata holds opaque bytes):
 *   offset commit  key ["o", group, topic, partition]  value { v: 1, offset, leaderEpoch, metadata, commitTimestamp }
 *   group metadata key ["g", group]                    value { v: 1, protocolType, protocolName, generationId,
 *                                                               leader, members: [...] }   (see StoredGroup)
 *   a null value (tombstone) deletes the key.
 *
 * Main thread only; writes go through the PartitionEngine like any produce.
 */

import { Encoder } from 'cbor-x';
import type { TopicManager } from '../broker/topic-manager.ts';
import { decodeRecordBatch, iterateBatches } from '../protocol/kafka/record-batch.ts';
import { RecordBatchBuilder } from '../protocol/kafka/record-batch-builder.ts';
import type { PartitionEngine } from '../router/partition-engine.ts';
import type { CommittedOffset } from './types.ts';

export const OFFSETS_TOPIC = '__consumer_offsets';

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** Subscription metadata for the chosen protocol. */
  metadata: Uint8Array;
  assignment: Uint8Array;
}

export interface StoredGroup {
  protocolType: string;
  protocolName: string;
  generationId: number;
  leader: string;
  stateTimestamp: number;
  members: StoredMember[];
}

/** Java's String.hashCode, then Kafka's Utils.abs: the partition of a group in __consumer_offsets. */
export function offsetsPartitionFor(groupId: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < groupId.length; i++) h = (Math.imul(h, 31) + groupId.charCodeAt(i)) | 0;
  const abs = h === -2147483648 ? 0 : Math.abs(h);
  return abs % partitions;
}

function offsetKey(group: string, topic: string, partition: number): Uint8Array {
  return utf8.encode(JSON.stringify(['o', group, topic, partition]));
}

function groupKey(group: string): Uint8Array {
  return utf8.encode(JSON.stringify(['g', group]));
}

type LogRecord = { key: Uint8Array; value: Uint8Array | null };

export class OffsetStore {
  private readonly engine: PartitionEngine;
  private readonly topics: TopicManager;
  readonly partitions: number;
  /** group → "topic\0partition" → committed offset. */
  private readonly offsets = new Map<
    string,
    Map<string, CommittedOffset & { topic: string; partition: number }>
  >();

  constructor(engine: PartitionEngine, topics: TopicManager, partitions: number) {
    this.engine = engine;
    this.topics = topics;
    this.partitions = partitions;
  }

  /**
   * Make sure the internal topic exists, then read it whole: committed offsets into memory, and the
   * stored group metadata returned for the coordinator to rebuild its groups.
   */
  async load(): Promise<Map<string, StoredGroup>> {
    if (!this.topics.get(OFFSETS_TOPIC)) {
      await this.topics.create(OFFSETS_TOPIC, this.partitions, -1, OFFSETS_TOPIC_CONFIGS, { internal: true });
    }
    const record = this.topics.get(OFFSETS_TOPIC)!;
    const groups = new Map<string, StoredGroup>();
    for (let p = 0; p < record.partitions; p++) {
      let offset = (await this.engine.listOffset(OFFSETS_TOPIC, p, { kind: 'earliest' })).offset;
      for (;;) {
        const read = await this.engine.read(OFFSETS_TOPIC, p, offset, 4 * 1024 * 1024);
        if (!read.bytes) break;
        for (const batch of iterateBatches(read.bytes)) {
          const decoded = await decodeRecordBatch(batch);
          for (const r of decoded.records) {
            if (r.offset >= offset && r.key) this.apply(r.key, r.value, groups);
          }
          offset = decoded.baseOffset + decoded.lastOffsetDelta + 1;
        }
        if (offset >= read.highWatermark) break;
      }
    }
    return groups;
  }

  private apply(keyBytes: Uint8Array, value: Uint8Array | null, groups: Map<string, StoredGroup>): void {
    let key: unknown;
    try {
      key = JSON.parse(utf8Decoder.decode(keyBytes));
    } catch {
      return; // Not ours: ignore rather than refuse to start.
    }
    if (!Array.isArray(key)) return;
    if (key[0] === 'o' && key.length === 4) {
      const [, group, topic, partition] = key as [string, string, string, number];
      if (value === null) this.forget(group, topic, partition);
      else {
        const v = cbor.decode(value) as CommittedOffset & { v: number };
        this.remember(group, topic, partition, {
          offset: v.offset,
          leaderEpoch: v.leaderEpoch,
          metadata: v.metadata,
          commitTimestamp: v.commitTimestamp,
        });
      }
    } else if (key[0] === 'g' && key.length === 2) {
      const group = key[1] as string;
      if (value === null) groups.delete(group);
      else groups.set(group, cbor.decode(value) as StoredGroup);
    }
  }

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(group)?.get(`${topic}\0${partition}`);
  }

  /** Every committed offset of a group. */
  all(group: string): (CommittedOffset & { topic: string; partition: number })[] {
    return [...(this.offsets.get(group)?.values() ?? [])];
  }

  /** Groups that have committed offsets. */
  groups(): string[] {
    return [...this.offsets.keys()];
  }

  /** Persist commits (one batch), then make them visible. */
  async commit(
    group: string,
    entries: { topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string }[],
  ): Promise<void> {
    const now = Date.now();
    const records = entries.map((e) => ({
      key: offsetKey(group, e.topic, e.partition),
      value: cbor.encode({
        v: 1,
        offset: e.offset,
        leaderEpoch: e.leaderEpoch,
        metadata: e.metadata,
        commitTimestamp: now,
      }),
    }));
    await this.write(group, records);
    for (const e of entries) {
      this.remember(group, e.topic, e.partition, {
        offset: e.offset,
        leaderEpoch: e.leaderEpoch,
        metadata: e.metadata,
        commitTimestamp: now,
      });
    }
  }

  /** Persist a group's metadata (null: the group is gone). */
  async storeGroup(group: string, metadata: StoredGroup | null): Promise<void> {
    await this.write(group, [
      { key: groupKey(group), value: metadata === null ? null : cbor.encode({ v: 1, ...metadata }) },
    ]);
  }

  /** Remove every offset of a group (and its metadata): DeleteGroups. */
  async deleteGroup(group: string): Promise<void> {
    const records: LogRecord[] = this.all(group).map((o) => ({
      key: offsetKey(group, o.topic, o.partition),
      value: null,
    }));
    records.push({ key: groupKey(group), value: null });
    await this.write(group, records);
    this.offsets.delete(group);
  }

  /** Remove the offsets of a deleted topic from every group. */
  async removeTopic(topic: string): Promise<void> {
    await Promise.all(
      [...this.offsets.keys()].map(async (group) => {
        const gone = this.all(group).filter((o) => o.topic === topic);
        if (gone.length === 0) return;
        await this.write(
          group,
          gone.map((o) => ({ key: offsetKey(group, topic, o.partition), value: null })),
        );
        for (const o of gone) this.forget(group, topic, o.partition);
      }),
    );
  }

  /** Remove a group's offsets that are older than `retentionMs` (expired empty groups). */
  async expire(group: string, now: number, retentionMs: number): Promise<number> {
    const old = this.all(group).filter((o) => now - o.commitTimestamp > retentionMs);
    if (old.length === 0) return 0;
    await this.write(
      group,
      old.map((o) => ({ key: offsetKey(group, o.topic, o.partition), value: null })),
    );
    for (const o of old) this.forget(group, o.topic, o.partition);
    return old.length;
  }

  private async write(group: string, records: LogRecord[]): Promise<void> {
    if (records.length === 0) return;
    const builder = new RecordBatchBuilder();
    const now = Date.now();
    for (const r of records) builder.append({ key: r.key, value: r.value, timestamp: now });
    await this.engine.append(OFFSETS_TOPIC, offsetsPartitionFor(group, this.partitions), builder.buildSync());
  }

  private remember(group: string, topic: string, partition: number, committed: CommittedOffset): void {
    let byPartition = this.offsets.get(group);
    if (!byPartition) this.offsets.set(group, (byPartition = new Map()));
    byPartition.set(`${topic}\0${partition}`, { ...committed, topic, partition });
  }

  private forget(group: string, topic: string, partition: number): void {
    const byPartition = this.offsets.get(group);
    byPartition?.delete(`${topic}\0${partition}`);
    if (byPartition?.size === 0) this.offsets.delete(group);
  }
}

/**
 * The internal topic is compacted: it keeps the newest record per key (offsets expire by
 * offsets.retention.minutes, as tombstones). Smaller segments than user topics so cleaning starts sooner.
 */
export const OFFSETS_TOPIC_CONFIGS: Record<string, string> = {
  'cleanup.policy': 'compact',
  'segment.bytes': String(100 * 1024 * 1024),
};
