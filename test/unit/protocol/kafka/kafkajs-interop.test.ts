/**
 * Interop with kafkajs 2.2.4 both ways: batches its producer encodes must decode identically with
 * ours, and batches our builder encodes must decode with its consumer-side decoder. Every codec:
 * gzip is built into kafkajs, snappy and lz4 come from kafkajs-snappy / kafkajs-lz4, zstd from
 * @mongodb-js/zstd registered as a kafkajs codec (see kafkajs-glue.ts for why).
 */
import { describe, expect, it } from 'vitest';
import {
  type CompressionName,
  checkBatch,
  type DecodedRecord,
  decodeRecordBatch,
  readBatchHeader,
  setBaseOffset,
  setMaxTimestampAndType,
  summarizeRecords,
} from '../../../../src/protocol/kafka/record-batch.ts';
import {
  type ProducerRecord,
  RecordBatchBuilder,
} from '../../../../src/protocol/kafka/record-batch-builder.ts';
import { seeded } from './batch-helpers.ts';
import {
  type KafkaJsMessage,
  type KafkaJsRecord,
  kafkajsDecodeBatch,
  kafkajsProduceBatch,
} from './kafkajs-glue.ts';

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const T = 1_700_000_000_000;

/** Our decoded record in kafkajs's shape (string offsets/timestamps, headers grouped by key). */
function asKafkaJs(
  r: DecodedRecord,
): Omit<KafkaJsRecord, 'key' | 'value'> & { key: string | null; value: string | null } {
  const headers: Record<string, Buffer | null | (Buffer | null)[]> = {};
  for (const h of r.headers) {
    const value = h.value === null ? null : Buffer.from(h.value);
    const prev = headers[h.key];
    headers[h.key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return {
    offset: String(r.offset),
    timestamp: String(r.timestamp),
    key: r.key === null ? null : Buffer.from(r.key).toString('hex'),
    value: r.value === null ? null : Buffer.from(r.value).toString('hex'),
    headers,
  };
}

function kafkajsRecordView(r: KafkaJsRecord): ReturnType<typeof asKafkaJs> {
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key === null ? null : r.key.toString('hex'),
    value: r.value === null ? null : r.value.toString('hex'),
    headers: r.headers,
  };
}

const messages: KafkaJsMessage[] = [
  {
    key: 'user-1',
    value: 'page view',
    headers: { 'trace-id': 'abc', dup: ['1', '2'] },
    timestamp: String(T),
  },
  { key: null, value: Buffer.from([0, 1, 2, 254, 255]), timestamp: String(T + 7) },
  { key: 'tombstone', value: null, timestamp: String(T + 3) },
  { key: 'ключ', value: 'zażółć gęślą jaźń 🔑', headers: { ünïcödé: 'värde' }, timestamp: String(T + 1) },
  { key: Buffer.alloc(0), value: '', timestamp: String(T + 20) },
  // No timestamp: kafkajs stamps Date.now() and leaves the header timestamps to the others.
  { key: 'late', value: 'x'.repeat(300) },
];

describe('kafkajs producer → Sluice decoder', () => {
  it.each(CODECS)('%s: same records as kafkajs decodes, valid CRC and record structure', async (codec) => {
    const batch = await kafkajsProduceBatch(messages, codec);
    expect(checkBatch(batch)).toBeUndefined();
    const ours = await decodeRecordBatch(batch);
    const theirs = await kafkajsDecodeBatch(batch);
    expect(ours.records.map(asKafkaJs)).toEqual(theirs.records.map(kafkajsRecordView));
    expect(ours.compression).toBe(codec);
    expect(String(ours.baseTimestamp)).toBe(theirs.firstTimestamp);
    expect(String(ours.maxTimestamp)).toBe(theirs.maxTimestamp);
    expect([ours.producerId, ours.producerEpoch, ours.baseSequence]).toEqual([-1, 0, 0]);
    // kafkajs's header max ignores the Date.now()-stamped record; the records tell the truth.
    const summary = await summarizeRecords(batch);
    expect(summary.maxTimestamp).toBe(Math.max(...ours.records.map((r) => r.timestamp)));
    expect(summary.offsetDeltaOfMaxTimestamp).toBe(5);
    expect(summary.allKeysPresent).toBe(false);
    // The inputs, as a check on both decoders.
    expect(ours.records.map((r) => Buffer.from(r.value ?? []).toString())).toEqual(
      messages.map((m) => (m.value === null ? '' : m.value.toString())),
    );
  });

  it('idempotent and transactional producer fields', async () => {
    const batch = await kafkajsProduceBatch(messages.slice(0, 2), 'none', {
      producerId: 9000,
      producerEpoch: 4,
      firstSequence: 41,
      transactionalId: 'tx',
    });
    const header = readBatchHeader(batch);
    expect([header.producerId, header.producerEpoch, header.baseSequence, header.isTransactional]).toEqual([
      9000,
      4,
      41,
      true,
    ]);
    expect(checkBatch(batch)).toBeUndefined();
  });
});

describe('Sluice builder → kafkajs decoder', () => {
  const records: ProducerRecord[] = [
    { key: 'user-1', value: 'page view', headers: { 'trace-id': 'abc' }, timestamp: T },
    { key: null, value: new Uint8Array([0, 1, 2, 254, 255]), timestamp: T - 50 },
    { key: 'tombstone', value: null, timestamp: T + 3 },
    {
      key: 'ключ',
      value: 'zażółć gęślą jaźń 🔑',
      headers: [
        { key: 'ünïcödé', value: 'värde' },
        { key: 'dup', value: '1' },
        { key: 'dup', value: null },
        { key: 'nothing', value: null },
      ],
      timestamp: T + 1,
    },
    { key: '', value: '', timestamp: T + 20 },
  ];

  it.each(CODECS)('%s: kafkajs reads the same records and header fields', async (codec) => {
    const builder = new RecordBatchBuilder({
      compression: codec,
      producerId: 77,
      producerEpoch: 1,
      baseSequence: 5,
    });
    for (const r of records) builder.append(r);
    const batch = await builder.build();
    const theirs = await kafkajsDecodeBatch(batch);
    const ours = await decodeRecordBatch(batch);
    expect(theirs.records.map(kafkajsRecordView)).toEqual(ours.records.map(asKafkaJs));
    expect(theirs.records.map((r) => r.timestamp)).toEqual(
      ['0', '-50', '3', '1', '20'].map((d) => String(T + Number(d))),
    );
    expect(theirs.records[3]!.headers).toEqual({
      ünïcödé: Buffer.from('värde'),
      dup: [Buffer.from('1'), null],
      nothing: null,
    });
    expect(theirs).toMatchObject({
      firstOffset: '0',
      firstTimestamp: String(T),
      maxTimestamp: String(T + 20),
      lastOffsetDelta: 4,
      producerId: '77',
      producerEpoch: 1,
      firstSequence: 5,
      inTransaction: false,
      isControlBatch: false,
    });
  });

  it.each(CODECS)(
    '%s: broker-patched batches (base offset, LogAppendTime) read as Kafka would serve them',
    async (codec) => {
      const builder = new RecordBatchBuilder({ compression: codec });
      for (const r of records) builder.append(r);
      const batch = await builder.build();
      setBaseOffset(batch, 0, 123_456_789_012);
      setMaxTimestampAndType(batch, 0, T + 999, true);
      const theirs = await kafkajsDecodeBatch(batch);
      expect(theirs.records.map((r) => r.offset)).toEqual(
        [0, 1, 2, 3, 4].map((d) => String(123_456_789_012 + d)),
      );
      expect(new Set(theirs.records.map((r) => r.timestamp))).toEqual(new Set([String(T + 999)]));
      expect(theirs.timestampType).toBe(1);
    },
  );

  it.each(CODECS)('%s: 2,000 records of random bytes round-trip both ways', async (codec) => {
    const rand = seeded(codec.length);
    const values = Array.from({ length: 2000 }, () =>
      Buffer.from(Uint8Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 16))),
    );
    const builder = new RecordBatchBuilder({ compression: codec });
    for (const [i, value] of values.entries()) builder.append({ key: `k${i}`, value, timestamp: T + i });
    const theirs = await kafkajsDecodeBatch(await builder.build());
    expect(theirs.records.map((r) => r.value)).toEqual(values);
    const kafkajsBatch = await kafkajsProduceBatch(
      values.map((value, i) => ({ key: `k${i}`, value, timestamp: String(T + i) })),
      codec,
    );
    const ours = await decodeRecordBatch(kafkajsBatch);
    expect(ours.records.map((r) => Buffer.from(r.value!))).toEqual(values);
    expect(ours.records.map((r) => r.offset)).toEqual(values.map((_, i) => i));
  });
});
