/**
 * Hostile bytes: truncated, random and mutated batches (seeded, reproducible) must give a typed
 * error from checkBatch or a SluiceError from the decoders, never another error class, never a hang.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../../src/errors.ts';
import {
  BATCH_HEADER_SIZE,
  BatchField,
  type CompressionName,
  checkBatch,
  decodeRecordBatch,
  findRecordByTimestamp,
  forEachBatch,
  readBatchHeader,
  summarizeRecords,
  summarizeRecordsSync,
  updateCrc,
  writeInt32,
} from '../../../../src/protocol/kafka/record-batch.ts';
import { RecordBatchBuilder } from '../../../../src/protocol/kafka/record-batch-builder.ts';
import { seeded } from './batch-helpers.ts';

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const T = 1_700_000_000_000;
const CODES = new Set(['CORRUPT_MESSAGE', 'INVALID_RECORD', 'UNSUPPORTED_COMPRESSION_TYPE']);

async function validBatches(): Promise<{ name: string; bytes: Uint8Array }[]> {
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const compression of CODECS) {
    const builder = new RecordBatchBuilder({ compression });
    for (let i = 0; i < 5; i++) {
      builder.append({
        key: i === 2 ? null : `key-${i}`,
        value: i === 3 ? null : `value ${i} ${'ab'.repeat(i * 7)}`,
        headers: i % 2 ? { h: `x${i}`, n: null } : undefined,
        timestamp: T + (i % 2 ? -i : i) * 1000,
      });
    }
    out.push({ name: `sluice-${compression}`, bytes: await builder.build() });
  }
  const dir = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'record-batches');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.bin'))) {
    out.push({ name: file, bytes: readFileSync(join(dir, file)) });
  }
  return out;
}

/** Run every reader on `bytes`; each must succeed or throw a SluiceError with a known code. */
async function readAll(bytes: Uint8Array): Promise<{ ok: number; errors: string[] }> {
  const errors: string[] = [];
  let ok = 0;
  const attempts: (() => unknown)[] = [
    () => readBatchHeader(bytes),
    () => decodeRecordBatch(bytes),
    () => summarizeRecords(bytes),
    () => findRecordByTimestamp(bytes, T),
    () => summarizeRecordsSync(bytes),
    () => forEachBatch(bytes, () => {}),
  ];
  for (const attempt of attempts) {
    try {
      await attempt();
      ok++;
    } catch (err) {
      if (!(err instanceof SluiceError)) throw err; // fails the test with the foreign error
      expect(CODES).toContain(err.code);
      errors.push(err.code);
    }
  }
  return { ok, errors };
}

describe('truncation', () => {
  it('every prefix of every valid batch is refused by checkBatch and by every decoder', async () => {
    for (const { name, bytes } of await validBatches()) {
      expect(checkBatch(bytes), name).toBeUndefined();
      for (let length = 0; length < bytes.length; length++) {
        const prefix = bytes.subarray(0, length);
        expect(checkBatch(prefix)?.code, `${name} cut at ${length}`).toBe('CORRUPT_MESSAGE');
        await expect(decodeRecordBatch(prefix)).rejects.toBeInstanceOf(SluiceError);
        await expect(summarizeRecords(prefix)).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
        // A Fetch reader stops silently at a trailing partial batch.
        expect(forEachBatch(prefix, () => expect.fail('visited a partial batch'))).toBe(0);
      }
    }
  }, 60_000);

  it('a records section cut anywhere, with length and CRC made consistent, is refused by the record walk', async () => {
    for (const { name, bytes } of await validBatches()) {
      for (let cut = BATCH_HEADER_SIZE; cut < bytes.length; cut++) {
        const batch = Uint8Array.from(bytes.subarray(0, cut));
        writeInt32(batch, BatchField.batchLength, cut - 12);
        updateCrc(batch, 0, cut);
        expect(checkBatch(batch)).toBeUndefined();
        const { ok, errors } = await readAll(batch);
        // Header and forEachBatch read fine; every record walk fails.
        expect(errors.length, `${name} cut at ${cut}`).toBeGreaterThanOrEqual(3);
        expect(ok).toBeLessThanOrEqual(3);
      }
    }
  }, 60_000);
});

describe('random and mutated bytes', () => {
  it('4,000 random buffers (half with a plausible header) give typed errors only', async () => {
    const rand = seeded(2024);
    for (let i = 0; i < 4000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256));
      if (i % 2 === 0 && bytes.length >= BATCH_HEADER_SIZE) {
        writeInt32(bytes, BatchField.batchLength, bytes.length - 12);
        bytes[BatchField.magic] = 2;
        bytes[BatchField.attributes] = 0;
        bytes[BatchField.attributes + 1] = bytes[BatchField.attributes + 1]! & 0x07;
        if (i % 4 === 0) updateCrc(bytes, 0, bytes.length);
      }
      const check = checkBatch(bytes);
      if (check) expect(CODES).toContain(check.code);
      await readAll(bytes);
    }
  }, 60_000);

  it('5,000 mutations of valid batches: CRC catches them; with the CRC fixed, decoders fail cleanly', async () => {
    const rand = seeded(7);
    const batches = await validBatches();
    let caughtByCrc = 0;
    let passedCheck = 0;
    for (let i = 0; i < 5000; i++) {
      const { bytes: original } = batches[i % batches.length]!;
      const bytes = Uint8Array.from(original);
      const flips = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < flips; k++) {
        // Half the mutations hit the header, where the interesting fields are.
        const at = rand() < 0.5 ? Math.floor(rand() * BATCH_HEADER_SIZE) : Math.floor(rand() * bytes.length);
        bytes[at] = rand() < 0.5 ? bytes[at]! ^ (1 << Math.floor(rand() * 8)) : Math.floor(rand() * 256);
      }
      const fixCrc = i % 2 === 1;
      if (fixCrc) {
        const size = Math.min(bytes.length, Math.max(BATCH_HEADER_SIZE, original.length));
        updateCrc(bytes, 0, size);
      }
      const check = checkBatch(bytes);
      if (check) expect(CODES).toContain(check.code);
      else passedCheck++;
      // Without a CRC fix, any change to a covered byte (8–11, 16–end) must be caught.
      const coveredChange = original.some((b, j) => ((j >= 8 && j < 12) || j >= 16 ? bytes[j] !== b : false));
      if (!fixCrc && coveredChange) {
        expect(check?.code).toBe('CORRUPT_MESSAGE');
        caughtByCrc++;
      }
      await readAll(bytes);
    }
    expect(caughtByCrc).toBeGreaterThan(2000);
    expect(passedCheck).toBeGreaterThan(100); // mutations that reach the record walk
  }, 60_000);
});

describe('compressed garbage', () => {
  it.each(CODECS.filter((c) => c !== 'none'))(
    '%s: a structurally valid batch whose blob is garbage is CORRUPT_MESSAGE',
    async (codec) => {
      const rand = seeded(codec.length * 31);
      const builder = new RecordBatchBuilder({ compression: codec });
      builder.append({ value: 'x'.repeat(1000), timestamp: T });
      const batch = await builder.build();
      for (let i = 0; i < 50; i++) {
        for (let j = BATCH_HEADER_SIZE; j < batch.length; j++) batch[j] = Math.floor(rand() * 256);
        updateCrc(batch, 0, batch.length);
        expect(checkBatch(batch)).toBeUndefined();
        await expect(summarizeRecords(batch)).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
        await expect(decodeRecordBatch(batch)).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
      }
    },
  );
});
