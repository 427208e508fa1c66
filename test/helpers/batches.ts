/** Test helpers: deterministic record batches and temp directories. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeRecordBatch, iterateBatches } from '../../src/protocol/kafka/record-batch.ts';
import {
  type ProducerRecord,
  RecordBatchBuilder,
  type RecordBatchBuilderOptions,
} from '../../src/protocol/kafka/record-batch-builder.ts';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/storage/log-config.ts';

export function tempDir(prefix = 'sluice-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function logConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...DEFAULT_LOG_CONFIG, ...overrides };
}

export interface BatchSpec extends RecordBatchBuilderOptions {
  count?: number;
  /** Value size in bytes (default 100). */
  valueSize?: number;
  /** Timestamp of record i (default 1_700_000_000_000 + i). */
  timestamp?: (i: number) => number;
  /** Distinguishes batches: goes into keys and values. */
  tag?: string;
}

/** A batch of `count` records with keys `<tag>-k<i>` and values `<tag>-v<i>` padded to valueSize. */
export function makeBatch(spec: BatchSpec = {}): Uint8Array {
  const {
    count = 10,
    valueSize = 100,
    timestamp = (i: number) => 1_700_000_000_000 + i,
    tag = 'b',
    ...options
  } = spec;
  const builder = new RecordBatchBuilder(options);
  for (let i = 0; i < count; i++) builder.append(makeRecord(tag, i, valueSize, timestamp(i)));
  return builder.buildSync();
}

export async function makeCompressedBatch(spec: BatchSpec): Promise<Uint8Array> {
  const {
    count = 10,
    valueSize = 100,
    timestamp = (i: number) => 1_700_000_000_000 + i,
    tag = 'b',
    ...options
  } = spec;
  const builder = new RecordBatchBuilder(options);
  for (let i = 0; i < count; i++) builder.append(makeRecord(tag, i, valueSize, timestamp(i)));
  return builder.build();
}

export function makeRecord(tag: string, i: number, valueSize: number, timestamp: number): ProducerRecord {
  const value = Buffer.alloc(valueSize, 0x61 + (i % 26));
  Buffer.from(`${tag}-v${i}`).copy(value);
  return { key: `${tag}-k${i}`, value, headers: { h: `${tag}-${i}` }, timestamp };
}

/** Split fetched bytes into whole batches (copies, so they outlive the input). */
export function splitBatches(bytes: Uint8Array | undefined): Uint8Array[] {
  if (!bytes) return [];
  return [...iterateBatches(bytes)].map((b) => new Uint8Array(b));
}

/** The batch as stored: baseOffset and partitionLeaderEpoch rewritten, everything else as sent. */
export function asStored(batch: Uint8Array, baseOffset: number, leaderEpoch = 0): Uint8Array {
  const copy = new Uint8Array(batch);
  const view = new DataView(copy.buffer);
  view.setBigInt64(0, BigInt(baseOffset));
  view.setInt32(12, leaderEpoch);
  return copy;
}

export async function recordsOf(bytes: Uint8Array | undefined) {
  const out = [];
  for (const b of splitBatches(bytes)) out.push(...(await decodeRecordBatch(b)).records);
  return out;
}

/** The n-th batch the kill -9 child writes to partition p (deterministic, so it can be checked). */
export function killBatch(p: number, n: number): Uint8Array {
  return makeBatch({ count: 10, valueSize: 100, tag: `p${p}-n${n}`, timestamp: () => 1_700_000_000_000 + n });
}
