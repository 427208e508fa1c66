/**
 * Log compaction across crashes and restarts: a crash at every point of the swap (leftover
 * `.cleaned` files, `.swap` files, both, half-completed swaps) reopens to a consistent log; cleaned
 * segments pass index loading, the recovery scan (unclean open, lost checkpoint, lost indexes) and
 * producer-state replay, while a damaged cleaned batch is still cut off.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SwapStep } from '../../../src/storage/cleaner-swap.ts';
import { PartitionLog, prepareBatch } from '../../../src/storage/log.ts';
import type { LogConfig } from '../../../src/storage/log-config.ts';
import { CHECKPOINT_FILE, CLEAN_SHUTDOWN_FILE, SNAPSHOT_SUFFIX } from '../../../src/storage/segment-files.ts';
import { logConfig, tempDir } from '../../helpers/batches.ts';
import {
  activeSegmentBase,
  appendKeyed,
  cleanToEnd,
  keyedBatch,
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

const config: LogConfig = logConfig({
  cleanupPolicy: 'compact',
  segmentBytes: 1500,
  indexIntervalBytes: 200,
});

/** `rounds` updates of each of `keys` keys, three records a batch (so batches mix keys and rounds). */
async function writeUpdates(log: PartitionLog, keys: number, rounds: number): Promise<ReadRecord[]> {
  const appended: ReadRecord[] = [];
  for (let n = 0; n < keys * rounds; n += 3) {
    const records = [n, n + 1, n + 2].map((i) => ({
      key: `key-${i % keys}`,
      value: `v-${i % keys}-${Math.floor(i / keys)}`,
      timestamp: T0 + i,
    }));
    const out = await appendKeyed(log, config, records);
    appended.push(...records.map((r, i) => ({ offset: out.baseOffset + i, ...r })));
  }
  return appended;
}

function leftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.cleaned') || n.endsWith('.swap'));
}

/** What every reopened log must satisfy: each offset once, in order, as appended, newest values all there. */
function expectConsistent(got: ReadRecord[], appended: ReadRecord[]): void {
  const offsets = got.map((r) => r.offset);
  expect(new Set(offsets).size).toBe(offsets.length);
  expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
  const byOffset = new Map(appended.map((r) => [r.offset, r]));
  for (const r of got) expect(r).toEqual(byOffset.get(r.offset));
  for (const r of latestByKey(appended).values()) expect(got).toContainEqual(r);
}

