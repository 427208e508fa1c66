/**
 * Storage engine benchmark (issue 2): append 100-byte records in ~16 KiB batches to 1, 4 and 16
 * partitions through the PartitionEngine (main thread → worker threads → segment files), then read
 * them all back; side by side in the same run, a raw sequential fs.writeSync / fs.readSync of the
 * same bytes to the same number of files. Also: fsync-before-ack (flush.messages=1, group commit).
 *
 * Prints the median of `--runs` runs (default 5) and the engine/raw ratios.
 *
 *   node --import tsx bench/storage/engine-append-read.ts [--records N] [--runs R] [--workers W] [--json]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { iterateBatches, readBatchHeader } from '../../src/protocol/kafka/record-batch.ts';
import { RecordBatchBuilder } from '../../src/protocol/kafka/record-batch-builder.ts';
import { PartitionEngine } from '../../src/router/partition-engine.ts';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/storage/log-config.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '2000000' },
    runs: { type: 'string', default: '5' },
    workers: { type: 'string', default: String(os.availableParallelism()) },
    'in-flight': { type: 'string', default: '64' },
    'fsync-records': { type: 'string', default: '600000' },
    dir: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const RECORDS = Number(args.records);
const RUNS = Number(args.runs);
const WORKERS = Number(args.workers);
const IN_FLIGHT = Number(args['in-flight']);
const FSYNC_RECORDS = Number(args['fsync-records']);
const RECORD_SIZE = 100;
const BATCH_BYTES = 16 * 1024;
const root = args.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** ~16 KiB batches of 100-byte values (no keys), like a producer with batch.size=16384 would send. */
function makeBatches(records: number): Uint8Array[] {
  const value = Buffer.alloc(RECORD_SIZE, 0x61);
  const batches: Uint8Array[] = [];
  let builder = new RecordBatchBuilder({ initialCapacity: BATCH_BYTES + 1024 });
  for (let i = 0; i < records; i++) {
    builder.append({ value, timestamp: 1_700_000_000_000 + i });
    if (builder.sizeInBytes + RECORD_SIZE + 16 > BATCH_BYTES) {
      batches.push(new Uint8Array(builder.buildSync()));
      builder = new RecordBatchBuilder({ initialCapacity: BATCH_BYTES + 1024 });
    }
  }
  if (builder.count > 0) batches.push(new Uint8Array(builder.buildSync()));
  return batches;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function engineRun(
  batches: Uint8Array[],
  partitions: number,
  config: LogConfig,
  records: number,
): Promise<{ appendSec: number; readSec: number; readRecords: number }> {
  const dataDir = fs.mkdtempSync(path.join(root, 'engine-'));
  const engine = await PartitionEngine.start({ dataDir, workers: WORKERS });
  for (let p = 0; p < partitions; p++) await engine.openPartition('bench', p, config);

  const t0 = performance.now();
  let next = 0;
  async function lane(): Promise<void> {
    while (next < batches.length) {
      const i = next++;
      await engine.append('bench', i % partitions, batches[i]!);
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const appendSec = (performance.now() - t0) / 1000;

  // Read everything back: each partition read sequentially in 1 MiB fetches, all partitions at once,
  // with every batch header walked (as a consumer would before decoding).
  const t1 = performance.now();
  let readRecords = 0;
  await Promise.all(
    Array.from({ length: partitions }, async (_, p) => {
      let offset = 0;
      for (;;) {
        const r = await engine.read('bench', p, offset, 1 << 20);
        if (!r.bytes) break;
        for (const b of iterateBatches(r.bytes)) {
          const h = readBatchHeader(b);
          readRecords += h.recordsCount;
          offset = h.baseOffset + h.lastOffsetDelta + 1;
        }
      }
    }),
  );
  const readSec = (performance.now() - t1) / 1000;
  await engine.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (readRecords !== records) throw new Error(`read ${readRecords} records, expected ${records}`);
  return { appendSec, readSec, readRecords };
}

function rawRun(batches: Uint8Array[], partitions: number): { writeSec: number; readSec: number } {
  const dir = fs.mkdtempSync(path.join(root, 'raw-'));
  const fds = Array.from({ length: partitions }, (_, p) => fs.openSync(path.join(dir, `raw-${p}.log`), 'w+'));
  const t0 = performance.now();
  for (let i = 0; i < batches.length; i++) fs.writeSync(fds[i % partitions]!, batches[i]!);
  const writeSec = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  for (const fd of fds) {
    let pos = 0;
    for (;;) {
      const buf = Buffer.allocUnsafeSlow(1 << 20);
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      pos += n;
    }
  }
  const readSec = (performance.now() - t1) / 1000;
  for (const fd of fds) fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
  return { writeSec, readSec };
}

async function main(): Promise<void> {
  const batches = makeBatches(RECORDS);
  const bytes = batches.reduce((s, b) => s + b.byteLength, 0);
  log(
    `${RECORDS} records of ${RECORD_SIZE} B in ${batches.length} batches (${(bytes / batches.length / 1024).toFixed(1)} KiB each), ` +
      `${WORKERS} workers, ${IN_FLIGHT} appends in flight, ${RUNS} runs, data in ${root}`,
  );
  const config: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: 256 * 1024 * 1024 };
  const rows: Record<string, number | string>[] = [];
  for (const partitions of [1, 4, 16]) {
    const appendRates: number[] = [];
    const readRates: number[] = [];
    const rawWriteRates: number[] = [];
    const rawReadRates: number[] = [];
    const appendRatios: number[] = [];
    const readRatios: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const raw = rawRun(batches, partitions);
      const eng = await engineRun(batches, partitions, config, RECORDS);
      appendRates.push(RECORDS / eng.appendSec);
      readRates.push(RECORDS / eng.readSec);
      rawWriteRates.push(RECORDS / raw.writeSec);
      rawReadRates.push(RECORDS / raw.readSec);
      appendRatios.push(raw.writeSec / eng.appendSec);
      readRatios.push(raw.readSec / eng.readSec);
      log(
        `  ${partitions} partitions, run ${run + 1}/${RUNS}: append ${(RECORDS / eng.appendSec / 1e6).toFixed(2)}M rec/s ` +
          `(raw ${(RECORDS / raw.writeSec / 1e6).toFixed(2)}M), read ${(RECORDS / eng.readSec / 1e6).toFixed(2)}M rec/s ` +
          `(raw ${(RECORDS / raw.readSec / 1e6).toFixed(2)}M)`,
      );
    }
    const mb = bytes / RECORDS / 1e6;
    rows.push({
      partitions,
      append_records_per_sec: Math.round(median(appendRates)),
      append_mb_per_sec: +(median(appendRates) * mb).toFixed(1),
      raw_write_records_per_sec: Math.round(median(rawWriteRates)),
      append_vs_raw: +median(appendRatios).toFixed(3),
      read_records_per_sec: Math.round(median(readRates)),
      read_mb_per_sec: +(median(readRates) * mb).toFixed(1),
      raw_read_records_per_sec: Math.round(median(rawReadRates)),
      read_vs_raw: +median(readRatios).toFixed(3),
    });
  }

  // fsync before every acknowledgement (flush.messages=1): group commit makes one fsync cover
  // every append waiting for it.
  const fsyncBatches = makeBatches(FSYNC_RECORDS);
  const fsyncRates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const r = await engineRun(fsyncBatches, 1, { ...config, flushMessages: 1 }, FSYNC_RECORDS);
    fsyncRates.push(FSYNC_RECORDS / r.appendSec);
    log(
      `  fsync-before-ack, run ${run + 1}/${RUNS}: ${(FSYNC_RECORDS / r.appendSec / 1e6).toFixed(3)}M rec/s`,
    );
  }
  const fsyncRow = { fsync_before_ack_records_per_sec: Math.round(median(fsyncRates)) };

  if (!args.dir) fs.rmSync(root, { recursive: true, force: true });
  if (args.json) {
    console.log(JSON.stringify({ rows, ...fsyncRow }));
    return;
  }
  console.log(
    '\npartitions | append rec/s | append MB/s | raw write rec/s | append/raw | read rec/s | read MB/s | raw read rec/s | read/raw',
  );
  console.log('---|---|---|---|---|---|---|---|---');
  for (const r of rows) {
    console.log(
      `${r.partitions} | ${r.append_records_per_sec} | ${r.append_mb_per_sec} | ${r.raw_write_records_per_sec} | ${r.append_vs_raw} | ` +
        `${r.read_records_per_sec} | ${r.read_mb_per_sec} | ${r.raw_read_records_per_sec} | ${r.read_vs_raw}`,
    );
  }
  console.log(
    `\nfsync before ack (flush.messages=1, 1 partition, ${IN_FLIGHT} in flight): ${fsyncRow.fsync_before_ack_records_per_sec} rec/s`,
  );
}

await main();
