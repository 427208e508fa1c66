/**
 * PartitionLog against real files in temp directories: append/read across segment rolls, reads
 * that start inside a batch or are smaller than one batch, offset lookups, retention, truncation,
 * flush policy with group commit, LogAppendTime, and idempotent-producer state across restarts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors.ts';
import { checkBatch, readBatchHeader } from '../../../src/protocol/kafka/record-batch.ts';
import { type AppendOutcome, type LogOptions, PartitionLog, prepareBatch } from '../../../src/storage/log.ts';
import type { LogConfig } from '../../../src/storage/log-config.ts';
import {
  asStored,
  logConfig,
  makeBatch,
  makeCompressedBatch,
  recordsOf,
  splitBatches,
  tempDir,
} from '../../helpers/batches.ts';

const dirs: string[] = [];
function partitionDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return path.join(dir, 'topic-0');
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function appendOne(log: PartitionLog, batch: Uint8Array, config: LogConfig): Promise<AppendOutcome> {
  const prepared = await prepareBatch(batch, config);
  return log.append([prepared]).outcomes[0]!;
}

async function appendOk(log: PartitionLog, batch: Uint8Array, config: LogConfig) {
  const outcome = await appendOne(log, batch, config);
  if (!outcome.ok) throw new Error(`append failed: ${outcome.error.code} ${outcome.error.message}`);
  return outcome;
}

async function open(dir: string, config: LogConfig, options?: LogOptions) {
  return PartitionLog.open(dir, config, options);
}

describe('PartitionLog append and read', () => {
  it('assigns contiguous offsets and reads every batch back byte for byte across segment rolls', async () => {
    const dir = partitionDir();
    const config = logConfig({ segmentBytes: 8 * 1024, indexIntervalBytes: 1024 });
    const log = await open(dir, config);
    const sent: { batch: Uint8Array; base: number }[] = [];
    for (let i = 0; i < 60; i++) {
      const batch = makeBatch({ count: 1 + (i % 7), tag: `b${i}` });
      const outcome = await appendOk(log, new Uint8Array(batch), config);
      sent.push({ batch, base: outcome.baseOffset });
    }
    let expectedBase = 0;
    for (const s of sent) {
      expect(s.base).toBe(expectedBase);
      expectedBase += readBatchHeader(s.batch).recordsCount;
    }
    expect(log.logEndOffset).toBe(expectedBase);
    expect(log.stats().segmentCount).toBeGreaterThan(3);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.log')).length).toBe(log.stats().segmentCount);

    // Read everything back in small fetches.
    const got: Uint8Array[] = [];
    let offset = 0;
    while (offset < log.logEndOffset) {
      const r = log.read(offset, 2000);
      const batches = splitBatches(r.bytes);
      expect(batches.length).toBeGreaterThan(0);
      for (const b of batches) {
        got.push(b);
        const h = readBatchHeader(b);
        offset = h.baseOffset + h.lastOffsetDelta + 1;
      }
    }
    expect(got.length).toBe(sent.length);
    for (let i = 0; i < sent.length; i++) {
      expect(Buffer.from(got[i]!).equals(Buffer.from(asStored(sent[i]!.batch, sent[i]!.base)))).toBe(true);
      expect(checkBatch(got[i]!)).toBeUndefined();
    }
    await log.close();
  });

  it('returns the whole batch that holds the fetch offset, and one whole batch even above maxBytes', async () => {
    const dir = partitionDir();
    const config = logConfig();
    const log = await open(dir, config);
    await appendOk(log, makeBatch({ count: 10, tag: 'a' }), config); // offsets 0..9
    await appendOk(log, makeBatch({ count: 10, tag: 'b' }), config); // 10..19
    const inside = splitBatches(log.read(5, 1_000_000).bytes);
    expect(inside.map((b) => readBatchHeader(b).baseOffset)).toEqual([0, 10]);
    const tiny = splitBatches(log.read(13, 1).bytes);
    expect(tiny.map((b) => readBatchHeader(b).baseOffset)).toEqual([10]);
    const records = await recordsOf(log.read(13, 1).bytes);
    expect(records.map((r) => r.offset)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    // At the high watermark: nothing, no error. Beyond it or below the start: OFFSET_OUT_OF_RANGE.
    expect(log.read(20, 100).bytes).toBeUndefined();
    expect(() => log.read(21, 100)).toThrowError(SluiceError);
    expect(() => log.read(-1, 100)).toThrowError(/outside/);
    await log.close();
  });

  it('rejects corrupt and oversized batches without touching the log', async () => {
    const dir = partitionDir();
    const config = logConfig({ maxMessageBytes: 2000 });
    const log = await open(dir, config);
    const good = makeBatch({ count: 3 });
    const badCrc = new Uint8Array(good);
    badCrc[good.length - 1]! ^= 0xff;
    expect(() => prepareBatch(badCrc, config)).toThrowError(
      expect.objectContaining({ code: 'CORRUPT_MESSAGE' }),
    );
    const wrongMagic = new Uint8Array(good);
    wrongMagic[16] = 1;
    expect(() => prepareBatch(wrongMagic, config)).toThrowError(SluiceError);
    expect(() => prepareBatch(good.subarray(0, 40), config)).toThrowError(
      expect.objectContaining({ code: 'CORRUPT_MESSAGE' }),
    );
    const two = new Uint8Array([...good, ...good]);
    expect(() => prepareBatch(two, config)).toThrowError(
      expect.objectContaining({ code: 'CORRUPT_MESSAGE' }),
    );
    const big = makeBatch({ count: 30, valueSize: 100 });
    expect(() => prepareBatch(big, config)).toThrowError(
      expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }),
    );
    expect(log.logEndOffset).toBe(0);
    await appendOk(log, good, config);
    expect(log.logEndOffset).toBe(3);
    await log.close();
  });

  it('validates and stores compressed batches unchanged (every codec)', async () => {
    const dir = partitionDir();
    const config = logConfig();
    const log = await open(dir, config);
    const codecs = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
    const sent: Uint8Array[] = [];
    for (const compression of codecs) {
      const batch = await makeCompressedBatch({ count: 20, compression, tag: compression });
      sent.push(batch);
      await appendOk(log, batch, config);
    }
    const stored = splitBatches(log.read(0, 10_000_000).bytes);
    expect(stored.length).toBe(4);
    for (let i = 0; i < 4; i++)
      expect(Buffer.from(stored[i]!).equals(Buffer.from(asStored(sent[i]!, i * 20)))).toBe(true);
    const records = await recordsOf(log.read(0, 10_000_000).bytes);
    expect(records.length).toBe(80);
    expect(records.map((r) => r.offset)).toEqual([...Array(80).keys()]);
    await log.close();
  });
});

describe('PartitionLog offset lookups', () => {
  it('finds the first record whose own timestamp is at or after T, across segments and out-of-order timestamps', async () => {
    const dir = partitionDir();
    const config = logConfig({ segmentBytes: 4096, indexIntervalBytes: 512 });
    const log = await open(dir, config);
    // Timestamps wander: each batch's records go up and down, and the header max is what the builder
    // computes; the truth is only in the records.
    const all: { offset: number; timestamp: number }[] = [];
    let next = 0;
    for (let b = 0; b < 40; b++) {
      const ts = (i: number) => 1_000_000 + b * 100 + ((i * 37) % 11) * 10 - 50;
      const batch =
        b % 5 === 4
          ? await makeCompressedBatch({ count: 8, timestamp: ts, compression: 'zstd' })
          : makeBatch({ count: 8, timestamp: ts });
      const o = await appendOk(log, batch, config);
      for (let i = 0; i < 8; i++) all.push({ offset: o.baseOffset + i, timestamp: ts(i) });
      next = o.lastOffset + 1;
    }
    expect(log.logEndOffset).toBe(next);
    expect(log.stats().segmentCount).toBeGreaterThan(2);
    for (const target of [
      0, 999_949, 1_000_000, 1_000_123, 1_001_777, 1_003_000, 1_003_999, 1_004_049, 1_004_051, 9e12,
    ]) {
      const expected = all.find((r) => r.timestamp >= target) ?? { offset: -1, timestamp: -1 };
      expect(await log.listOffset({ kind: 'timestamp', timestamp: target }), `T=${target}`).toEqual(expected);
    }
    const maxTs = Math.max(...all.map((r) => r.timestamp));
    expect(await log.listOffset({ kind: 'maxTimestamp' })).toEqual(all.find((r) => r.timestamp === maxTs));
    expect(await log.listOffset({ kind: 'earliest' })).toEqual({ offset: 0, timestamp: -1 });
    expect(await log.listOffset({ kind: 'latest' })).toEqual({ offset: next, timestamp: -1 });
    await log.close();
  });
});

describe('PartitionLog retention and truncation', () => {
  it('deletes whole segments past retention.ms and moves the log start offset', async () => {
    const dir = partitionDir();
    let now = 2_000_000;
    const config = logConfig({ segmentBytes: 3000, retentionMs: 10_000 });
    const log = await open(dir, config, { now: () => now });
    for (let b = 0; b < 20; b++)
      await appendOk(log, makeBatch({ count: 5, timestamp: () => 1_000_000 + b * 1000 }), config);
    const before = log.stats();
    expect(before.segmentCount).toBeGreaterThan(4);
    // Records up to 1_009_000 are older than 10 s at now = 1_019_500.
    now = 1_019_500;
    const result = log.applyRetention(now);
    expect(result.deletedSegments).toBeGreaterThan(0);
    const after = log.stats();
    expect(after.logStartOffset).toBeGreaterThan(0);
    expect(after.logEndOffset).toBe(100);
    expect(() => log.read(0, 100)).toThrowError(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    const remaining = await recordsOf(log.read(after.logStartOffset, 10_000_000).bytes);
    expect(remaining[0]!.offset).toBe(after.logStartOffset);
    // Every remaining segment holds a record newer than the cut-off.
    expect(remaining.some((r) => r.timestamp >= now - 10_000)).toBe(true);
    // Everything expired: the active segment is rolled and deleted too; the log is empty but keeps its offsets.
    now = 10_000_000;
    log.applyRetention(now);
    expect(log.stats()).toMatchObject({
      logStartOffset: 100,
      logEndOffset: 100,
      segmentCount: 1,
      sizeBytes: 0,
    });
    await log.close();
    const reopened = await open(dir, config, { now: () => now });
    expect(reopened.stats()).toMatchObject({ logStartOffset: 100, logEndOffset: 100 });
    await appendOk(reopened, makeBatch({ count: 2 }), config);
    expect(reopened.logEndOffset).toBe(102);
    await reopened.close();
  });

  it('deletes the oldest closed segments beyond retention.bytes', async () => {
    const dir = partitionDir();
    const config = logConfig({ segmentBytes: 3000, retentionBytes: 6000, retentionMs: -1 });
    const log = await open(dir, config);
    for (let b = 0; b < 30; b++) await appendOk(log, makeBatch({ count: 5 }), config);
    const before = log.stats();
    log.applyRetention(Date.now());
    const after = log.stats();
    // As in Kafka, the log keeps at least retention.bytes: it shrinks to under retention.bytes + one segment.
    expect(after.sizeBytes).toBeGreaterThanOrEqual(6000);
    expect(after.sizeBytes).toBeLessThan(6000 + 3000);
    expect(after.segmentCount).toBeLessThan(before.segmentCount);
    expect(after.logStartOffset).toBeGreaterThan(0);
    await log.close();
  });

  it('truncates whole batches and accepts new appends after the cut', async () => {
    const dir = partitionDir();
    const config = logConfig({ segmentBytes: 3000 });
    const log = await open(dir, config);
    for (let b = 0; b < 20; b++) await appendOk(log, makeBatch({ count: 5 }), config);
    expect(log.truncateTo(52)).toBe(50); // the batch 50..54 holds 52 and goes entirely
    expect(log.logEndOffset).toBe(50);
    const o = await appendOk(log, makeBatch({ count: 3 }), config);
    expect(o.baseOffset).toBe(50);
    const records = await recordsOf(log.read(45, 10_000).bytes);
    expect(records.map((r) => r.offset)).toEqual([45, 46, 47, 48, 49, 50, 51, 52]);
    await log.close();
  });
});

describe('PartitionLog flush policy', () => {
  it('with flush.messages=1 appends wait for an fsync, and one fsync covers many appends (group commit)', async () => {
    const dir = partitionDir();
    const config = logConfig({ flushMessages: 1 });
    let fsyncs = 0;
    const log = await open(dir, config, { onFsync: () => fsyncs++ });
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      const { needsFsync } = log.append([await prepareBatch(makeBatch({ count: 1 }), config)]);
      expect(needsFsync).toBe(true);
      waits.push(log.flush());
    }
    await Promise.all(waits);
    expect(fsyncs).toBeGreaterThan(0);
    expect(fsyncs).toBeLessThan(20);
    expect(log.stats().recoveryPoint).toBe(200);
    await log.close();
  });

  it('without flush settings appends do not wait for fsync', async () => {
    const dir = partitionDir();
    const config = logConfig();
    const log = await open(dir, config);
    const { needsFsync } = log.append([await prepareBatch(makeBatch({ count: 5 }), config)]);
    expect(needsFsync).toBe(false);
    await log.close();
  });

  it('stamps batches with the broker clock on LogAppendTime topics and keeps the CRC valid', async () => {
    const dir = partitionDir();
    const config = logConfig({ messageTimestampType: 'LogAppendTime' });
    const log = await open(dir, config, { now: () => 5_000_000 });
    const o = await appendOk(log, makeBatch({ count: 4, timestamp: () => 123 }), config);
    expect(o.logAppendTime).toBe(5_000_000);
    const stored = splitBatches(log.read(0, 10_000).bytes)[0]!;
    expect(checkBatch(stored)).toBeUndefined();
    const h = readBatchHeader(stored);
    expect(h.timestampType).toBe('LogAppendTime');
    expect(h.maxTimestamp).toBe(5_000_000);
    expect((await recordsOf(stored)).every((r) => r.timestamp === 5_000_000)).toBe(true);
    expect(await log.listOffset({ kind: 'timestamp', timestamp: 4_999_999 })).toEqual({
      offset: 0,
      timestamp: 5_000_000,
    });
    await log.close();
  });
});

describe('PartitionLog idempotent producers', () => {
  const pid = 42;
  const batch = (seq: number, count: number, epoch = 0) =>
    makeBatch({ count, producerId: pid, producerEpoch: epoch, baseSequence: seq, tag: `s${seq}` });

  it('answers duplicates with their original offsets, rejects gaps and stale epochs, accepts epoch bumps at 0', async () => {
    const dir = partitionDir();
    const config = logConfig();
    const log = await open(dir, config);
    const first = await appendOk(log, batch(0, 5), config);
    const second = await appendOk(log, batch(5, 5), config);
    expect([first.baseOffset, second.baseOffset]).toEqual([0, 5]);
    const dup = await appendOk(log, batch(0, 5), config);
    expect(dup).toMatchObject({ baseOffset: 0, lastOffset: 4, duplicate: true });
    expect(log.logEndOffset).toBe(10);
    const gap = await appendOne(log, batch(11, 2), config);
    expect(gap).toMatchObject({ ok: false, error: { code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' } });
    const bumpNotZero = await appendOne(log, batch(3, 2, 1), config);
    expect(bumpNotZero).toMatchObject({ ok: false, error: { code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' } });
    const bump = await appendOk(log, batch(0, 2, 1), config);
    expect(bump.baseOffset).toBe(10);
    const stale = await appendOne(log, batch(10, 2, 0), config);
    expect(stale).toMatchObject({ ok: false, error: { code: 'INVALID_PRODUCER_EPOCH' } });
    expect(log.logEndOffset).toBe(12);
    await log.close();
  });

  it('keeps producer state across a clean restart and across a crash (no clean-shutdown marker)', async () => {
    const dir = partitionDir();
    const config = logConfig({ segmentBytes: 2500 });
    const log = await open(dir, config);
    let seq = 0;
    for (let i = 0; i < 12; i++) {
      await appendOk(log, batch(seq, 3), config);
      seq += 3;
    }
    expect(log.stats().segmentCount).toBeGreaterThan(1);
    await log.close();

    const clean = await open(dir, config);
    expect(clean.openReport.clean).toBe(true);
    expect(await appendOk(clean, batch(seq - 3, 3), config)).toMatchObject({
      duplicate: true,
      baseOffset: 33,
    });
    expect(await appendOne(clean, batch(seq + 1, 3), config)).toMatchObject({ ok: false });
    await appendOk(clean, batch(seq, 3), config);
    seq += 3;
    // Simulate a crash: never close `clean`; open the directory again (no marker, so it recovers).
    const crashed = await open(dir, config);
    expect(crashed.openReport.clean).toBe(false);
    expect(crashed.openReport.scannedSegments).toBeGreaterThan(0);
    expect(crashed.logEndOffset).toBe(39);
    expect(await appendOk(crashed, batch(seq - 3, 3), config)).toMatchObject({
      duplicate: true,
      baseOffset: 36,
    });
    expect(await appendOne(crashed, batch(seq + 3, 3), config)).toMatchObject({
      ok: false,
      error: { code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' },
    });
    await crashed.close();
  });
});
