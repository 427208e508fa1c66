/**
 * Protocol-neutral requests and results of the group coordinator. Both front doors (WebSocket and
 * Kafka) translate their wire messages to these and back; the shapes follow Kafka's classic group
 * protocol (JoinGroup … DeleteGroups). Failures are values (`error`), never exceptions.
 */
import type { ErrorCode } from '../errors.ts';

export const GroupState = {
  Empty: 'Empty',
  PreparingRebalance: 'PreparingRebalance',
  CompletingRebalance: 'CompletingRebalance',
  Stable: 'Stable',
  Dead: 'Dead',
} as const;
export type GroupState = (typeof GroupState)[keyof typeof GroupState];

export interface GroupProtocol {
  name: string;
  /** Opaque to the broker (ConsumerProtocol subscription bytes for `consumer` groups). */
  metadata: Uint8Array;
}

export interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  /** Kafka JoinGroup v0 has none: the session timeout is used. */
  rebalanceTimeoutMs: number;
  /** '' on a first join. */
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: GroupProtocol[];
  reason?: string | null;
  clientId: string;
  clientHost: string;
  /** JoinGroup v4+: a first join gets MEMBER_ID_REQUIRED and a member id, then joins again with it. */
  requireKnownMemberId: boolean;
}

export interface JoinGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Uint8Array;
}

export interface JoinGroupResult {
  error?: ErrorCode;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  /** Every member with its metadata for the chosen protocol: filled for the leader only. */
  members: JoinGroupMember[];
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  /** Sent by the leader only: each member's assignment (opaque bytes). */
  assignments: { memberId: string; assignment: Uint8Array }[];
}

export interface SyncGroupResult {
  error?: ErrorCode;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Uint8Array;
}

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveGroupRequest {
  groupId: string;
  members: { memberId: string; groupInstanceId: string | null; reason?: string | null }[];
}

export interface LeaveGroupResult {
  error?: ErrorCode;
  members: { memberId: string; groupInstanceId: string | null; error?: ErrorCode }[];
}

export interface OffsetCommitRequest {
  groupId: string;
  /** -1 with an empty member id: a "simple" commit, allowed when the group has no members. */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  topics: {
    name: string;
    partitions: { partition: number; offset: number; leaderEpoch: number; metadata: string | null }[];
  }[];
}

export interface OffsetCommitResult {
  /** When the whole commit is refused (group-level errors apply to every partition). */
  error?: ErrorCode;
  topics: { name: string; partitions: { partition: number; error?: ErrorCode }[] }[];
}

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
}

export interface OffsetFetchRequest {
  groupId: string;
  /** null: every partition the group has committed. */
  topics: { name: string; partitions: number[] }[] | null;
}

export interface OffsetFetchResult {
  error?: ErrorCode;
  topics: {
    name: string;
    partitions: {
      partition: number;
      offset: number;
      leaderEpoch: number;
      metadata: string;
      error?: ErrorCode;
    }[];
  }[];
}

export interface DescribedGroup {
  groupId: string;
  error?: ErrorCode;
  state: GroupState;
  protocolType: string;
  /** The chosen protocol (assignor) name. */
  protocolName: string;
  generationId: number;
  leader: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Uint8Array;
    assignment: Uint8Array;
  }[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  state: GroupState;
}
