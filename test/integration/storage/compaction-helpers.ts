/** Helpers shared by the log compaction tests: keyed batches, full reads, cleaning to the end. */
import fs from 'node:fs';
import {
  type CompressionName,
  type DecodedRecord,
  decodeRecordBatch,
  iterateBatches,
  readBatchHeader,
} from '../../../src/protocol/kafka/record-batch.ts';
import {
  RecordBatchBuilder,
  type RecordBatchBuilderOptions,
} from '../../../src/protocol/kafka/record-batch-builder.ts';
import { type AppendOutcome, type PartitionLog, prepareBatch } from '../../../src/storage/log.ts';
import type { CleanOptions, CleanProgress } from '../../../src/storage/log-cleaner.ts';
import type { LogConfig } from '../../../src/storage/log-config.ts';

export const T0 = 1_700_000_000_000;

export interface KeyedRecord {
  key: string;
  /** null: a tombstone. */
  value: string | null;
  timestamp?: number;
}

export async function keyedBatch(
  records: KeyedRecord[],
  options: RecordBatchBuilderOptions & { compression?: CompressionName } = {},
): Promise<Uint8Array> {
  const builder = new RecordBatchBuilder(options);
  for (const r of records) builder.append({ key: r.key, value: r.value, timestamp: r.timestamp ?? T0 });
  return new Uint8Array(await builder.build());
}

export async function appendKeyed(
  log: PartitionLog,
  config: LogConfig,
  records: KeyedRecord[],
  options: RecordBatchBuilderOptions = {},
): Promise<Extract<AppendOutcome, { ok: true }>> {
  const prepared = await prepareBatch(await keyedBatch(records, options), config);
  const outcome = log.append([prepared]).outcomes[0]!;
  if (!outcome.ok) throw new Error(`append failed: ${outcome.error.code} ${outcome.error.message}`);
  return outcome;
}

export interface ReadRecord {
  offset: number;
  key: string;
  value: string | null;
  timestamp: number;
}

/** Every record from the log start to the high watermark, through `read` in small fetches. */
export async function readAll(log: PartitionLog, maxBytes = 4096): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  let offset = log.logStartOffset;
  while (offset < log.highWatermark) {
    const { bytes } = log.read(offset, maxBytes);
    if (!bytes) break;
    for (const batch of iterateBatches(bytes)) {
      const decoded = await decodeRecordBatch(batch);
      for (const r of decoded.records) if (r.offset >= offset) out.push(toRead(r));
      offset = decoded.baseOffset + decoded.lastOffsetDelta + 1;
    }
  }
  return out;
}

function toRead(r: DecodedRecord): ReadRecord {
  return {
    offset: r.offset,
    key: Buffer.from(r.key ?? []).toString(),
    value: r.value === null ? null : Buffer.from(r.value).toString(),
    timestamp: r.timestamp,
  };
}

/** The batches the log holds, as stored (header fields and codec), from the start. */
export function storedHeaders(log: PartitionLog) {
  const out = [];
  let offset = log.logStartOffset;
  while (offset < log.highWatermark) {
    const { bytes } = log.read(offset, 1 << 20);
    if (!bytes) break;
    for (const batch of iterateBatches(bytes)) {
      const h = readBatchHeader(batch);
      out.push(h);
      offset = h.baseOffset + h.lastOffsetDelta + 1;
    }
  }
  return out;
}

/** The active segment's base offset: the last `.log` file's name. */
export function activeSegmentBase(dir: string): number {
  const logs = fs
    .readdirSync(dir)
    .filter((n) => /^\d{20}\.log$/.test(n))
    .sort();
  return Number(logs.at(-1)!.slice(0, 20));
}

/** Run cleaning steps until the pass ends; sums the progress. */
export async function cleanToEnd(log: PartitionLog, options: CleanOptions = {}): Promise<CleanProgress> {
  const total: CleanProgress = {
    done: false,
    cleanedBytes: 0,
    removedRecords: 0,
    reclaimedBytes: 0,
    swappedGroups: 0,
  };
  for (let i = 0; i < 10_000; i++) {
    const p = await log.clean(options);
    total.cleanedBytes += p.cleanedBytes;
    total.removedRecords += p.removedRecords;
    total.reclaimedBytes += p.reclaimedBytes;
    total.swappedGroups += p.swappedGroups;
    if (p.abandoned) total.abandoned = p.abandoned;
    if (p.done) {
      total.done = true;
      return total;
    }
  }
  throw new Error('cleaning did not finish');
}

/** The newest value per key, from what was appended (the expected log after compaction). */
export function latestByKey(appended: ReadRecord[]): Map<string, ReadRecord> {
  const latest = new Map<string, ReadRecord>();
  for (const r of appended) latest.set(r.key, r);
  return latest;
}
