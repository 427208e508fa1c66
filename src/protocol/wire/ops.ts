/**
 * Request and response shapes of Sluice's WebSocket protocol, version 1 (docs/protocol.md explains
 * each one). Shared by the broker and the client library; pure types and constants, no I/O.
 */

export const PROTOCOL_VERSION = 1;

/** Error as it travels in a response (whole request, or one topic/partition/resource). */
export interface WireError {
  code: string;
  message: string;
  retriable: boolean;
}

export interface HelloRequest {
  op: 'hello';
  clientId?: string;
  protocolVersion: number;
}
export interface HelloResponse {
  protocolVersion: number;
  server: 'sluice';
  serverVersion: string;
  nodeId: number;
  maxFrameBytes: number;
  maxInFlight: number;
}

export interface MetadataRequest {
  op: 'metadata';
  topics?: string[] | null;
  allowAutoTopicCreation?: boolean;
}
export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  kafkaPort: number;
}
export interface PartitionMetadata {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}
export interface TopicMetadata {
  name: string;
  topicId: string;
  isInternal: boolean;
  error?: WireError;
  partitions: PartitionMetadata[];
}
export interface MetadataResponse {
  clusterId: string;
  controllerId: number;
  brokers: BrokerInfo[];
  topics: TopicMetadata[];
}

export interface CreateTopicsRequest {
  op: 'createTopics';
  validateOnly?: boolean;
  topics: {
    name: string;
    numPartitions?: number;
    replicationFactor?: number;
    configs?: Record<string, string>;
  }[];
}
export interface CreateTopicsResponse {
  topics: { name: string; topicId?: string; numPartitions?: number; error?: WireError }[];
}

export interface DeleteTopicsRequest {
  op: 'deleteTopics';
  topics: string[];
}
export interface DeleteTopicsResponse {
  topics: { name: string; error?: WireError }[];
}

export interface CreatePartitionsRequest {
  op: 'createPartitions';
  validateOnly?: boolean;
  topics: { name: string; count: number }[];
}
export interface CreatePartitionsResponse {
  topics: { name: string; error?: WireError }[];
}

export type ConfigResourceType = 'topic' | 'broker';
export interface ConfigEntry {
  name: string;
  value: string | null;
  source: 'TOPIC' | 'BROKER' | 'DEFAULT';
  isDefault: boolean;
  readOnly: boolean;
  sensitive: boolean;
}
export interface DescribeConfigsRequest {
  op: 'describeConfigs';
  resources: { type: ConfigResourceType; name: string; keys?: string[] }[];
}
export interface DescribeConfigsResponse {
  resources: { type: ConfigResourceType; name: string; error?: WireError; configs: ConfigEntry[] }[];
}

export interface AlterConfigsRequest {
  op: 'alterConfigs';
  validateOnly?: boolean;
  resources: { type: 'topic'; name: string; set?: Record<string, string>; delete?: string[] }[];
}
export interface AlterConfigsResponse {
  resources: { type: 'topic'; name: string; error?: WireError }[];
}

export type Acks = -1 | 0 | 1;
export interface ProduceRequest {
  op: 'produce';
  acks: Acks;
  timeoutMs?: number;
  transactionalId?: string | null;
  topics: { topic: string; partitions: { partition: number; records: Uint8Array }[] }[];
}
export interface ProducePartitionResponse {
  partition: number;
  error?: WireError;
  baseOffset: number;
  logAppendTime: number;
  logStartOffset: number;
}
export interface ProduceResponse {
  topics: { topic: string; partitions: ProducePartitionResponse[] }[];
}

export interface FetchRequest {
  op: 'fetch';
  maxWaitMs: number;
  minBytes?: number;
  maxBytes?: number;
  isolationLevel?: 0 | 1;
  topics: { topic: string; partitions: { partition: number; offset: number; maxBytes?: number }[] }[];
}
export interface FetchPartitionResponse {
  partition: number;
  error?: WireError;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  records: Uint8Array | null;
}
export interface FetchResponse {
  topics: { topic: string; partitions: FetchPartitionResponse[] }[];
}

/** ListOffsets special timestamps, as in Kafka. */
export const OffsetSpec = { latest: -1, earliest: -2, maxTimestamp: -3 } as const;
export interface ListOffsetsRequest {
  op: 'listOffsets';
  isolationLevel?: 0 | 1;
  topics: { topic: string; partitions: { partition: number; timestamp: number }[] }[];
}
export interface ListOffsetsResponse {
  topics: {
    topic: string;
    partitions: { partition: number; error?: WireError; offset: number; timestamp: number }[];
  }[];
}

export interface InitProducerIdRequest {
  op: 'initProducerId';
  transactionalId?: string | null;
  producerId?: number;
  producerEpoch?: number;
}
export interface InitProducerIdResponse {
  producerId: number;
  producerEpoch: number;
}

// --- consumer groups (docs/protocol.md, "Consumer groups"): Kafka's classic group protocol ---

export interface FindCoordinatorRequest {
  op: 'findCoordinator';
  key: string;
  /** 0 = group (the only kind here). */
  keyType?: number;
}
export interface FindCoordinatorResponse {
  nodeId: number;
  host: string;
  port: number;
  kafkaPort: number;
}

