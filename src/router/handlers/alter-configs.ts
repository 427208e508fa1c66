/** AlterConfigs (incremental): set or remove topic config overrides; partitions pick them up at once. */
import type { AlterConfigsRequest, AlterConfigsResponse } from '../../protocol/wire/ops.ts';
import type { BrokerContext } from '../broker-context.ts';
import { toWireError } from '../wire-error.ts';

export type AlterConfigsBody = Omit<AlterConfigsRequest, 'op'>;

export async function alterConfigs(ctx: BrokerContext, req: AlterConfigsBody): Promise<AlterConfigsResponse> {
  const resources = await Promise.all(
    req.resources.map(async (r) => {
      try {
        await ctx.topics.alterConfigs(r.name, r.set ?? {}, r.delete ?? [], req.validateOnly ?? false);
        return { type: r.type, name: r.name };
      } catch (err) {
        return { type: r.type, name: r.name, error: toWireError(err) };
      }
    }),
  );
  return { resources };
}
