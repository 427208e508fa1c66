/** CreatePartitions: grow topics to a new partition count (never shrinks). */
import type { CreatePartitionsRequest, CreatePartitionsResponse } from '../../protocol/wire/ops.ts';
import type { BrokerContext } from '../broker-context.ts';
import { toWireError } from '../wire-error.ts';

export type CreatePartitionsBody = Omit<CreatePartitionsRequest, 'op'>;

export async function createPartitions(
  ctx: BrokerContext,
  req: CreatePartitionsBody,
): Promise<CreatePartitionsResponse> {
  const topics = await Promise.all(
    req.topics.map(async ({ name, count }) => {
      try {
        await ctx.topics.createPartitions(name, count, req.validateOnly ?? false);
        return { name };
      } catch (err) {
        return { name, error: toWireError(err) };
      }
    }),
  );
  return { topics };
}
