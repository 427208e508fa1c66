/**
 * Log compaction benchmark: fill a compacted partition with updates to a fixed set of keys
 * (100-byte random-text values in ~16 KiB RecordBatch v2 batches, measured before compression),
 * then time a full cleaning pass over it — key map, filter, recompression, rewrite, fsync and swap,
 * in the production step size — through PartitionLog on this thread. The segments were just
 * written, so reads come from the page cache.
 *
 * Reports, per run, the bytes the pass rewrote divided by its wall time (MB/s cleaned; the map
 * phase reads the dirty part once more on top), records removed per second, and the size after;
 * prints the median of `--runs` runs. `--map-keys` overrides the pass's key-map limit (1,000,000).
 *
 *   node --import tsx bench/storage/compaction.ts [--mb 64] [--keys 10000] [--codec none|gzip|snappy|lz4|zstd]
 *                                                 [--runs 3] [--segment-mb 16] [--map-keys N] [--json]
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type CompressionName, isCompressionName } from '../../src/protocol/kafka/record-batch.ts';
import { RecordBatchBuilder } from '../../src/protocol/kafka/record-batch-builder.ts';
import { PartitionLog, prepareBatch } from '../../src/storage/log.ts';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/storage/log-config.ts';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '64' },
    keys: { type: 'string', default: '10000' },
    codec: { type: 'string', default: 'none' },
    runs: { type: 'string', default: '3' },
    'segment-mb': { type: 'string', default: '16' },
    'map-keys': { type: 'string' },
    dir: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const TOTAL_BYTES = Number(args.mb) * 1024 * 1024;
const KEYS = Number(args.keys);
const RUNS = Number(args.runs);
const VALUE_SIZE = 100;
const BATCH_BYTES = 16 * 1024;
if (!isCompressionName(args.codec)) throw new Error(`unknown codec ${args.codec}`);
const CODEC: CompressionName = args.codec;
const root = args.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-compaction-'));

const config: LogConfig = {
  ...DEFAULT_LOG_CONFIG,
  cleanupPolicy: 'compact',
  segmentBytes: Number(args['segment-mb']) * 1024 * 1024,
};

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Fill a partition with ~TOTAL_BYTES of updates cycling over KEYS keys; returns the record count. */
async function fill(dir: string): Promise<number> {
  const log = await PartitionLog.open(dir, config);
  // Values from a pool of random hex text, so compressed batches compress about 2:1, not 100:1.
  const pool = Buffer.from(randomBytes(32 * 1024).toString('hex'), 'latin1');
  let records = 0;
  let bytes = 0;
  while (bytes < TOTAL_BYTES) {
    const builder = new RecordBatchBuilder({ compression: CODEC, initialCapacity: BATCH_BYTES + 1024 });
    while (builder.sizeInBytes + VALUE_SIZE + 32 < BATCH_BYTES) {
      const at = (records * 97) % (pool.length - VALUE_SIZE);
      const value = pool.subarray(at, at + VALUE_SIZE);
      builder.append({ key: `key-${records % KEYS}`, value, timestamp: 1_700_000_000_000 + records });
      records++;
    }
    const batch = new Uint8Array(await builder.build());
    bytes += batch.byteLength;
    log.append([await prepareBatch(batch, config)]);
  }
  await log.close();
  return records;
}

interface Run {
  cleanedMBps: number;
  removedRecordsPerSec: number;
  beforeBytes: number;
  afterBytes: number;
  seconds: number;
}

async function run(i: number): Promise<Run> {
  const dir = path.join(root, `run-${i}`);
  const records = await fill(dir);
  const log = await PartitionLog.open(dir, config);
  const before = log.stats();
  const status = log.cleanerStatus();
  const closedBytes = status.cleanBytes + status.dirtyBytes;
  const started = performance.now();
  let removed = 0;
  let cleanedBytes = 0;
  const maxMapKeys = args['map-keys'] === undefined ? undefined : Number(args['map-keys']);
  for (;;) {
    const p = await log.clean({ force: true, ...(maxMapKeys ? { maxMapKeys } : {}) });
    removed += p.removedRecords;
    cleanedBytes += p.cleanedBytes;
    if (p.abandoned) throw new Error(`pass abandoned: ${p.abandoned}`);
    if (p.done) break;
  }
  const seconds = (performance.now() - started) / 1000;
  const after = log.stats();
  await log.close();
  fs.rmSync(dir, { recursive: true, force: true });
  // MB/s counts what the pass rewrote (a full key map ends a pass early, leaving the rest dirty).
  say(
    `run ${i}: ${records} records, ${(closedBytes / 1e6).toFixed(1)} MB in closed segments, ` +
      `${(cleanedBytes / 1e6).toFixed(1)} MB cleaned → ${(after.sizeBytes / 1e6).toFixed(2)} MB in ` +
      `${seconds.toFixed(2)} s: ${(cleanedBytes / 1e6 / seconds).toFixed(1)} MB/s, ` +
      `${Math.round(removed / seconds)} removed records/s`,
  );
  return {
    cleanedMBps: cleanedBytes / 1e6 / seconds,
    removedRecordsPerSec: removed / seconds,
    beforeBytes: before.sizeBytes,
    afterBytes: after.sizeBytes,
    seconds,
  };
}

async function main(): Promise<void> {
  say(
    `compaction: ${args.mb} MB, ${KEYS} keys, codec ${CODEC}, segment.bytes ${args['segment-mb']} MiB, ${RUNS} runs`,
  );
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await run(i));
  const result = {
    codec: CODEC,
    mb: Number(args.mb),
    keys: KEYS,
    runs: RUNS,
    medianCleanedMBps: median(runs.map((r) => r.cleanedMBps)),
    medianRemovedRecordsPerSec: median(runs.map((r) => r.removedRecordsPerSec)),
    medianSeconds: median(runs.map((r) => r.seconds)),
    afterBytes: median(runs.map((r) => r.afterBytes)),
  };
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    process.stdout.write(
      `median of ${RUNS}: ${result.medianCleanedMBps.toFixed(1)} MB/s cleaned, ` +
        `${Math.round(result.medianRemovedRecordsPerSec)} removed records/s (${CODEC}, ${KEYS} keys)\n`,
    );
  if (!args.dir) fs.rmSync(root, { recursive: true, force: true });
}

await main();
