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
import { type FetchReadAhead, fetch } from '../handlers/fetch.ts';
import { initProducerId } from '../handlers/init-producer-id.ts';
import { listOffsets } from '../handlers/list-offsets.ts';
import { metadata } from '../handlers/metadata.ts';
import { produce } from '../handlers/produce.ts';
import type { ClientInfo } from './group-ops.ts';
import * as groups from './group-ops.ts';

/** What a handler knows of the connection a request came on. */
export interface RequestContext extends ClientInfo {
  /** Aborted when the connection closes or the broker shuts down (parked fetches answer at once). */
  signal: AbortSignal;
  /** This connection's fetch read-ahead (handlers/fetch.ts). */
  readAhead: FetchReadAhead;
}

type Handler<K extends OpName> = (
  ctx: BrokerContext,
  req: Extract<AnyRequest, { op: K }>,
  conn: RequestContext,
) => OpResponse<K> | Promise<OpResponse<K>>;

export const WS_HANDLERS: { [K in Exclude<OpName, 'hello'>]: Handler<K> } = {
  metadata: (ctx, req) => metadata(ctx, req),
  createTopics: (ctx, req) => createTopics(ctx, req),
  deleteTopics: (ctx, req) => deleteTopics(ctx, req),
  createPartitions: (ctx, req) => createPartitions(ctx, req),
  describeConfigs: (ctx, req) => describeConfigs(ctx, req),
  alterConfigs: (ctx, req) => alterConfigs(ctx, req),
  produce: (ctx, req) => produce(ctx, req),
  fetch: (ctx, req, conn) => fetch(ctx, req, conn.signal, conn.readAhead),
  listOffsets: (ctx, req) => listOffsets(ctx, req),
  initProducerId: (ctx, req) => initProducerId(ctx, req),
  findCoordinator: (ctx) => groups.findCoordinator(ctx),
  joinGroup: (ctx, req, conn) => groups.joinGroup(ctx, req, conn),
  syncGroup: (ctx, req) => groups.syncGroup(ctx, req),
  heartbeat: (ctx, req) => groups.heartbeat(ctx, req),
  leaveGroup: (ctx, req) => groups.leaveGroup(ctx, req),
  offsetCommit: (ctx, req) => groups.offsetCommit(ctx, req),
  offsetFetch: (ctx, req) => groups.offsetFetch(ctx, req),
  describeGroups: (ctx, req) => groups.describeGroups(ctx, req),
  listGroups: (ctx, req) => groups.listGroups(ctx, req),
  deleteGroups: (ctx, req) => groups.deleteGroups(ctx, req),
};
