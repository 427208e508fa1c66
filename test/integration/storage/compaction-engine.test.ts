/**
 * Log compaction scheduled by the workers: through the PartitionEngine (real worker threads), a
 * compacted topic is cleaned by the periodic schedule while appends keep arriving, the figures show
 * up in the worker report, and a non-compacted partition on the same worker is never cleaned.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRecordBatch, iterateBatches } from '../../../src/protocol/kafka/record-batch.ts';
import { PartitionEngine, type WorkerReport } from '../../../src/router/partition-engine.ts';
import type { LogConfig } from '../../../src/storage/log-config.ts';
import { logConfig, tempDir } from '../../helpers/batches.ts';
import { keyedBatch, latestByKey, type ReadRecord, T0 } from './compaction-helpers.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function readAll(engine: PartitionEngine, topic: string): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  let offset = engine.logStartOffset(topic, 0) ?? 0;
  const end = engine.highWatermark(topic, 0)!;
  while (offset < end) {
    const { bytes } = await engine.read(topic, 0, offset, 8192);
    if (!bytes) break;
    for (const batch of iterateBatches(bytes)) {
      const d = await decodeRecordBatch(batch);
      for (const r of d.records) {
        if (r.offset < offset) continue;
        out.push({
          offset: r.offset,
          key: Buffer.from(r.key!).toString(),
          value: r.value === null ? null : Buffer.from(r.value).toString(),
          timestamp: r.timestamp,
        });
      }
      offset = d.baseOffset + d.lastOffsetDelta + 1;
    }
  }
  return out;
}

describe('compaction through the PartitionEngine', () => {
  it('cleans a compacted topic on the periodic schedule while appends go on', async () => {
    const dataDir = tempDir('sluice-compaction-engine-');
    cleanup.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const engine = await PartitionEngine.start({ dataDir, workers: 1, tickIntervalMs: 20 });
    cleanup.push(() => engine.close());
    const compacted: LogConfig = logConfig({
      cleanupPolicy: 'compact',
      segmentBytes: 4096,
      indexIntervalBytes: 512,
      cleanerBackoffMs: 20,
    });
    const plain: LogConfig = logConfig({ segmentBytes: 4096 });
    await engine.openPartition('state', 0, compacted);
    await engine.openPartition('events', 0, plain);

    const reports: WorkerReport[] = [];
    engine.on('report', (r) => reports.push(r));
    const passes = () =>
      reports
        .flatMap((r) => r.cleaner ?? [])
        .filter((c) => c.key === 'state-0')
        .reduce((n, c) => n + c.passes, 0);

    // Keep writing updates to 10 keys (and plain records elsewhere) until two passes have run.
    const appended: ReadRecord[] = [];
    let n = 0;
    for (let round = 0; round < 2000 && passes() < 2; round++) {
      const records = [0, 1, 2, 3].map((i) => ({
        key: `key-${(n + i) % 10}`,
        value: `value-${n + i}`,
        timestamp: T0 + n + i,
      }));
      const [ack] = await Promise.all([
        engine.append('state', 0, await keyedBatch(records)),
        engine.append('events', 0, await keyedBatch([{ key: 'e', value: `event-${n}` }])),
      ]);
      appended.push(...records.map((r, i) => ({ offset: ack.baseOffset + i, ...r })));
      n += 4;
    }
    expect(passes()).toBeGreaterThanOrEqual(2);
    const figures = reports.flatMap((r) => r.cleaner ?? []).filter((c) => c.key === 'state-0');
    expect(figures.reduce((s, c) => s + c.cleanedBytes, 0)).toBeGreaterThan(0);
    expect(figures.reduce((s, c) => s + c.removedRecords, 0)).toBeGreaterThan(0);
    expect(reports.flatMap((r) => r.cleaner ?? []).some((c) => c.key === 'events-0')).toBe(false);

    const got = await readAll(engine, 'state');
    const offsets = got.map((r) => r.offset);
    expect(new Set(offsets).size).toBe(offsets.length);
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
    const byOffset = new Map(appended.map((r) => [r.offset, r]));
    for (const r of got) expect(r).toEqual(byOffset.get(r.offset));
    for (const r of latestByKey(appended).values()) expect(got).toContainEqual(r);
    expect(got.length).toBeLessThan(appended.length / 2);
    const stats = await engine.stats('state', 0);
    expect(stats).toMatchObject({ logStartOffset: 0, logEndOffset: appended.length });

    // The plain topic kept every record.
    expect((await engine.stats('events', 0)).logEndOffset).toBe(n / 4);
    const events = await readAll(engine, 'events');
    expect(events.length).toBe(n / 4);

    // A restart serves the same compacted log.
    await engine.close();
    const again = await PartitionEngine.start({ dataDir, workers: 1, tickIntervalMs: 20 });
    cleanup.push(() => again.close());
    const { report } = await again.openPartition('state', 0, compacted);
    expect(report.reasons).toEqual([]);
    const reread = await readAll(again, 'state');
    for (const r of latestByKey(got).values()) expect(reread).toContainEqual(r);
    expect(reread.length).toBeLessThanOrEqual(got.length);
  });
});
