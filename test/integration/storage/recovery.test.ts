/**
 * Recovery after an unclean stop: torn tails cut at every byte, flipped bytes, lost checkpoints,
 * deleted index files. The log must reopen, keep every batch before the damage byte for byte, and
 * serve nothing after it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkBatch, readBatchHeader } from '../../../src/protocol/kafka/record-batch.ts';
import { PartitionLog, prepareBatch } from '../../../src/storage/log.ts';
import type { LogConfig } from '../../../src/storage/log-config.ts';
import { CHECKPOINT_FILE, CLEAN_SHUTDOWN_FILE, offsetFileName } from '../../../src/storage/segment-files.ts';
import { asStored, logConfig, makeBatch, recordsOf, splitBatches, tempDir } from '../../helpers/batches.ts';

const roots: string[] = [];
afterEach(() => {
  for (const d of roots.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function newDir(): string {
  const root = tempDir();
  roots.push(root);
  return path.join(root, 't-0');
}

interface Written {
  batch: Uint8Array;
  base: number;
}

/** Write `count` batches and close cleanly; returns what was written. */
async function writeLog(dir: string, config: LogConfig, count: number, spec = { records: 2, valueSize: 20 }) {
  const log = await PartitionLog.open(dir, config);
  const written: Written[] = [];
  for (let i = 0; i < count; i++) {
    const batch = makeBatch({
      count: spec.records,
      valueSize: spec.valueSize,
      tag: `r${i}`,
      timestamp: (j) => 5000 + i * 10 + j,
    });
    const { outcomes } = log.append([await prepareBatch(new Uint8Array(batch), config)]);
    const o = outcomes[0]!;
    if (!o.ok) throw new Error(o.error.message);
    written.push({ batch, base: o.baseOffset });
  }
  await log.close();
  return written;
}

/** Read the whole log and check it is exactly the first `n` written batches. */
async function expectPrefix(log: PartitionLog, written: Written[], n: number) {
  const expectedEnd =
    n === 0 ? written[0]!.base : written[n - 1]!.base + readBatchHeader(written[n - 1]!.batch).recordsCount;
  expect(log.logEndOffset).toBe(expectedEnd);
  const got: Uint8Array[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const batches = splitBatches(log.read(offset, 1 << 20).bytes);
    for (const b of batches) {
      expect(checkBatch(b)).toBeUndefined();
      got.push(b);
      const h = readBatchHeader(b);
      offset = h.baseOffset + h.lastOffsetDelta + 1;
    }
  }
  expect(got.length).toBe(n);
  for (let i = 0; i < n; i++) {
    expect(Buffer.from(got[i]!).equals(Buffer.from(asStored(written[i]!.batch, written[i]!.base)))).toBe(
      true,
    );
  }
  expect(log.read(log.logEndOffset, 1000).bytes).toBeUndefined();
}

function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort();
}

function copyDir(from: string): string {
  const to = newDir();
  fs.cpSync(from, to, { recursive: true });
  return to;
}

