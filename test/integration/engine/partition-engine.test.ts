/**
 * PartitionEngine with real worker threads (piscina) and real files: routing by the shard table,
 * batched thread hops, transferred buffers, offsets events, errors across threads, clean restart.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { readBatchHeader } from '../../../src/protocol/kafka/record-batch.ts';
import { PartitionEngine } from '../../../src/router/partition-engine.ts';
import { ShardTable } from '../../../src/router/shard-table.ts';
import {
  asStored,
  logConfig,
  makeBatch,
  makeCompressedBatch,
  recordsOf,
  splitBatches,
  tempDir,
} from '../../helpers/batches.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function startEngine(dataDir = tempDir(), workers = 2) {
  const engine = await PartitionEngine.start({ dataDir, workers, tickIntervalMs: 100 });
  cleanup.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  return { engine, dataDir };
}

describe('ShardTable', () => {
  it('is stable and spreads a topic’s partitions over the workers', () => {
    const table = new ShardTable(4);
    const shards = [0, 1, 2, 3].map((p) => table.shardOf('events', p));
    expect(new Set(shards).size).toBe(4);
    expect(new ShardTable(4).shardOf('events', 2)).toBe(shards[2]);
  });
});

describe('PartitionEngine', () => {
  it('appends to and reads from partitions owned by different workers, in order per partition', async () => {
    const { engine } = await startEngine();
    cleanup.push(() => engine.close());
    const config = logConfig({ segmentBytes: 16 * 1024 });
    const topics = ['alpha', 'beta'];
    for (const t of topics) for (let p = 0; p < 3; p++) await engine.openPartition(t, p, config);

    // Many appends in flight at once, to every partition.
    const sent = new Map<string, Uint8Array[]>();
    const acks: Promise<{ key: string; baseOffset: number; i: number }>[] = [];
    for (let i = 0; i < 50; i++) {
      for (const t of topics) {
        for (let p = 0; p < 3; p++) {
          const key = `${t}-${p}`;
          const batch = makeBatch({ count: 4, tag: `${key}-${i}` });
          if (!sent.has(key)) sent.set(key, []);
          sent.get(key)!.push(batch);
          acks.push(engine.append(t, p, batch).then((r) => ({ key, baseOffset: r.baseOffset, i })));
        }
      }
    }
    const results = await Promise.all(acks);
    for (const r of results) expect(r.baseOffset).toBe(r.i * 4); // arrival order is append order
    for (const t of topics) {
      for (let p = 0; p < 3; p++) {
        expect(engine.highWatermark(t, p)).toBe(200);
        const stored: Uint8Array[] = [];
        let offset = 0;
        while (offset < 200) {
          const r = await engine.read(t, p, offset, 4096);
          const batches = splitBatches(r.bytes);
          stored.push(...batches);
          const last = readBatchHeader(batches[batches.length - 1]!);
          offset = last.baseOffset + last.lastOffsetDelta + 1;
        }
        const expected = sent.get(`${t}-${p}`)!;
        expect(stored.length).toBe(expected.length);
        stored.forEach((b, i) => {
          expect(Buffer.from(b).equals(Buffer.from(asStored(expected[i]!, i * 4)))).toBe(true);
        });
        const stats = await engine.stats(t, p);
        expect(stats).toMatchObject({ logStartOffset: 0, logEndOffset: 200 });
        expect(stats.segmentCount).toBeGreaterThan(1);
      }
    }
  });

  it('validates compressed batches in the worker threads, every codec (regression: codecs load there)', async () => {
    const { engine } = await startEngine();
    cleanup.push(() => engine.close());
    await engine.openPartition('z', 0, logConfig());
    let next = 0;
    for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const ack = await engine.append(
        'z',
        0,
        await makeCompressedBatch({ count: 5, compression, tag: compression }),
      );
      expect(ack.baseOffset).toBe(next);
      next += 5;
    }
    const records = await recordsOf((await engine.read('z', 0, 0, 1 << 20)).bytes);
    expect(records.map((r) => Buffer.from(r.key!).toString())).toEqual(
      ['gzip', 'snappy', 'lz4', 'zstd'].flatMap((c) => [0, 1, 2, 3, 4].map((i) => `${c}-k${i}`)),
    );
  });

  it('reports errors across threads as typed errors and keeps the partition usable', async () => {
    const { engine } = await startEngine();
    cleanup.push(() => engine.close());
    const config = logConfig();
    await engine.openPartition('t', 0, config);
    const bad = makeBatch({ count: 2 });
    bad[bad.length - 1]! ^= 1;
    await expect(engine.append('t', 0, bad)).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
    await expect(engine.read('t', 0, 5, 100)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await expect(engine.read('nope', 0, 0, 100)).rejects.toMatchObject({
      code: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
    expect(await engine.append('t', 0, makeBatch({ count: 2 }))).toMatchObject({
      baseOffset: 0,
      lastOffset: 1,
    });
    expect(await engine.listOffset('t', 0, { kind: 'latest' })).toEqual({ offset: 2, timestamp: -1 });
  });

  it('moves a caller-owned buffer to the worker instead of copying it when asked', async () => {
    const { engine } = await startEngine();
    cleanup.push(() => engine.close());
    await engine.openPartition('t', 0, logConfig());
    const owned = new Uint8Array(makeBatch({ count: 3 })); // covers its whole ArrayBuffer
    expect(owned.byteLength).toBe(owned.buffer.byteLength);
    const kept = makeBatch({ count: 3 });
    await engine.append('t', 0, owned, { transfer: true });
    await engine.append('t', 0, kept);
    expect(owned.byteLength).toBe(0); // detached: it went to the worker
    expect(kept.byteLength).toBeGreaterThan(0);
  });

  it('emits offsets events as high watermarks move', async () => {
    const { engine } = await startEngine();
    cleanup.push(() => engine.close());
    await engine.openPartition('t', 1, logConfig());
    const seen: number[] = [];
    engine.on('offsets', (key, hw) => {
      if (key === 't-1') seen.push(hw);
    });
    await engine.append('t', 1, makeBatch({ count: 5 }));
    await engine.append('t', 1, makeBatch({ count: 5 }));
    expect(seen.at(-1)).toBe(10);
  });

  it('sends periodic reports with partition stats and worker load', async () => {
    const { engine } = await startEngine();
    cleanup.push(() => engine.close());
    await engine.openPartition('t', 0, logConfig());
    await engine.append('t', 0, makeBatch({ count: 7 }));
    const report = await new Promise<Parameters<Parameters<typeof engine.on<'report'>>[1]>[0]>((resolve) => {
      engine.on('report', (r) => {
        if (r.partitions.some((p) => p.key === 't-0')) resolve(r);
      });
    });
    expect(report.elapsedMs).toBeGreaterThan(0);
    expect(report.partitions.find((p) => p.key === 't-0')!.stats.logEndOffset).toBe(7);
  });

  it('closes cleanly and reopens with everything in place', async () => {
    const dataDir = tempDir();
    const first = await PartitionEngine.start({ dataDir, workers: 2 });
    cleanup.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    await first.openPartition('keep', 0, logConfig());
    const batch = makeBatch({ count: 9, tag: 'x' });
    await first.append('keep', 0, batch);
    await first.close();
    await expect(first.append('keep', 0, batch)).rejects.toMatchObject({ code: 'BROKER_SHUTTING_DOWN' });
    expect(fs.existsSync(`${dataDir}/keep-0/.clean_shutdown`)).toBe(true);

    const second = await PartitionEngine.start({ dataDir, workers: 3 });
    cleanup.push(() => second.close());
    const opened = await second.openPartition('keep', 0, logConfig());
    expect(opened.report.clean).toBe(true);
    expect(opened.stats.logEndOffset).toBe(9);
    const records = await recordsOf((await second.read('keep', 0, 0, 1 << 20)).bytes);
    expect(records.map((r) => Buffer.from(r.key!).toString())).toEqual(
      [...Array(9).keys()].map((i) => `x-k${i}`),
    );
  });

  it('deletes a partition and its directory', async () => {
    const { engine, dataDir } = await startEngine();
    cleanup.push(() => engine.close());
    await engine.openPartition('gone', 0, logConfig());
    await engine.append('gone', 0, makeBatch());
    expect(fs.existsSync(`${dataDir}/gone-0`)).toBe(true);
    await engine.deletePartition('gone', 0);
    expect(fs.existsSync(`${dataDir}/gone-0`)).toBe(false);
    await expect(engine.read('gone', 0, 0, 100)).rejects.toMatchObject({
      code: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
  });
});

describe('PartitionEngine when a worker thread dies', () => {
  it('replaces a dead worker thread and reopens its partitions, losing nothing stored', async () => {
    const dataDir = tempDir();
    const engine = await PartitionEngine.start({ dataDir, workers: 2 });
    cleanup.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    cleanup.push(() => engine.close());
    const config = logConfig();
    // Partitions on both workers.
    await engine.openPartition('crash', 0, config);
    await engine.openPartition('crash', 1, config);
    await engine.append('crash', 0, makeBatch({ count: 3 }));
    await engine.append('crash', 1, makeBatch({ count: 3 }));
    const failed = new Promise<number>((resolve) => engine.once('workerFailed', (shard) => resolve(shard)));
    // Kill one worker thread outright, as a fatal error in it would.
    const pool = (engine as unknown as { pool: { threads: import('node:worker_threads').Worker[] } }).pool;
    await pool.threads[0]!.terminate();
    const shard = await failed;
    expect(shard).toBeGreaterThanOrEqual(0);
    // Both partitions serve again (the replaced worker reopened its partitions, recovering them).
    for (const p of [0, 1]) {
      await expect
        .poll(
          () =>
            engine.append('crash', p, makeBatch({ count: 2 })).then(
              (a) => a.baseOffset,
              (e: { code: string }) => e.code,
            ),
          {
            timeout: 20_000,
          },
        )
        .toBeTypeOf('number');
      const records = await recordsOf((await engine.read('crash', p, 0, 1 << 20)).bytes);
      expect(records.slice(0, 3).map((r) => r.offset)).toEqual([0, 1, 2]);
    }
  });
});
