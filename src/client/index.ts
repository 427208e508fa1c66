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
export type { BackoffOptions } from './backoff.ts';
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
export { murmur2, partitionForKey } from './partitioner.ts';
export {
  PRODUCER_DEFAULTS,
  Producer,
  type ProducerOptions,
  type ProducerRecordInput,
  type RecordMetadata,
} from './producer.ts';
export type { ClientSocket, SocketFactory, SocketHandlers } from './socket.ts';
export type { ClientTransport, RequestOptions } from './transport.ts';
