/**
 * The WebSocket protocol's consumer-group ops: thin adapters from the wire shapes (ops.ts) to the
 * protocol-neutral group coordinator (src/coordinator) and back. Error codes become wire errors.
 */
import type { ErrorCode } from '../../errors.ts';
import type {
  DeleteGroupsRequest,
  DeleteGroupsResponse,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  FindCoordinatorResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListGroupsRequest,
  ListGroupsResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  SyncGroupRequest,
  SyncGroupResponse,
  WireError,
} from '../../protocol/wire/ops.ts';
import type { BrokerContext } from '../broker-context.ts';
import { wireError } from '../wire-error.ts';

/** Who is asking: the coordinator records it per member (describe shows it). */
export interface ClientInfo {
  clientId: string;
  clientHost: string;
}

function err(code: ErrorCode | undefined): { error?: WireError } {
  return code ? { error: wireError(code) } : {};
}

export function findCoordinator(ctx: BrokerContext): FindCoordinatorResponse {
  return {
    nodeId: ctx.nodeId,
    host: ctx.advertised.host,
    port: ctx.advertised.port,
    kafkaPort: ctx.advertised.kafkaPort,
  };
}

export async function joinGroup(
  ctx: BrokerContext,
  req: JoinGroupRequest,
  client: ClientInfo,
): Promise<JoinGroupResponse> {
  const r = await ctx.coordinator.joinGroup({
    groupId: req.groupId,
    sessionTimeoutMs: req.sessionTimeoutMs,
    rebalanceTimeoutMs: req.rebalanceTimeoutMs ?? req.sessionTimeoutMs,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId ?? null,
    protocolType: req.protocolType,
    protocols: req.protocols,
    reason: req.reason ?? null,
    clientId: client.clientId,
    clientHost: client.clientHost,
    // Our clients always take the member id handed out first (Kafka JoinGroup v4+ behaviour).
    requireKnownMemberId: true,
  });
  const { error, ...rest } = r;
  return { ...rest, ...err(error) };
}

export async function syncGroup(ctx: BrokerContext, req: SyncGroupRequest): Promise<SyncGroupResponse> {
  const { error, ...rest } = await ctx.coordinator.syncGroup({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId ?? null,
    protocolType: req.protocolType ?? null,
    protocolName: req.protocolName ?? null,
    assignments: req.assignments,
  });
  return { ...rest, ...err(error) };
}

export function heartbeat(ctx: BrokerContext, req: HeartbeatRequest): HeartbeatResponse {
  return err(
    ctx.coordinator.heartbeat({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId ?? null,
    }).error,
  );
}

export function leaveGroup(ctx: BrokerContext, req: LeaveGroupRequest): LeaveGroupResponse {
  const r = ctx.coordinator.leaveGroup({
    groupId: req.groupId,
    members: req.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId ?? null,
      reason: m.reason ?? null,
    })),
  });
  return {
    members: r.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      ...err(m.error),
    })),
  };
}

export async function offsetCommit(
  ctx: BrokerContext,
  req: OffsetCommitRequest,
): Promise<OffsetCommitResponse> {
  const r = await ctx.coordinator.offsetCommit({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId ?? null,
    topics: req.topics.map((t) => ({
      name: t.topic,
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        offset: p.offset,
        leaderEpoch: p.leaderEpoch ?? -1,
        metadata: p.metadata ?? null,
      })),
    })),
  });
  return {
    topics: r.topics.map((t) => ({
      topic: t.name,
      partitions: t.partitions.map((p) => ({ partition: p.partition, ...err(p.error) })),
    })),
  };
}

export function offsetFetch(ctx: BrokerContext, req: OffsetFetchRequest): OffsetFetchResponse {
  const r = ctx.coordinator.offsetFetch({
    groupId: req.groupId,
    topics: req.topics ? req.topics.map((t) => ({ name: t.topic, partitions: t.partitions })) : null,
  });
  return {
    ...err(r.error),
    topics: r.topics.map((t) => ({
      topic: t.name,
      partitions: t.partitions.map(({ error, ...p }) => ({ ...p, ...err(error) })),
    })),
  };
}

export function describeGroups(ctx: BrokerContext, req: DescribeGroupsRequest): DescribeGroupsResponse {
  return {
    groups: ctx.coordinator.describeGroups(req.groupIds).map(({ error, ...g }) => ({ ...g, ...err(error) })),
  };
}

export function listGroups(ctx: BrokerContext, req: ListGroupsRequest): ListGroupsResponse {
  return { groups: ctx.coordinator.listGroups(req.states) };
}

export async function deleteGroups(
  ctx: BrokerContext,
  req: DeleteGroupsRequest,
): Promise<DeleteGroupsResponse> {
  const r = await ctx.coordinator.deleteGroups(req.groupIds);
  return { groups: r.map((g) => ({ groupId: g.groupId, ...err(g.error) })) };
}