describe('recovery after an unclean stop', () => {
  it('cuts a torn last batch at every byte boundary and keeps everything before it', async () => {
    const dir = newDir();
    const config = logConfig({ segmentBytes: 1000, indexIntervalBytes: 200 });
    const written = await writeLog(dir, config, 24);
    const logs = segmentFiles(dir);
    expect(logs.length).toBeGreaterThan(2);
    const lastLog = path.join(dir, logs[logs.length - 1]!);
    const size = fs.statSync(lastLog).size;
    const lastBatchSize = written[written.length - 1]!.batch.byteLength;
    const lastBatchStart = size - lastBatchSize;
    for (let keep = 0; keep < lastBatchSize; keep++) {
      const copy = copyDir(dir);
      fs.rmSync(path.join(copy, CLEAN_SHUTDOWN_FILE));
      fs.truncateSync(path.join(copy, logs[logs.length - 1]!), lastBatchStart + keep);
      const log = await PartitionLog.open(copy, config);
      expect(log.openReport.clean).toBe(false);
      expect(log.openReport.truncatedBytes).toBe(keep);
      await expectPrefix(log, written, written.length - 1);
      // The log carries on at the offset the torn batch had.
      const { outcomes } = log.append([await prepareBatch(makeBatch({ count: 1 }), config)]);
      expect(outcomes[0]).toMatchObject({ ok: true, baseOffset: written[written.length - 1]!.base });
      await log.close();
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  it('cuts the log at a batch with flipped bytes and serves nothing after it', async () => {
    const dir = newDir();
    const config = logConfig({ segmentBytes: 1 << 20 });
    const written = await writeLog(dir, config, 12);
    const logFile = path.join(dir, segmentFiles(dir)[0]!);
    // Damage batch 7 in its records (covered by the CRC).
    let position = 0;
    for (let i = 0; i < 7; i++) position += written[i]!.batch.byteLength;
    const bytes = fs.readFileSync(logFile);
    bytes[position + 70]! ^= 0x5a;
    bytes[position + 71]! ^= 0xa5;
    fs.writeFileSync(logFile, bytes);
    fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE));
    const log = await PartitionLog.open(dir, config);
    expect(log.openReport.reasons.join()).toMatch(/CRC|crc/);
    await expectPrefix(log, written, 7);
    await log.close();
  });

  it('scans every segment when the checkpoint is lost, and drops segments after a damaged one', async () => {
    const dir = newDir();
    const config = logConfig({ segmentBytes: 1000 });
    const written = await writeLog(dir, config, 30);
    const logs = segmentFiles(dir);
    expect(logs.length).toBeGreaterThan(4);
    // Damage the first batch of the second segment; lose the checkpoint and the marker.
    const secondBase = Number(logs[1]!.slice(0, 20));
    const index = written.findIndex((w) => w.base === secondBase);
    const file = path.join(dir, logs[1]!);
    const bytes = fs.readFileSync(file);
    bytes[30]! ^= 0xff; // inside the CRC-covered header
    fs.writeFileSync(file, bytes);
    fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE));
    fs.rmSync(path.join(dir, CHECKPOINT_FILE));
    const log = await PartitionLog.open(dir, config);
    expect(log.openReport.scannedSegments).toBeGreaterThanOrEqual(2);
    expect(log.openReport.deletedSegments).toBe(logs.length - 2);
    await expectPrefix(log, written, index);
    expect(segmentFiles(dir).length).toBe(2);
    await log.close();
  });

  it('drops zero-filled garbage after the last batch (a preallocated or torn tail)', async () => {
    const dir = newDir();
    const config = logConfig();
    const written = await writeLog(dir, config, 5);
    const file = path.join(dir, segmentFiles(dir)[0]!);
    fs.appendFileSync(file, Buffer.alloc(4096));
    fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE));
    const log = await PartitionLog.open(dir, config);
    expect(log.openReport.truncatedBytes).toBe(4096);
    await expectPrefix(log, written, 5);
    await log.close();
  });

  it('rebuilds deleted or damaged index files, even after a clean shutdown', async () => {
    const dir = newDir();
    const config = logConfig({ segmentBytes: 3000, indexIntervalBytes: 256 });
    const written = await writeLog(dir, config, 40, { records: 3, valueSize: 40 });
    const logs = segmentFiles(dir);
    const before = await PartitionLog.open(copyDir(dir), config);
    const lookups = [4800, 5000, 5101, 5255, 5390, 9999];
    const expected = await Promise.all(
      lookups.map((t) => before.listOffset({ kind: 'timestamp', timestamp: t })),
    );
    await before.close();

    for (const name of fs.readdirSync(dir))
      if (name.endsWith('.index') || name.endsWith('.timeindex')) fs.rmSync(path.join(dir, name));
    // And a damaged one: an odd size.
    fs.writeFileSync(
      path.join(dir, offsetFileName(Number(logs[0]!.slice(0, 20)), '.index')),
      Buffer.alloc(5),
    );
    const log = await PartitionLog.open(dir, config);
    expect(log.openReport.clean).toBe(true);
    await expectPrefix(log, written, 40);
    for (let i = 0; i < lookups.length; i++) {
      expect(await log.listOffset({ kind: 'timestamp', timestamp: lookups[i]! })).toEqual(expected[i]);
    }
    // Reads in the middle use the rebuilt sparse index.
    const mid = written[25]!;
    const records = await recordsOf(log.read(mid.base + 1, 1).bytes);
    expect(records[0]!.offset).toBe(mid.base);
    await log.close();
    for (const l of logs) {
      const base = Number(l.slice(0, 20));
      expect(fs.statSync(path.join(dir, offsetFileName(base, '.index'))).size % 8).toBe(0);
      expect(fs.existsSync(path.join(dir, offsetFileName(base, '.timeindex')))).toBe(true);
    }
  });
});
