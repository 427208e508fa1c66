/** ListOffsets: earliest (-2), latest (-1), max timestamp (-3), or the first record at/after a time. */
import type { ListOffsetsRequest, ListOffsetsResponse } from '../../protocol/wire/ops.ts';
import type { OffsetQuery } from '../../storage/log.ts';
import type { BrokerContext } from '../broker-context.ts';
import { toWireError, wireError } from '../wire-error.ts';

export type ListOffsetsBody = Omit<ListOffsetsRequest, 'op'>;

export function offsetQuery(timestamp: number): OffsetQuery {
  if (timestamp === -1) return { kind: 'latest' };
  if (timestamp === -2) return { kind: 'earliest' };
  if (timestamp === -3) return { kind: 'maxTimestamp' };
  return { kind: 'timestamp', timestamp };
}

export async function listOffsets(ctx: BrokerContext, req: ListOffsetsBody): Promise<ListOffsetsResponse> {
  const topics = await Promise.all(
    req.topics.map(async ({ topic, partitions }) => {
      const record = ctx.topics.get(topic);
      const results = await Promise.all(
        partitions.map(async ({ partition, timestamp }) => {
          if (!record || partition >= record.partitions) {
            return {
              partition,
              error: wireError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition} does not exist`),
              offset: -1,
              timestamp: -1,
            };
          }
          try {
            const answer = await ctx.engine.listOffset(topic, partition, offsetQuery(timestamp));
            return { partition, offset: answer.offset, timestamp: answer.timestamp };
          } catch (err) {
            return { partition, error: toWireError(err), offset: -1, timestamp: -1 };
          }
        }),
      );
      return { topic, partitions: results };
    }),
  );
  return { topics };
}
