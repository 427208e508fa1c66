/**
 * Log compaction on a real PartitionLog in temp directories: latest value per key, offsets kept,
 * reads and time lookups over compacted ranges, every codec, tombstones and delete.retention.ms
 * (injected clock), compact,delete retention, min.compaction.lag.ms, the dirty ratio, the active
 * segment left alone, and segments merged across passes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Attribute,
  type CompressionName,
  type DecodedRecord,
  decodeRecordBatch,
  iterateBatches,
} from '../../../src/protocol/kafka/record-batch.ts';
import { RecordBatchBuilder } from '../../../src/protocol/kafka/record-batch-builder.ts';
import { PartitionLog, prepareBatch } from '../../../src/storage/log.ts';
import type { LogConfig } from '../../../src/storage/log-config.ts';
import { logConfig, tempDir } from '../../helpers/batches.ts';
import {
  activeSegmentBase,
  appendKeyed,
  cleanToEnd,
  type KeyedRecord,
  latestByKey,
  type ReadRecord,
  readAll,
  storedHeaders,
  T0,
} from './compaction-helpers.ts';

const dirs: string[] = [];
function partitionDir(): string {
  const dir = tempDir('sluice-compaction-');
  dirs.push(dir);
  return path.join(dir, 'topic-0');
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function compacted(overrides: Partial<LogConfig> = {}): LogConfig {
  return logConfig({ cleanupPolicy: 'compact', segmentBytes: 2048, indexIntervalBytes: 256, ...overrides });
}

/** Append `rounds` updates to each of `keys` keys, a few records per batch; returns what was appended. */
async function writeUpdates(
  log: PartitionLog,
  config: LogConfig,
  keys: number,
  rounds: number,
  options: { compression?: CompressionName; perBatch?: number; timestamp?: (n: number) => number } = {},
): Promise<ReadRecord[]> {
  const appended: ReadRecord[] = [];
  const perBatch = options.perBatch ?? 3;
  let n = 0;
  let pending: KeyedRecord[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const out = await appendKeyed(log, config, pending, { compression: options.compression ?? 'none' });
    appended.push(
      ...pending.map((r, i) => ({
        offset: out.baseOffset + i,
        key: r.key,
        value: r.value,
        timestamp: r.timestamp!,
      })),
    );
    pending = [];
  };
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < keys; k++) {
      pending.push({
        key: `key-${k}`,
        value: `value-${k}-round-${round}`,
        timestamp: options.timestamp?.(n) ?? T0 + n,
      });
      n++;
      if (pending.length === perBatch) await flush();
    }
  }
  await flush();
  return appended;
}