export interface JoinGroupRequest {
  op: 'joinGroup';
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs?: number;
  memberId: string;
  groupInstanceId?: string | null;
  protocolType: string;
  protocols: { name: string; metadata: Uint8Array }[];
  reason?: string | null;
}
export interface JoinGroupResponse {
  error?: WireError;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Uint8Array }[];
}

export interface SyncGroupRequest {
  op: 'syncGroup';
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId?: string | null;
  protocolType?: string | null;
  protocolName?: string | null;
  assignments: { memberId: string; assignment: Uint8Array }[];
}
export interface SyncGroupResponse {
  error?: WireError;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Uint8Array;
}

export interface HeartbeatRequest {
  op: 'heartbeat';
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId?: string | null;
}
export interface HeartbeatResponse {
  error?: WireError;
}

export interface LeaveGroupRequest {
  op: 'leaveGroup';
  groupId: string;
  members: { memberId: string; groupInstanceId?: string | null; reason?: string | null }[];
}
export interface LeaveGroupResponse {
  members: { memberId: string; groupInstanceId: string | null; error?: WireError }[];
}

export interface OffsetCommitRequest {
  op: 'offsetCommit';
  groupId: string;
  /** -1 with memberId '' for a commit outside any generation (groups without members). */
  generationId: number;
  memberId: string;
  groupInstanceId?: string | null;
  topics: {
    topic: string;
    partitions: { partition: number; offset: number; leaderEpoch?: number; metadata?: string | null }[];
  }[];
}
export interface OffsetCommitResponse {
  topics: { topic: string; partitions: { partition: number; error?: WireError }[] }[];
}

export interface OffsetFetchRequest {
  op: 'offsetFetch';
  groupId: string;
  /** null or absent: every partition the group has committed. */
  topics?: { topic: string; partitions: number[] }[] | null;
}
export interface OffsetFetchResponse {
  error?: WireError;
  topics: {
    topic: string;
    partitions: {
      partition: number;
      offset: number;
      leaderEpoch: number;
      metadata: string;
      error?: WireError;
    }[];
  }[];
}

export interface DescribeGroupsRequest {
  op: 'describeGroups';
  groupIds: string[];
}
export interface DescribeGroupsResponse {
  groups: {
    groupId: string;
    error?: WireError;
    state: string;
    protocolType: string;
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
  }[];
}

export interface ListGroupsRequest {
  op: 'listGroups';
  states?: string[];
}
export interface ListGroupsResponse {
  groups: { groupId: string; protocolType: string; state: string }[];
}

export interface DeleteGroupsRequest {
  op: 'deleteGroups';
  groupIds: string[];
}
export interface DeleteGroupsResponse {
  groups: { groupId: string; error?: WireError }[];
}

/** Every op with its request and response type. */
export interface Ops {
  hello: [HelloRequest, HelloResponse];
  metadata: [MetadataRequest, MetadataResponse];
  createTopics: [CreateTopicsRequest, CreateTopicsResponse];
  deleteTopics: [DeleteTopicsRequest, DeleteTopicsResponse];
  createPartitions: [CreatePartitionsRequest, CreatePartitionsResponse];
  describeConfigs: [DescribeConfigsRequest, DescribeConfigsResponse];
  alterConfigs: [AlterConfigsRequest, AlterConfigsResponse];
  produce: [ProduceRequest, ProduceResponse];
  fetch: [FetchRequest, FetchResponse];
  listOffsets: [ListOffsetsRequest, ListOffsetsResponse];
  initProducerId: [InitProducerIdRequest, InitProducerIdResponse];
  findCoordinator: [FindCoordinatorRequest, FindCoordinatorResponse];
  joinGroup: [JoinGroupRequest, JoinGroupResponse];
  syncGroup: [SyncGroupRequest, SyncGroupResponse];
  heartbeat: [HeartbeatRequest, HeartbeatResponse];
  leaveGroup: [LeaveGroupRequest, LeaveGroupResponse];
  offsetCommit: [OffsetCommitRequest, OffsetCommitResponse];
  offsetFetch: [OffsetFetchRequest, OffsetFetchResponse];
  describeGroups: [DescribeGroupsRequest, DescribeGroupsResponse];
  listGroups: [ListGroupsRequest, ListGroupsResponse];
  deleteGroups: [DeleteGroupsRequest, DeleteGroupsResponse];
}

export type OpName = keyof Ops;
export type OpRequest<K extends OpName> = Ops[K][0];
export type OpResponse<K extends OpName> = Ops[K][1];
export type AnyRequest = { [K in OpName]: Ops[K][0] }[OpName];

/** The body of a request: everything but `op` (and `id`, which the envelope adds). */
export type OpBody<K extends OpName> = Omit<OpRequest<K>, 'op'>;

export const OP_NAMES: readonly OpName[] = [
  'hello',
  'metadata',
  'createTopics',
  'deleteTopics',
  'createPartitions',
  'describeConfigs',
  'alterConfigs',
  'produce',
  'fetch',
  'listOffsets',
  'initProducerId',
  'findCoordinator',
  'joinGroup',
  'syncGroup',
  'heartbeat',
  'leaveGroup',
  'offsetCommit',
  'offsetFetch',
  'describeGroups',
  'listGroups',
  'deleteGroups',
];
