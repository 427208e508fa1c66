/**
 * Test helpers: hand-assembled records and batches (to build the inconsistent ones the builder
 * refuses to write), a seeded PRNG, and an assertion for "throws SluiceError with this code".
 */
import { expect } from 'vitest';
import { SluiceError } from '../../../../src/errors.ts';
import { compress } from '../../../../src/protocol/kafka/compression.ts';
import {
  BATCH_HEADER_SIZE,
  BatchField,
  type CompressionName,
  compressionCode,
  updateCrc,
  writeInt16,
  writeInt32,
  writeInt64,
} from '../../../../src/protocol/kafka/record-batch.ts';
import { sizeOfVarInt, writeVarInt, writeVarLong } from '../../../../src/protocol/kafka/varint.ts';

/** mulberry32: small, fast, good enough to pick mutations reproducibly. */
export function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RawRecord {
  timestampDelta: number;
  offsetDelta: number;
  key?: Uint8Array | null;
  value?: Uint8Array | null;
  headers?: { key: Uint8Array; value: Uint8Array | null }[];
}

/** One record's bytes, written field by field (independently of the builder). */
export function encodeRecord(r: RawRecord): Uint8Array {
  const body = new Uint8Array(
    64 + (r.key?.length ?? 0) + (r.value?.length ?? 0) + 64 * (r.headers?.length ?? 0),
  );
  let p = 0;
  body[p++] = 0;
  p = writeVarLong(body, p, r.timestampDelta);
  p = writeVarInt(body, p, r.offsetDelta);
  for (const field of [r.key ?? null, r.value ?? null]) {
    p = writeVarInt(body, p, field === null ? -1 : field.length);
    if (field) {
      body.set(field, p);
      p += field.length;
    }
  }
  p = writeVarInt(body, p, r.headers?.length ?? 0);
  for (const h of r.headers ?? []) {
    p = writeVarInt(body, p, h.key.length);
    body.set(h.key, p);
    p += h.key.length;
    p = writeVarInt(body, p, h.value === null ? -1 : h.value.length);
    if (h.value) {
      body.set(h.value, p);
      p += h.value.length;
    }
  }
  const out = new Uint8Array(sizeOfVarInt(p) + p);
  out.set(body.subarray(0, p), writeVarInt(out, 0, p));
  return out;
}

export interface BatchFields {
  baseOffset?: number;
  compression?: CompressionName;
  attributes?: number;
  recordsCount?: number;
  lastOffsetDelta?: number;
  baseTimestamp?: number;
  maxTimestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  magic?: number;
}

/** A batch around already-encoded records (compressed when asked), with a correct CRC. */
export async function assembleBatch(records: Uint8Array[], fields: BatchFields = {}): Promise<Uint8Array> {
  const raw = Buffer.concat(records);
  const compression = fields.compression ?? 'none';
  const section = await compress(compression, raw);
  const out = new Uint8Array(BATCH_HEADER_SIZE + section.length);
  out.set(section, BATCH_HEADER_SIZE);
  writeInt64(out, BatchField.baseOffset, fields.baseOffset ?? 0);
  writeInt32(out, BatchField.batchLength, out.length - 12);
  writeInt32(out, BatchField.partitionLeaderEpoch, 0);
  out[BatchField.magic] = fields.magic ?? 2;
  writeInt16(out, BatchField.attributes, fields.attributes ?? compressionCode(compression));
  writeInt32(out, BatchField.lastOffsetDelta, fields.lastOffsetDelta ?? records.length - 1);
  writeInt64(out, BatchField.baseTimestamp, fields.baseTimestamp ?? 1_700_000_000_000);
  writeInt64(out, BatchField.maxTimestamp, fields.maxTimestamp ?? 1_700_000_000_000);
  writeInt64(out, BatchField.producerId, fields.producerId ?? -1);
  writeInt16(out, BatchField.producerEpoch, fields.producerEpoch ?? -1);
  writeInt32(out, BatchField.baseSequence, fields.baseSequence ?? -1);
  writeInt32(out, BatchField.recordsCount, fields.recordsCount ?? records.length);
  updateCrc(out, 0, out.length);
  return out;
}

/** Assert that `fn` throws (or rejects with) a SluiceError of `code`; returns it. */
export async function expectSluiceError(fn: () => unknown, code: string): Promise<SluiceError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe(code);
    return err as SluiceError;
  }
  return expect.fail(`expected SluiceError ${code}`);
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (bytes: Uint8Array | null): string | null =>
  bytes === null ? null : new TextDecoder().decode(bytes);
