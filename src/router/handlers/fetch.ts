/**
 * Fetch: read whole stored batches from several partitions, long-polling until `minBytes` are
 * available or `maxWaitMs` has passed (Kafka's semantics).
 *
 * - A partition whose fetch offset equals its high watermark is answered from the engine's cached
 *   offsets, without a trip to its worker.
 * - Reads of all partitions run in parallel; the total is then cut to `maxBytes` at batch
 *   boundaries, except that the first batch of the first partition with data is always whole (KIP-74).
 * - A partition error (unknown partition, offset out of range) answers at once.
 * - Read-ahead (per connection, optional): after answering a partition with data while more is
 *   already there, the next range is read from its worker at once, so the consumer's next fetch for
 *   that offset is answered without waiting for a thread hop and a disk read. A consumer reading
 *   one partition has only one fetch in flight (it learns the next offset from the answer); this
 *   overlaps the broker's next read with the consumer's decoding of the last answer.
 */
import { performance } from 'node:perf_hooks';
import type { ReadReply } from '../../../workers/contract.ts';
import { BatchField, batchSizeAt } from '../../protocol/kafka/record-batch.ts';
import type { FetchPartitionResponse, FetchRequest, FetchResponse } from '../../protocol/wire/ops.ts';
import type { BrokerContext } from '../broker-context.ts';
import { partitionKey } from '../shard-table.ts';
import { toWireError, wireError } from '../wire-error.ts';

export type FetchBody = Omit<FetchRequest, 'op'>;

interface Slot {
  topic: string;
  partition: number;
  offset: number;
  result: FetchPartitionResponse;
}

/** Bounds of one connection's read-ahead: partitions, bytes, and how long a read stays usable. */
const READ_AHEAD_MAX_PARTITIONS = 32;
const READ_AHEAD_MAX_BYTES = 32 * 1024 * 1024;
const READ_AHEAD_MAX_AGE_MS = 1000;

interface AheadRead {
  topicId: string;
  offset: number;
  maxBytes: number;
  startedAt: number;
  read: Promise<ReadReply>;
}

/**
 * One connection's read-ahead (see the module comment). Logs only grow at the end, so a range read
 * a moment ago is still what a fresh read would return, except after retention or compaction, where
 * it is older data that was valid a moment ago; a read is used once, for exactly the offset and
 * size it was made for, and within READ_AHEAD_MAX_AGE_MS.
 */
export class FetchReadAhead {
  private readonly reads = new Map<string, AheadRead>();
  private bytes = 0;

  take(key: string, topicId: string, offset: number, maxBytes: number): Promise<ReadReply> | undefined {
    const ahead = this.reads.get(key);
    if (!ahead) return undefined;
    this.reads.delete(key);
    this.bytes -= ahead.maxBytes;
    const usable =
      ahead.topicId === topicId &&
      ahead.offset === offset &&
      ahead.maxBytes === maxBytes &&
      performance.now() - ahead.startedAt < READ_AHEAD_MAX_AGE_MS;
    return usable ? ahead.read : undefined;
  }

  start(
    ctx: BrokerContext,
    topic: string,
    topicId: string,
    partition: number,
    offset: number,
    maxBytes: number,
  ): void {
    const key = partitionKey(topic, partition);
    if (
      this.reads.has(key) ||
      this.reads.size >= READ_AHEAD_MAX_PARTITIONS ||
      this.bytes + maxBytes > READ_AHEAD_MAX_BYTES
    ) {
      return;
    }
    const read = ctx.engine.read(topic, partition, offset, maxBytes);
    read.catch(() => {}); // a read nobody takes must not be an unhandled rejection
    this.reads.set(key, { topicId, offset, maxBytes, startedAt: performance.now(), read });
    this.bytes += maxBytes;
  }

  clear(): void {
    this.reads.clear();
    this.bytes = 0;
  }
}

/** The offset after the last whole batch of `records`. */
function nextOffsetAfter(records: Uint8Array): number {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  let pos = 0;
  let last = -1;
  for (
    let size = batchSizeAt(records, 0);
    size !== undefined && pos + size <= records.byteLength;
    size = batchSizeAt(records, pos)
  ) {
    last = pos;
    pos += size;
  }
  if (last < 0) return -1;
  return Number(view.getBigInt64(last)) + view.getInt32(last + BatchField.lastOffsetDelta) + 1;
}