describe('compaction: crash during a swap', () => {
  const steps: { step: SwapStep; committed: boolean }[] = [
    { step: 'cleaned', committed: false },
    { step: 'renaming', committed: false },
    { step: 'committed', committed: true },
    { step: 'originals-deleted', committed: true },
    { step: 'indexes-renamed', committed: true },
  ];
  it.each(steps)('reopens consistently after a crash at "$step"', async ({ step, committed }) => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, config);
    const appended = await writeUpdates(log, 6, 40);
    const crash = new Error(`simulated crash at ${step}`);
    await expect(
      cleanToEnd(log, {
        onSwapStep: (s) => {
          if (s === step) throw crash;
        },
      }),
    ).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
    expect(log.failure).toBeDefined();
    const files = leftovers(dir);
    if (step === 'cleaned') expect(files.every((n) => n.endsWith('.cleaned'))).toBe(true);
    if (step === 'renaming') {
      expect(files.some((n) => n.endsWith('.log.cleaned'))).toBe(true);
      expect(files.some((n) => n.endsWith('.swap'))).toBe(true);
    }
    if (committed) expect(files.some((n) => n.endsWith('.log.swap'))).toBe(true);

    // The process dies here: the next open finds the files as they are.
    const reopened = await PartitionLog.open(dir, config);
    expect(leftovers(dir)).toEqual([]);
    expect(reopened.openReport.completedSwaps ?? 0).toBe(committed ? 1 : 0);
    expect(reopened.openReport.reasons).toEqual([]);
    expect(reopened.logEndOffset).toBe(appended.length);
    const got = await readAll(reopened);
    expectConsistent(got, appended);
    if (committed) expect(got.length).toBeLessThan(appended.length);
    else expect(got).toEqual(appended);

    // Cleaning picks up where it left off and ends with one record per key below the active segment.
    await cleanToEnd(reopened);
    const final = await readAll(reopened);
    expectConsistent(final, appended);
    const cleaned = final.filter((r) => r.offset < activeSegmentBase(dir));
    expect(new Set(cleaned.map((r) => r.key)).size).toBe(cleaned.length);
    await reopened.close();
  });

  it('rolls a committed swap forward even without its manifest, serving no offset twice', async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, config);
    const appended = await writeUpdates(log, 150, 3);
    await expect(
      cleanToEnd(log, {
        onSwapStep: (s) => {
          if (s === 'committed') throw new Error('crash');
        },
      }),
    ).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
    for (const n of fs.readdirSync(dir)) if (n.endsWith('.group.swap')) fs.rmSync(path.join(dir, n));
    const reopened = await PartitionLog.open(dir, config);
    expect(reopened.openReport.completedSwaps).toBe(1);
    expect(leftovers(dir)).toEqual([]);
    expectConsistent(await readAll(reopened), appended);
    await reopened.close();
  });

  it('reopens consistently when a crash comes between two groups, with a group half written', async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, config);
    // Many keys, few rounds: the last round's segments each keep records, so a pass swaps several groups.
    const appended = await writeUpdates(log, 150, 3);
    let swapped = 0;
    for (let i = 0; i < 1000 && !(swapped > 0 && leftovers(dir).length > 0); i++) {
      const p = await log.clean({ budgetBytes: 300, force: true });
      swapped += p.swappedGroups;
      expect(p.done).toBe(false);
    }
    expect(leftovers(dir).some((n) => n.endsWith('.log.cleaned'))).toBe(true);
    const reopened = await PartitionLog.open(dir, config);
    expect(leftovers(dir)).toEqual([]);
    expectConsistent(await readAll(reopened), appended);
    await reopened.close();
  });
});

