/** CreateTopics: per-topic results; -1 partitions / replication factor mean the broker defaults. */
import type { CreateTopicsRequest, CreateTopicsResponse } from '../../protocol/wire/ops.ts';
import type { BrokerContext } from '../broker-context.ts';
import { toWireError, wireError } from '../wire-error.ts';

export type CreateTopicsBody = Omit<CreateTopicsRequest, 'op'>;

export async function createTopics(ctx: BrokerContext, req: CreateTopicsBody): Promise<CreateTopicsResponse> {
  const seen = new Map<string, number>();
  for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
  const topics = await Promise.all(
    req.topics.map(async (t) => {
      if ((seen.get(t.name) ?? 0) > 1) {
        return {
          name: t.name,
          error: wireError('INVALID_REQUEST', `topic "${t.name}" appears more than once in the request`),
        };
      }
      try {
        const record = await ctx.topics.create(
          t.name,
          t.numPartitions ?? -1,
          t.replicationFactor ?? -1,
          t.configs ?? {},
          {
            validateOnly: req.validateOnly ?? false,
          },
        );
        return {
          name: t.name,
          ...(record.topicId && { topicId: record.topicId }),
          numPartitions: record.partitions,
        };
      } catch (err) {
        return { name: t.name, error: toWireError(err) };
      }
    }),
  );
  return { topics };
}
