/**
 * kafkajs 2.2.4 as a reference implementation of RecordBatch v2, for interop tests and for
 * scripts/capture-kafkajs-batches.ts: its Produce v3 request encoder (exactly what a kafkajs producer
 * puts on the wire) and its record-batch decoder (what a kafkajs consumer reads), with codecs
 * registered the way a kafkajs user would.
 *
 * kafkajs has no type declarations for these internals; the interfaces below describe only what we use.
 */
import { createRequire } from 'node:module';
import * as zstd from '@mongodb-js/zstd';
import type { CompressionName } from '../../../../src/protocol/kafka/record-batch.ts';

const require = createRequire(import.meta.url);

interface KafkaJsEncoder {
  buffer: Buffer;
}
interface KafkaJsCodec {
  compress(encoder: KafkaJsEncoder): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}
interface KafkaJsLong {
  toString(): string;
}

/** A kafkajs producer message (`producer.send({ messages })`). */
export interface KafkaJsMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[]>;
  timestamp?: string;
}

/** A record as kafkajs's decoder returns it. */
export interface KafkaJsRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
}

export interface KafkaJsBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  timestampType: number;
  records: KafkaJsRecord[];
}

const kafkajs = require('kafkajs') as {
  CompressionTypes: { None: number; GZIP: number; Snappy: number; LZ4: number; ZSTD: number };
  CompressionCodecs: Record<number, () => KafkaJsCodec>;
};
const Long = require('kafkajs/src/utils/long') as { fromValue(value: number | string): KafkaJsLong };
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;
const decodeRecordBatchV0 = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  decoder: unknown,
) => Promise<KafkaJsBatch>;
const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as (args: object) => {
  encode(): Promise<KafkaJsEncoder>;
};
const SnappyCodec = require('kafkajs-snappy') as () => KafkaJsCodec;
const LZ4Codec = require('kafkajs-lz4') as new () => { codec: () => KafkaJsCodec };

const { CompressionTypes, CompressionCodecs } = kafkajs;
CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec;
// The official @kafkajs/zstd codec does not build on Node 20, so kafkajs's zstd slot is backed by
// @mongodb-js/zstd (level 3, Kafka's default), registered exactly as a kafkajs user registers a codec.
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: (encoder) => zstd.compress(encoder.buffer, 3),
  decompress: (buffer) => zstd.decompress(buffer),
});

const KAFKAJS_TYPES: Record<CompressionName, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

export interface KafkaJsProducerState {
  producerId?: number;
  producerEpoch?: number;
  firstSequence?: number;
  transactionalId?: string;
}

/**
 * The record batch a kafkajs producer sends for `messages` (one partition): the Produce v3 request
 * is encoded by kafkajs and the batch is cut out of it. Messages without a timestamp get Date.now().
 */
export async function kafkajsProduceBatch(
  messages: KafkaJsMessage[],
  compression: CompressionName = 'none',
  producer: KafkaJsProducerState = {},
): Promise<Buffer> {
  const request = produceV3({
    acks: -1,
    timeout: 30000,
    compression: KAFKAJS_TYPES[compression],
    transactionalId: producer.transactionalId ?? null,
    producerId: Long.fromValue(producer.producerId ?? -1),
    producerEpoch: producer.producerEpoch ?? 0,
    topicData: [
      { topic: 't', partitions: [{ partition: 0, firstSequence: producer.firstSequence, messages }] },
    ],
  });
  const body = (await request.encode()).buffer;
  // transactional_id (nullable int16 string) · acks int16 · timeout int32 · [topic] count int32 ·
  // topic string · [partition] count int32 · partition int32 · record_set size int32 · record_set
  let pos = 0;
  const txLength = body.readInt16BE(pos);
  pos += 2 + Math.max(0, txLength) + 2 + 4 + 4;
  pos += 2 + body.readInt16BE(pos) + 4 + 4;
  const size = body.readInt32BE(pos);
  pos += 4;
  return Buffer.from(body.subarray(pos, pos + size));
}

/** Decode one record batch with kafkajs's consumer-side decoder. */
export async function kafkajsDecodeBatch(batch: Uint8Array): Promise<KafkaJsBatch> {
  return decodeRecordBatchV0(new Decoder(Buffer.from(batch)));
}
