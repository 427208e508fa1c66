/**
 * Sluice client library: Producer, Consumer and Admin over Sluice's WebSocket protocol, for Node and
 * browsers (docs/client.md). Errors are SluiceError with stable `code`s (src/errors.ts): match on
 * `code`, and retry when `retriable` is true.
 */
export { ERRORS, type ErrorCode, SluiceError } from '../errors.ts';
export type { CompressionName } from '../protocol/kafka/record-batch.ts';
export {
  type CompressionCodecs,
  type RecordCursor,
  useCompressionCodecs,
} from '../protocol/kafka/record-batch.ts';
export type { HeaderValue } from '../protocol/kafka/record-batch-builder.ts';
export type { Acks, HelloResponse } from '../protocol/wire/ops.ts';
export {
  Admin,
  AdminError,
  type AdminFailure,
  type AdminOptions,
  type ClusterMetadata,
  type ConfigResourceDescription,
  type CreatedTopic,
  type NewTopic,
  type OffsetQuery,
  type PartitionOffset,
  type TopicDescription,
} from './admin.ts';
export type {
  GroupDescription,
  GroupListing,
  GroupMemberDescription,
  OffsetResetPlan,
  OffsetResetScope,
  OffsetResetTarget,
  PartitionLag,
} from './admin-groups.ts';
export type { Assignor, AssignorMember } from './assignor.ts';
export type { BackoffOptions } from './backoff.ts';
export { type AssignorName, resolveAssignors } from './built-in-assignors.ts';
export {
  CONNECTION_DEFAULTS,
  Connection,
  type ConnectionOptions,
  type ConnectionState,
  type ReconnectOptions,
} from './connection.ts';
export {
  CONSUMER_DEFAULTS,
  Consumer,
  type ConsumerOptions,
  type OffsetResetPolicy,
  type PartitionAssignment,
  type RunOptions,
  type TopicPartition,
} from './consumer.ts';
export { ConsumerBatch, ConsumerRecord, type RecordHeader } from './consumer-batch.ts';
export {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type Subscription,
} from './consumer-protocol.ts';
export { cooperativeStickyAssignor } from './cooperative-sticky-assignor.ts';
export type { RebalanceListener } from './group-assignment.ts';
export type { GroupGeneration } from './group-member.ts';
export {
  CommitFailedError,
  type CommitFailure,
  type CommittedOffset,
  type OffsetAndMetadata,
} from './offset-commits.ts';
export { murmur2, partitionForKey } from './partitioner.ts';
export {
  PRODUCER_DEFAULTS,
  Producer,
  type ProducerOptions,
  type ProducerRecordInput,
  type RecordMetadata,
} from './producer.ts';
export { rangeAssignor } from './range-assignor.ts';
export { roundRobinAssignor } from './round-robin-assignor.ts';
export type { ClientSocket, SocketFactory, SocketHandlers } from './socket.ts';
export type { ClientTransport, RequestOptions } from './transport.ts';