describe('log compaction', () => {
  it('keeps only the newest value of each key, at its original offset, and reads stay correct', async () => {
    const dir = partitionDir();
    const config = compacted();
    const log = await PartitionLog.open(dir, config);
    const appended = await writeUpdates(log, config, 7, 60);
    const before = log.stats();
    expect(before.segmentCount).toBeGreaterThan(6);
    const status = log.cleanerStatus();
    expect(status.needsCleaning).toBe(true);
    expect(status.dirtyRatio).toBe(1);

    const progress = await cleanToEnd(log);
    expect(progress.abandoned).toBeUndefined();
    expect(progress.removedRecords).toBeGreaterThan(300);
    const after = log.stats();
    expect(after.logStartOffset).toBe(before.logStartOffset);
    expect(after.logEndOffset).toBe(before.logEndOffset);
    expect(after.sizeBytes).toBeLessThan(before.sizeBytes / 4);
    expect(after.segmentCount).toBeLessThan(before.segmentCount);

    const got = await readAll(log);
    // Every closed-segment key appears once, with its newest value; nothing is served twice.
    const closedEnd = activeSegmentBase(log.dir);
    const closedGot = got.filter((r) => r.offset < closedEnd);
    expect(new Set(closedGot.map((r) => r.key)).size).toBe(closedGot.length);
    const closedLatest = latestByKey(appended.filter((r) => r.offset < closedEnd));
    for (const r of closedGot) expect(r).toEqual(closedLatest.get(r.key));
    expect(got.filter((r) => r.offset >= closedEnd)).toEqual(appended.filter((r) => r.offset >= closedEnd));
    // The newest value of every key is still there, wherever it lives.
    const latest = latestByKey(appended);
    for (const r of latest.values()) expect(got).toContainEqual(r);

    // A read at an offset that was compacted away returns the next retained batch.
    const retained = new Set(got.map((r) => r.offset));
    const gap = appended.find((r) => !retained.has(r.offset) && r.offset > 5)!;
    const next = got.find((r) => r.offset > gap.offset)!;
    const { bytes } = log.read(gap.offset, 1);
    const first = (await readAllFrom(bytes))[0]!;
    expect(first.offset).toBeLessThanOrEqual(next.offset);
    expect((await readAllFrom(bytes)).some((r) => r.offset === next.offset)).toBe(true);

    // Offsets are never reused: appends carry on at the log end.
    const out = await appendKeyed(log, config, [{ key: 'key-0', value: 'after' }]);
    expect(out.baseOffset).toBe(before.logEndOffset);
    await log.close();
  });

  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)(
    'cleans %s batches and recompresses them with the same codec',
    async (codec) => {
      const dir = partitionDir();
      const config = compacted({ segmentBytes: 1500 });
      const log = await PartitionLog.open(dir, config);
      const appended = await writeUpdates(log, config, 5, 40, { compression: codec, perBatch: 4 });
      await cleanToEnd(log);
      const closedEnd = activeSegmentBase(log.dir);
      const got = await readAll(log);
      const closedLatest = latestByKey(appended.filter((r) => r.offset < closedEnd));
      const closedGot = got.filter((r) => r.offset < closedEnd);
      expect(closedGot).toEqual([...closedLatest.values()].sort((a, b) => a.offset - b.offset));
      for (const h of storedHeaders(log)) expect(h.compression).toBe(codec);
      // Thinned batches keep their offset span: lastOffsetDelta as sent, fewer records.
      expect(storedHeaders(log).some((h) => h.recordsCount < h.lastOffsetDelta + 1)).toBe(true);
      await log.close();
    },
  );

  it('keeps tombstones for delete.retention.ms after they were first cleaned, then drops them', async () => {
    const dir = partitionDir();
    let now = T0 + 1_000_000;
    const config = compacted({ deleteRetentionMs: 60_000, segmentBytes: 1024 });
    const log = await PartitionLog.open(dir, config, { now: () => now });
    await writeUpdates(log, config, 4, 10);
    await appendKeyed(log, config, [
      { key: 'key-1', value: null },
      { key: 'key-2', value: null },
    ]);
    const tombstoneOffset = log.logEndOffset - 2;
    // Roll the tombstones into a closed segment.
    for (let i = 0; i < 20; i++)
      await appendKeyed(log, config, [{ key: `filler-${i}`, value: 'x'.repeat(100) }]);
    expect(activeSegmentBase(log.dir)).toBeGreaterThan(tombstoneOffset + 1);

    await cleanToEnd(log);
    let got = await readAll(log);
    expect(got.filter((r) => r.key === 'key-1')).toEqual([
      { offset: tombstoneOffset, key: 'key-1', value: null, timestamp: T0 },
    ]);
    expect(got.filter((r) => r.key === 'key-2').map((r) => r.value)).toEqual([null]);
    expect(got.filter((r) => r.key === 'key-0').length).toBe(1);
    // The tombstones' batch now carries the delete horizon; record timestamps did not change.
    const stamped = storedHeaders(log).find(
      (h) => h.baseOffset <= tombstoneOffset && tombstoneOffset <= h.baseOffset + h.lastOffsetDelta,
    )!;
    expect(stamped.attributes & Attribute.deleteHorizon).toBe(Attribute.deleteHorizon);
    expect(stamped.baseTimestamp).toBe(now + 60_000);
    expect(log.cleanerStatus(now).tombstonesDue).toBe(false);

    // Just before the horizon a pass keeps them; at the horizon the log is due and they go.
    now += 59_999;
    expect(log.cleanerStatus(now).tombstonesDue).toBe(false);
    await cleanToEnd(log, { force: true });
    got = await readAll(log);
    expect(got.filter((r) => r.value === null).length).toBe(2);
    now += 1;
    const due = log.cleanerStatus(now);
    expect(due.tombstonesDue).toBe(true);
    expect(due.needsCleaning).toBe(true);
    await cleanToEnd(log);
    got = await readAll(log);
    expect(got.filter((r) => r.value === null)).toEqual([]);
    expect(got.some((r) => r.key === 'key-1' || r.key === 'key-2')).toBe(false);
    expect(got.filter((r) => r.key === 'key-3').length).toBe(1);
    expect(log.cleanerStatus(now).tombstonesDue).toBe(false);
    await log.close();
  });

  it('applies retention as well with compact,delete', async () => {
    const dir = partitionDir();
    const now = T0 + 10_000;
    const config = compacted({ cleanupPolicy: 'compact,delete', retentionMs: 5_000 });
    const log = await PartitionLog.open(dir, config, { now: () => now });
    // Old records (timestamps T0…), compacted; then recent ones.
    await writeUpdates(log, config, 5, 20, { timestamp: (n) => T0 + n });
    await cleanToEnd(log);
    const recentFrom = log.logEndOffset;
    await writeUpdates(log, config, 5, 40, { timestamp: () => now });
    const retention = log.applyRetention(now);
    expect(retention.deletedSegments).toBeGreaterThan(0);
    expect(log.logStartOffset).toBeGreaterThan(0);
    expect(log.logStartOffset).toBeLessThanOrEqual(recentFrom);
    await cleanToEnd(log);
    const got = await readAll(log);
    expect(got.every((r) => r.timestamp >= now - 5_000)).toBe(true);
    const closedEnd = activeSegmentBase(log.dir);
    const closed = got.filter((r) => r.offset < closedEnd);
    expect(new Set(closed.map((r) => r.key)).size).toBe(closed.length);
    await log.close();
  });

  it('leaves records younger than min.compaction.lag.ms alone', async () => {
    const dir = partitionDir();
    let now = T0 + 100_000;
    const config = compacted({ minCompactionLagMs: 50_000 });
    const log = await PartitionLog.open(dir, config, { now: () => now });
    const old = await writeUpdates(log, config, 4, 20, { timestamp: (n) => T0 + n });
    const youngFrom = log.logEndOffset;
    const young = await writeUpdates(log, config, 4, 20, { timestamp: () => now - 1_000 });
    await writeUpdates(log, config, 1, 5, { timestamp: () => now });
    const status = log.cleanerStatus(now);
    expect(status.firstUncleanableOffset).toBeLessThanOrEqual(youngFrom + 10);
    await cleanToEnd(log);
    const got = await readAll(log);
    // The old part is compacted (its keys appear once), the young part is complete.
    const oldGot = got.filter((r) => r.offset < status.firstUncleanableOffset);
    expect(new Set(oldGot.map((r) => r.key)).size).toBe(oldGot.length);
    expect(oldGot.length).toBeLessThan(old.length);
    for (const r of young.filter((y) => y.offset >= status.firstUncleanableOffset))
      expect(got).toContainEqual(r);
    // Once the lag has passed they become cleanable.
    now += 60_000;
    expect(log.cleanerStatus(now).firstUncleanableOffset).toBe(activeSegmentBase(log.dir));
    await log.close();
  });

  it('waits for min.cleanable.dirty.ratio and never touches the active segment', async () => {
    const dir = partitionDir();
    const config = compacted({ minCleanableDirtyRatio: 0.6, segmentBytes: 4096 });
    const log = await PartitionLog.open(dir, config);
    await writeUpdates(log, config, 300, 2);
    await cleanToEnd(log);
    const activeFile = () => {
      const logs = fs
        .readdirSync(dir)
        .filter((n) => n.endsWith('.log'))
        .sort();
      return path.join(dir, logs.at(-1)!);
    };
    // A little more data, until a closed segment is dirty: below the ratio, so nothing happens.
    for (let i = 0; i < 100 && log.cleanerStatus().dirtyBytes === 0; i++)
      await writeUpdates(log, config, 3, 1);
    const status = log.cleanerStatus();
    expect(status.dirtyBytes).toBeGreaterThan(0);
    expect(status.dirtyRatio).toBeLessThan(0.6);
    expect(status.needsCleaning).toBe(false);
    expect((await log.clean()).swappedGroups).toBe(0);
    // Lots more: due. The active segment's file is byte-for-byte the same after the pass.
    await writeUpdates(log, config, 6, 300);
    expect(log.cleanerStatus().needsCleaning).toBe(true);
    const activeBefore = fs.readFileSync(activeFile());
    const activeName = activeFile();
    await cleanToEnd(log);
    expect(activeFile()).toBe(activeName);
    expect(fs.readFileSync(activeFile()).equals(activeBefore)).toBe(true);
    expect(log.cleanerStatus().dirtyBytes).toBe(0);
    await log.close();
  });

  it('finds the first retained record at or after a timestamp', async () => {
    const dir = partitionDir();
    const config = compacted();
    const log = await PartitionLog.open(dir, config);
    const appended = await writeUpdates(log, config, 5, 40, { timestamp: (n) => T0 + n * 10 });
    await cleanToEnd(log);
    const got = await readAll(log);
    for (const t of [T0 - 5, T0, T0 + 5, T0 + 333, T0 + 1007, T0 + 1500, T0 + 1995]) {
      const want = got.find((r) => r.timestamp >= t);
      const answer = await log.listOffset({ kind: 'timestamp', timestamp: t });
      expect(answer).toEqual(
        want ? { offset: want.offset, timestamp: want.timestamp } : { offset: -1, timestamp: -1 },
      );
    }
    const max = Math.max(...appended.map((r) => r.timestamp));
    expect(await log.listOffset({ kind: 'maxTimestamp' })).toMatchObject({ timestamp: max });
    await log.close();
  });

  it('merges small cleaned segments into fewer, and later passes keep the log compact', async () => {
    const dir = partitionDir();
    const config = compacted({ segmentBytes: 3000 });
    const log = await PartitionLog.open(dir, config);
    const appended: ReadRecord[] = [];
    for (let pass = 0; pass < 4; pass++) {
      appended.push(...(await writeUpdates(log, config, 8, 30)));
      await cleanToEnd(log);
    }
    const got = await readAll(log);
    const closedEnd = activeSegmentBase(log.dir);
    const closed = got.filter((r) => r.offset < closedEnd);
    const closedLatest = latestByKey(appended.filter((r) => r.offset < closedEnd));
    expect(closed).toEqual([...closedLatest.values()].sort((a, b) => a.offset - b.offset));
    expect(log.stats().segmentCount).toBeLessThanOrEqual(4);
    const offsets = got.map((r) => r.offset);
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
    expect(new Set(offsets).size).toBe(offsets.length);
    await log.close();
  });

  it('drops records without a key (written before the topic became compacted)', async () => {
    const dir = partitionDir();
    const deleteConfig = logConfig({ segmentBytes: 1024 });
    let log = await PartitionLog.open(dir, deleteConfig);
    for (let i = 0; i < 30; i++) await appendKeyed(log, deleteConfig, [{ key: `k${i % 3}`, value: `v${i}` }]);
    const keyless = new RecordBatchBuilder();
    keyless.append({ value: 'no key', timestamp: T0 });
    log.append([await prepareBatch(new Uint8Array(keyless.buildSync()), deleteConfig)]);
    for (let i = 0; i < 20; i++) await appendKeyed(log, deleteConfig, [{ key: `k${i % 3}`, value: `w${i}` }]);
    await log.close();
    const config = compacted({ segmentBytes: 1024 });
    log = await PartitionLog.open(dir, config);
    await cleanToEnd(log);
    const got = await readAll(log);
    expect(got.some((r) => r.value === 'no key')).toBe(false);
    await log.close();
  });
});

async function readAllFrom(bytes: Uint8Array | undefined): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = [];
  if (!bytes) return out;
  for (const b of iterateBatches(bytes)) out.push(...(await decodeRecordBatch(b)).records);
  return out;
}
