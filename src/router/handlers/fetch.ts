/**
 * Fetch: read whole stored batches from several partitions, long-polling until `minBytes` are
 * available or `maxWaitMs` has passed (Kafka's semantics).
 *
 * - A partition whose fetch offset equals its high watermark is answered from the engine's cached
 *   offsets, without a trip to its worker.
 * - Reads of all partitions run in parallel; the total is then cut to `maxBytes` at batch
 *   boundaries, except that the first batch of the first partition with data is always whole (KIP-74).
 * - A partition error (unknown partition, offset out of range) answers at once.
 */
import { performance } from 'node:perf_hooks';
import { batchSizeAt } from '../../protocol/kafka/record-batch.ts';
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

function errorResult(partition: number, error: FetchPartitionResponse['error']): FetchPartitionResponse {
  return { partition, error, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, records: null };
}

async function readOnce(
  ctx: BrokerContext,
  req: FetchBody,
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
            const r = await ctx.engine.read(
              topic,
              partition,
              offset,
              Math.min(maxBytes ?? 1048576, totalMax),
            );
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
): Promise<FetchResponse> {
  const deadline = Date.now() + req.maxWaitMs;
  const minBytes = req.minBytes ?? 1;
  // Metrics (src/metrics): time parked vs the rest; records and bytes out per partition.
  const startedAt = performance.now();
  let waitedMs = 0;
  for (;;) {
    const { slots, bytes, errors } = await readOnce(ctx, req);
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
