/** DeleteTopics: per-topic results (parked fetches on a deleted topic answer at once: see broker.ts). */
import type { DeleteTopicsRequest, DeleteTopicsResponse } from '../../protocol/wire/ops.ts';
import type { BrokerContext } from '../broker-context.ts';
import { toWireError } from '../wire-error.ts';

export type DeleteTopicsBody = Omit<DeleteTopicsRequest, 'op'>;

export async function deleteTopics(ctx: BrokerContext, req: DeleteTopicsBody): Promise<DeleteTopicsResponse> {
  const topics = await Promise.all(
    req.topics.map(async (name) => {
      try {
        await ctx.topics.delete(name);
        return { name };
      } catch (err) {
        return { name, error: toWireError(err) };
      }
    }),
  );
  return { topics };
}
