/**
 * Produce: append one record batch per partition. Validation, offsets and idempotence are the
 * partition actor's; this handler resolves topics (auto-creating when allowed), routes each batch to
 * its partition and collects per-partition results. Batches are passed on as received (never
 * re-encoded).
 */
import type { ProducePartitionResponse, ProduceRequest, ProduceResponse } from '../../protocol/wire/ops.ts';
import type { BrokerContext } from '../broker-context.ts';
import { toWireError, wireError } from '../wire-error.ts';

export type ProduceBody = Omit<ProduceRequest, 'op'>;

function failed(partition: number, error: ProducePartitionResponse['error']): ProducePartitionResponse {
  return { partition, error, baseOffset: -1, logAppendTime: -1, logStartOffset: -1 };
}

/**
 * `mayTakeBuffers`: the front door owns the buffers behind the request's record views outright (a
 * received frame nobody else holds), so when the request carries a single batch its buffer moves to
 * the worker instead of being copied.
 */
export async function produce(
  ctx: BrokerContext,
  req: ProduceBody,
  options: { mayTakeBuffers?: boolean } = {},
): Promise<ProduceResponse> {
  const takeBuffer =
    options.mayTakeBuffers === true && req.topics.length === 1 && req.topics[0]!.partitions.length === 1;
  const topics = await Promise.all(
    req.topics.map(async ({ topic, partitions }) => {
      let record: Awaited<ReturnType<typeof ctx.topics.ensure>>;
      try {
        record = await ctx.topics.ensure(topic, true);
      } catch (err) {
        const error = toWireError(err);
        return { topic, partitions: partitions.map((p) => failed(p.partition, error)) };
      }
      const results = await Promise.all(
        partitions.map(async ({ partition, records }): Promise<ProducePartitionResponse> => {
          if (!record || partition >= record.partitions) {
            return failed(
              partition,
              wireError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition} does not exist`),
            );
          }
          try {
            const ack = await ctx.engine.append(topic, partition, records, { takeBuffer });
            return {
              partition,
              baseOffset: ack.baseOffset,
              logAppendTime: ack.logAppendTime,
              logStartOffset: ack.logStartOffset,
            };
          } catch (err) {
            return failed(partition, toWireError(err));
          }
        }),
      );
      return { topic, partitions: results };
    }),
  );
  ctx.metrics?.produceAnswered({ topics }); // metrics: partition errors by name
  return { topics };
}
