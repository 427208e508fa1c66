/**
 * Produce (API key 0), v0–9 → the produce handler. v7 is what kafkajs and librdkafka send.
 *
 * Only v3+ carry RecordBatch v2, the one format Sluice stores; v0–2 (message formats v0/v1) are
 * advertised all the same because librdkafka 2.0.2 (up to 2.11.0) compresses with gzip, snappy or lz4
 * only when the broker's Produce range reaches down to v0 (rd_kafka_msgset_writer_select_MsgVersion
 * asks for a Produce version in [0, 0]); Kafka itself advertised v0 until 4.0. A v0–2 request is
 * answered per partition with INVALID_RECORD (Kafka answers magic-2 batches in v0–2 the same way; it
 * would up-convert magic 0/1, which Sluice does not).
 *
 * Each partition's records travel to the engine exactly as received (a view into the request frame;
 * the engine validates: one whole batch, magic 2, CRC, sizes, idempotence). Checked here because they
 * depend on the Kafka request itself: acks ∈ {-1, 0, 1} (INVALID_REQUIRED_ACKS), no transactional id
 * (transactions are not supported), records present, and no zstd below v7
 * (UNSUPPORTED_COMPRESSION_TYPE, as Kafka: older clients cannot read zstd back).
 *
 * acks=0 gets no response at all; if any partition failed the connection is closed instead, which is
 * how Kafka tells an acks=0 producer.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { PartitionProduceResponse } from '../../protocol/kafka/messages/produce.ts';
import { attributesCodec, BatchField, Compression, MAGIC_V2 } from '../../protocol/kafka/record-batch.ts';
import type { ProducePartitionResponse, ProduceRequest, WireError } from '../../protocol/wire/ops.ts';
import { produce } from '../handlers/produce.ts';
import { wireError } from '../wire-error.ts';
import { type KafkaApi, NoResponse } from './kafka-api.ts';
import { kafkaError } from './kafka-error.ts';
import { PartitionSplit } from './partition-split.ts';

/** The first Produce version that carries RecordBatch v2. */
const RECORD_BATCH_V2_VERSION = 3;
/** The first Produce version whose clients can handle zstd. */
const ZSTD_MIN_VERSION = 7;

function refuse(
  version: number,
  acks: number,
  transactionalId: string | null | undefined,
  records: Uint8Array | null,
): WireError | undefined {
  if (acks !== -1 && acks !== 0 && acks !== 1)
    return wireError('INVALID_REQUIRED_ACKS', `acks must be -1, 0 or 1, got ${acks}`);
  if (transactionalId !== null && transactionalId !== undefined)
    return wireError('INVALID_REQUEST', 'Sluice does not support transactions (transactional.id)');
  if (records === null || records.byteLength === 0)
    return wireError('INVALID_RECORD', 'a produce request needs one record batch per partition');
  if (version < RECORD_BATCH_V2_VERSION) {
    return wireError(
      'INVALID_RECORD',
      `Sluice stores record batches v2 (magic 2) only, which need Produce v${RECORD_BATCH_V2_VERSION} or later (this request is v${version})`,
    );
  }
  if (
    version < ZSTD_MIN_VERSION &&
    records.byteLength > BatchField.attributes + 1 &&
    records[BatchField.magic] === MAGIC_V2 &&
    // The codec bits sit in the low byte of the big-endian int16 attributes.
    attributesCodec(records[BatchField.attributes + 1]!) === Compression.zstd
  ) {
    return wireError(
      'UNSUPPORTED_COMPRESSION_TYPE',
      `zstd needs Produce v${ZSTD_MIN_VERSION} or later (this request is v${version})`,
    );
  }
  return undefined;
}

function toKafkaPartition(p: ProducePartitionResponse): PartitionProduceResponse {
  const { errorCode, errorMessage } = kafkaError(p.error);
  return {
    index: p.partition,
    errorCode,
    baseOffset: p.baseOffset,
    logAppendTimeMs: p.logAppendTime,
    logStartOffset: p.logStartOffset,
    recordErrors: [],
    errorMessage,
  };
}

export const produceApi: KafkaApi<typeof API_KEYS.Produce> = {
  apiKey: API_KEYS.Produce,
  versions: [0, 9],
  concurrent: true,
  async handle({ apiVersion, body }, { ctx }) {
    const { acks, timeoutMs, transactionalId, topicData } = body;
    const split = new PartitionSplit<
      ProduceRequest['topics'][number]['partitions'][number],
      ProducePartitionResponse
    >(
      topicData.map((t) => ({ name: t.name, partitions: t.partitionData })),
      (ti, pi) => {
        const p = topicData[ti]!.partitionData[pi]!;
        const error = refuse(apiVersion, acks, transactionalId, p.records);
        if (error)
          return {
            answer: { partition: p.index, error, baseOffset: -1, logAppendTime: -1, logStartOffset: -1 },
          };
        return { forward: { partition: p.index, records: p.records! } };
      },
    );
    if (split.forward.length > 0) {
      // No await before this call: pipelined requests reach the engine in the order they arrived.
      const answer = await produce(ctx, { acks: acks as -1 | 0 | 1, timeoutMs, topics: split.forward });
      split.merge(answer.topics);
    }
    if (acks === 0) return new NoResponse(split.results.some((t) => t.some((p) => p.error !== undefined)));
    return {
      responses: topicData.map((t, ti) => ({
        name: t.name,
        partitionResponses: split.results[ti]!.map(toKafkaPartition),
      })),
      throttleTimeMs: 0,
    };
  },
};