describe('compaction: restarts', () => {
  async function cleanedLog(dir: string) {
    const log = await PartitionLog.open(dir, config);
    const appended = await writeUpdates(log, 8, 50);
    await cleanToEnd(log);
    const got = await readAll(log);
    expect(got.length).toBeLessThan(appended.length / 3);
    expect(storedHeaders(log).some((h) => h.recordsCount < h.lastOffsetDelta + 1)).toBe(true);
    return { log, appended, got };
  }

  it('reopens cleanly with the cleaned segments and their indexes as they are', async () => {
    const dir = partitionDir();
    const { log, got } = await cleanedLog(dir);
    const lookups = await Promise.all(
      [T0, T0 + 100, T0 + 555].map((t) => log.listOffset({ kind: 'timestamp', timestamp: t })),
    );
    await log.close();
    const reopened = await PartitionLog.open(dir, config);
    expect(reopened.openReport).toMatchObject({ clean: true, scannedSegments: 0, truncatedBytes: 0 });
    expect(await readAll(reopened)).toEqual(got);
    const again = await Promise.all(
      [T0, T0 + 100, T0 + 555].map((t) => reopened.listOffset({ kind: 'timestamp', timestamp: t })),
    );
    expect(again).toEqual(lookups);
    await reopened.close();
  });

  it('scans cleaned segments after an unclean stop, with the checkpoint and indexes lost, and cuts nothing', async () => {
    const dir = partitionDir();
    const { log, got } = await cleanedLog(dir);
    await log.close();
    fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE));
    fs.rmSync(path.join(dir, CHECKPOINT_FILE));
    for (const n of fs.readdirSync(dir)) if (n.endsWith('index')) fs.rmSync(path.join(dir, n));
    const reopened = await PartitionLog.open(dir, config);
    expect(reopened.openReport.clean).toBe(false);
    expect(reopened.openReport.scannedSegments).toBe(reopened.stats().segmentCount);
    expect(reopened.openReport.truncatedBytes).toBe(0);
    expect(reopened.openReport.reasons).toEqual([]);
    expect(await readAll(reopened)).toEqual(got);
    await reopened.close();
  });

  it('keeps accepting the gaps after the topic goes back to cleanup.policy=delete', async () => {
    const dir = partitionDir();
    const { log, got } = await cleanedLog(dir);
    await log.close();
    fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE));
    fs.rmSync(path.join(dir, CHECKPOINT_FILE));
    const reopened = await PartitionLog.open(dir, { ...config, cleanupPolicy: 'delete' });
    expect(reopened.openReport.reasons).toEqual([]);
    expect(await readAll(reopened)).toEqual(got);
    await reopened.close();
  });

  it('still cuts the log at a damaged cleaned batch (CRC)', async () => {
    const dir = partitionDir();
    const { log, got } = await cleanedLog(dir);
    await log.close();
    const first = fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.log'))
      .sort()[0]!;
    const file = path.join(dir, first);
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBeGreaterThan(80);
    bytes[bytes.length - 3]! ^= 0x40; // inside the last batch's records
    fs.writeFileSync(file, bytes);
    fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE));
    fs.rmSync(path.join(dir, CHECKPOINT_FILE));
    const reopened = await PartitionLog.open(dir, config);
    expect(reopened.openReport.reasons.join()).toMatch(/CRC/);
    const after = await readAll(reopened);
    expect(after.length).toBeLessThan(got.length);
    expect(got.slice(0, after.length)).toEqual(after);
    await reopened.close();
  });

  it('replays idempotent-producer state through cleaned segments, with or without a snapshot', async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, config);
    const pid = 4242;
    const send = async (target: PartitionLog, seq: number, key: string) =>
      target.append([
        await prepareBatch(
          await keyedBatch(
            [
              { key, value: `p-${seq}-a` },
              { key: `${key}-b`, value: `p-${seq}-b` },
            ],
            { producerId: pid, producerEpoch: 0, baseSequence: seq },
          ),
          config,
        ),
      ]).outcomes[0]!;
    // The producer writes keys that plain writes then overwrite, so the cleaner drops its batches.
    for (let seq = 0; seq < 20; seq += 2) expect((await send(log, seq, `idem-${seq % 6}`)).ok).toBe(true);
    for (let i = 0; i < 6; i += 2) {
      await appendKeyed(log, config, [
        { key: `idem-${i}`, value: 'plain' },
        { key: `idem-${i}-b`, value: 'plain' },
      ]);
    }
    await writeUpdates(log, 8, 30);
    await cleanToEnd(log);
    const headers = storedHeaders(log);
    expect(headers.filter((h) => h.producerId === pid).length).toBeLessThan(10);
    const retry = await send(log, 18, 'idem-0');
    expect(retry).toMatchObject({ ok: true, duplicate: true });

    // Unclean stop: the snapshot the cleaner took at the log end carries the producer over.
    const reopened = await PartitionLog.open(dir, config);
    expect(await send(reopened, 18, 'idem-0')).toMatchObject({ ok: true, duplicate: true });
    expect(await send(reopened, 20, 'idem-2')).toMatchObject({ ok: true, duplicate: false });
    await reopened.close();

    // With every snapshot gone the whole log is replayed, cleaned batches included, without error.
    for (const n of fs.readdirSync(dir)) if (n.endsWith(SNAPSHOT_SUFFIX)) fs.rmSync(path.join(dir, n));
    fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE));
    const replayed = await PartitionLog.open(dir, config);
    expect(replayed.stats().producerCount).toBe(1);
    // Its last batch (seq 20, in the active segment) is known again: a resend is a duplicate.
    expect(await send(replayed, 20, 'idem-2')).toMatchObject({ ok: true, duplicate: true });
    expect(await send(replayed, 22, 'idem-4')).toMatchObject({ ok: true, duplicate: false });
    await replayed.close();
  });
});
