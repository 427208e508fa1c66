/**
 * Captures the golden record batches in test/fixtures/record-batches/: what a kafkajs 2.2.4 producer
 * sends (its own Produce v3 encoder, codecs registered as in test/unit/protocol/kafka/kafkajs-glue.ts)
 * for fixed messages with fixed timestamps, so the output is deterministic.
 *
 *   node --import tsx scripts/capture-kafkajs-batches.ts
 *
 * Writes one `kafkajs-<name>.bin` per case and `kafkajs-batches.json`, which lists every case with its
 * inputs (bytes as hex) so that the test can decode, re-encode and compare without this script.
 * The fixtures are meant to be captured once and committed; rerunning only rewrites identical bytes
 * unless kafkajs or a codec library changed (the golden test checks that too).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompressionName } from '../src/protocol/kafka/record-batch.ts';
import {
  type KafkaJsMessage,
  type KafkaJsProducerState,
  kafkajsProduceBatch,
} from '../test/unit/protocol/kafka/kafkajs-glue.ts';

const OUT = join(import.meta.dirname, '..', 'test', 'fixtures', 'record-batches');
const T = 1_700_000_000_000;

/** Messages as stored in the manifest: bytes as hex, headers in kafkajs's object form. */
interface GoldenMessage {
  key: string | null;
  value: string | null;
  headers?: Record<string, string | string[]>;
  timestamp: string;
}

export interface GoldenCase {
  name: string;
  file: string;
  compression: CompressionName;
  producer: KafkaJsProducerState;
  messages: GoldenMessage[];
}

const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');
const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

const common: GoldenMessage[] = [
  {
    key: hex('user-1'),
    value: hex('{"page":"/home","ms":12}'),
    headers: { 'trace-id': hex('abc123'), source: hex('web') },
    timestamp: String(T),
  },
  { key: null, value: bytes.toString('hex'), timestamp: String(T + 5) },
  { key: hex('user-2'), value: null, timestamp: String(T + 2) },
  {
    key: hex('ключ-🔑'),
    value: hex('zażółć gęślą jaźń'),
    headers: { ünïcödé: hex('värde'), dup: [hex('first'), hex('second')] },
    timestamp: String(T + 9),
  },
  { key: '', value: '', headers: { empty: '' }, timestamp: String(T + 9) },
  {
    key: bytes.subarray(250).toString('hex'),
    value: hex('lorem ipsum '.repeat(50)),
    timestamp: String(T + 1000),
  },
];

const cases: GoldenCase[] = [
  ...(['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const).map((compression) => ({
    name: compression,
    file: `kafkajs-${compression}.bin`,
    compression,
    producer: {},
    messages: common,
  })),
  {
    name: 'idempotent-transactional',
    file: 'kafkajs-idempotent-transactional.bin',
    compression: 'none',
    producer: { producerId: 4242, producerEpoch: 3, firstSequence: 17, transactionalId: 'tx-1' },
    messages: common.slice(0, 3),
  },
  {
    // kafkajs bases its deltas on the smallest timestamp, not the first record's.
    name: 'unsorted-timestamps',
    file: 'kafkajs-unsorted-timestamps.bin',
    compression: 'none',
    producer: {},
    messages: [50, 0, 100, 20].map((d, i) => ({
      key: hex(`k${i}`),
      value: hex(`v${i}`),
      timestamp: String(T + d),
    })),
  },
];

/** The kafkajs form of a manifest message. */
export function toKafkaJsMessage(m: GoldenMessage): KafkaJsMessage {
  const buf = (h: string): Buffer => Buffer.from(h, 'hex');
  const headers: Record<string, Buffer | Buffer[]> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = Array.isArray(v) ? v.map(buf) : buf(v);
  return {
    key: m.key === null ? null : buf(m.key),
    value: m.value === null ? null : buf(m.value),
    ...(m.headers ? { headers } : {}),
    timestamp: m.timestamp,
  };
}

async function main(): Promise<void> {
  for (const c of cases) {
    const batch = await kafkajsProduceBatch(c.messages.map(toKafkaJsMessage), c.compression, c.producer);
    writeFileSync(join(OUT, c.file), batch);
    console.log(`${c.file}: ${batch.length} bytes`);
  }
  writeFileSync(join(OUT, 'kafkajs-batches.json'), `${JSON.stringify(cases, null, 2)}\n`);
}

if (import.meta.filename === process.argv[1]) await main();
