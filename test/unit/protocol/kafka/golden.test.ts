/**
 * Golden bytes: record batches captured from kafkajs 2.2.4 by scripts/capture-kafkajs-batches.ts
 * (committed under test/fixtures/record-batches/). They must decode to the recorded inputs, and our
 * builder must re-encode the same records to the same bytes where the codec output is fixed:
 *   none, zstd (same library and level on both sides) — against the committed bytes;
 *   gzip — against kafkajs's live output: both use Node's bundled zlib, whose exact deflate output
 *          may change between Node releases, so comparing with committed bytes would tie the test
 *          to one Node version;
 *   snappy, lz4 — kafkajs's codecs (snappyjs, node-lz4) are different encoders from ours (Google
 *          snappy, lz4_flex), so only the decoded records can agree.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type GoldenCase, toKafkaJsMessage } from '../../../../scripts/capture-kafkajs-batches.ts';
import {
  checkBatch,
  decodeRecordBatch,
  setPartitionLeaderEpoch,
  summarizeRecords,
} from '../../../../src/protocol/kafka/record-batch.ts';
import { RecordBatchBuilder } from '../../../../src/protocol/kafka/record-batch-builder.ts';
import { kafkajsProduceBatch } from './kafkajs-glue.ts';

const DIR = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'record-batches');
const cases = JSON.parse(readFileSync(join(DIR, 'kafkajs-batches.json'), 'utf8')) as GoldenCase[];
const fixture = (c: GoldenCase): Buffer => readFileSync(join(DIR, c.file));
const hexOrNull = (b: Uint8Array | null): string | null =>
  b === null ? null : Buffer.from(b).toString('hex');

/** The manifest's headers flattened in kafkajs's write order (object keys, then array elements). */
function flatHeaders(headers: Record<string, string | string[]> | undefined): [string, string][] {
  return Object.entries(headers ?? {}).flatMap(([k, v]) =>
    (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x]),
  );
}

/** Our builder, configured as kafkajs's non-idempotent defaults (epoch 0, sequence 0, leader epoch 0). */
async function reencode(c: GoldenCase): Promise<Uint8Array> {
  const builder = new RecordBatchBuilder({
    compression: c.compression,
    producerId: c.producer.producerId ?? -1,
    producerEpoch: c.producer.producerEpoch ?? 0,
    baseSequence: c.producer.firstSequence ?? 0,
    isTransactional: c.producer.transactionalId !== undefined,
  });
  for (const m of c.messages) {
    builder.append({
      key: m.key === null ? null : Buffer.from(m.key, 'hex'),
      value: m.value === null ? null : Buffer.from(m.value, 'hex'),
      headers: flatHeaders(m.headers).map(([key, value]) => ({ key, value: Buffer.from(value, 'hex') })),
      timestamp: Number(m.timestamp),
    });
  }
  const batch = await builder.build();
  setPartitionLeaderEpoch(batch, 0, 0); // kafkajs writes 0, a broker overwrites it anyway
  return batch;
}

describe('golden kafkajs batches', () => {
  it('the manifest lists every codec', () => {
    expect(new Set(cases.map((c) => c.compression))).toEqual(
      new Set(['none', 'gzip', 'snappy', 'lz4', 'zstd']),
    );
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: decodes to the recorded inputs', async (_, c) => {
    const bytes = fixture(c);
    expect(checkBatch(bytes)).toBeUndefined();
    const decoded = await decodeRecordBatch(bytes);
    expect(decoded.compression).toBe(c.compression);
    expect(decoded.producerId).toBe(c.producer.producerId ?? -1);
    expect(decoded.isTransactional).toBe(c.producer.transactionalId !== undefined);
    expect(decoded.records).toHaveLength(c.messages.length);
    decoded.records.forEach((r, i) => {
      const m = c.messages[i]!;
      expect(r.offset).toBe(i);
      expect(r.timestamp).toBe(Number(m.timestamp));
      expect(hexOrNull(r.key)).toBe(m.key);
      expect(hexOrNull(r.value)).toBe(m.value);
      expect(r.headers.map((h) => [h.key, hexOrNull(h.value)])).toEqual(flatHeaders(m.headers));
    });
    const timestamps = c.messages.map((m) => Number(m.timestamp));
    expect(decoded.baseTimestamp).toBe(Math.min(...timestamps)); // kafkajs bases deltas on the minimum
    expect(decoded.maxTimestamp).toBe(Math.max(...timestamps));
    expect((await summarizeRecords(bytes)).maxTimestamp).toBe(Math.max(...timestamps));
  });

  const byteExact = cases.filter((c) => c.compression === 'none' || c.compression === 'zstd');
  it.each(byteExact.map((c) => [c.name, c] as const))(
    '%s: our builder re-encodes the committed bytes',
    async (_, c) => {
      const firstIsMin =
        Number(c.messages[0]!.timestamp) === Math.min(...c.messages.map((m) => Number(m.timestamp)));
      const ours = Buffer.from(await reencode(c));
      if (firstIsMin) {
        expect(ours.toString('hex')).toBe(fixture(c).toString('hex'));
      } else {
        // Java and Sluice base the deltas on the first record, kafkajs on the smallest timestamp:
        // the bytes differ, the records do not.
        expect(ours.equals(fixture(c))).toBe(false);
        const [a, b] = await Promise.all([decodeRecordBatch(ours), decodeRecordBatch(fixture(c))]);
        expect(a.records).toEqual(b.records);
      }
    },
  );

  it('gzip: our builder gives the bytes kafkajs gives on this Node', async () => {
    const c = cases.find((x) => x.compression === 'gzip')!;
    const live = await kafkajsProduceBatch(c.messages.map(toKafkaJsMessage), 'gzip');
    expect(Buffer.from(await reencode(c)).toString('hex')).toBe(live.toString('hex'));
  });

  it.each(cases.filter((c) => c.compression !== 'gzip').map((c) => [c.name, c] as const))(
    '%s: kafkajs still produces the committed bytes (the fixtures are what kafkajs sends)',
    async (_, c) => {
      const live = await kafkajsProduceBatch(c.messages.map(toKafkaJsMessage), c.compression, c.producer);
      expect(live.toString('hex')).toBe(fixture(c).toString('hex'));
    },
  );
});
