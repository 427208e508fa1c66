/**
 * The WebSocket front door's operation table: one protocol-neutral handler per op (src/router/handlers),
 * shared with the Kafka front door. `hello` is answered by the connection itself.
 */
import type { AnyRequest, OpName, OpResponse } from '../../protocol/wire/ops.ts';
import type { BrokerContext } from '../broker-context.ts';
import { alterConfigs } from '../handlers/alter-configs.ts';
import { createPartitions } from '../handlers/create-partitions.ts';
import { createTopics } from '../handlers/create-topics.ts';
import { deleteTopics } from '../handlers/delete-topics.ts';
import { describeConfigs } from '../handlers/describe-configs.ts';
import { fetch } from '../handlers/fetch.ts';
import { initProducerId } from '../handlers/init-producer-id.ts';
import { listOffsets } from '../handlers/list-offsets.ts';
import { metadata } from '../handlers/metadata.ts';
import { produce } from '../handlers/produce.ts';

type Handler<K extends OpName> = (
  ctx: BrokerContext,
  req: Extract<AnyRequest, { op: K }>,
  signal: AbortSignal,
) => OpResponse<K> | Promise<OpResponse<K>>;

export const WS_HANDLERS: { [K in Exclude<OpName, 'hello'>]: Handler<K> } = {
  metadata: (ctx, req) => metadata(ctx, req),
  createTopics: (ctx, req) => createTopics(ctx, req),
  deleteTopics: (ctx, req) => deleteTopics(ctx, req),
  createPartitions: (ctx, req) => createPartitions(ctx, req),
  describeConfigs: (ctx, req) => describeConfigs(ctx, req),
  alterConfigs: (ctx, req) => alterConfigs(ctx, req),
  produce: (ctx, req) => produce(ctx, req),
  fetch: (ctx, req, signal) => fetch(ctx, req, signal),
  listOffsets: (ctx, req) => listOffsets(ctx, req),
  initProducerId: (ctx, req) => initProducerId(ctx, req),
};