function errorResult(partition: number, error: FetchPartitionResponse['error']): FetchPartitionResponse {
  return { partition, error, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, records: null };
}

async function readOnce(
  ctx: BrokerContext,
  req: FetchBody,
  readAhead: FetchReadAhead | undefined,
): Promise<{ slots: Slot[][]; bytes: number; errors: boolean }> {
  let errors = false;
  const totalMax = req.maxBytes ?? 50 * 1024 * 1024;
  const slots = await Promise.all(
    req.topics.map(({ topic, partitions }) => {
      const record = ctx.topics.get(topic);
      return Promise.all(
        partitions.map(async ({ partition, offset, maxBytes }): Promise<Slot> => {
          const slot = (result: FetchPartitionResponse): Slot => ({ topic, partition, offset, result });
          if (!record || partition >= record.partitions) {
            errors = true;
            return slot(
              errorResult(
                partition,
                wireError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition} does not exist`),
              ),
            );
          }
          const hw = ctx.engine.highWatermark(topic, partition);
          const logStart = ctx.engine.logStartOffset(topic, partition);
          if (hw !== undefined && logStart !== undefined && offset === hw) {
            return slot({
              partition,
              highWatermark: hw,
              lastStableOffset: hw,
              logStartOffset: logStart,
              records: null,
            });
          }
          try {
            const max = Math.min(maxBytes ?? 1048576, totalMax);
            const key = partitionKey(topic, partition);
            const r = await (readAhead?.take(key, record.topicId, offset, max) ??
              ctx.engine.read(topic, partition, offset, max));
            if (readAhead && r.bytes) {
              const next = nextOffsetAfter(r.bytes);
              if (next > offset && next < r.highWatermark)
                readAhead.start(ctx, topic, record.topicId, partition, next, max);
            }
            return slot({
              partition,
              highWatermark: r.highWatermark,
              lastStableOffset: r.highWatermark,
              logStartOffset: r.logStartOffset,
              records: r.bytes ?? null,
            });
          } catch (err) {
            errors = true;
            return slot(errorResult(partition, toWireError(err)));
          }
        }),
      );
    }),
  );
  // Enforce the response-wide maxBytes at batch boundaries; the first data is always kept whole.
  let bytes = 0;
  for (const topicSlots of slots) {
    for (const s of topicSlots) {
      const records = s.result.records;
      if (!records) continue;
      if (bytes === 0 || bytes + records.byteLength <= totalMax) {
        bytes += records.byteLength;
        continue;
      }
      let keep = 0;
      for (let size = batchSizeAt(records, 0); size !== undefined && bytes + keep + size <= totalMax; ) {
        keep += size;
        size = keep < records.byteLength ? batchSizeAt(records, keep) : undefined;
      }
      s.result.records = keep > 0 ? records.subarray(0, keep) : null;
      bytes += keep;
    }
  }
  return { slots, bytes, errors };
}

export async function fetch(
  ctx: BrokerContext,
  req: FetchBody,
  signal?: AbortSignal,
  readAhead?: FetchReadAhead,
): Promise<FetchResponse> {
  const deadline = Date.now() + req.maxWaitMs;
  const minBytes = req.minBytes ?? 1;
  // Metrics (src/metrics): time parked vs the rest; records and bytes out per partition.
  const startedAt = performance.now();
  let waitedMs = 0;
  for (;;) {
    const { slots, bytes, errors } = await readOnce(ctx, req, readAhead);
    if (bytes >= minBytes || errors || Date.now() >= deadline || signal?.aborted) {
      ctx.metrics?.fetchAnswered(slots, startedAt, waitedMs);
      return {
        topics: req.topics.map((t, i) => ({ topic: t.topic, partitions: slots[i]!.map((s) => s.result) })),
      };
    }
    const offsets = new Map<string, number>();
    for (const topicSlots of slots)
      for (const s of topicSlots) offsets.set(partitionKey(s.topic, s.partition), s.offset);
    const parkedAt = performance.now();
    await ctx.fetchWaiters.wait(offsets, deadline, signal);
    waitedMs += performance.now() - parkedAt;
  }
}
