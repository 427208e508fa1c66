/**
 * Micro benchmark of the RecordBatch v2 codec: build and read 16 KiB batches of 100-byte records.
 *
 *   node --import tsx bench/micro/record-batch.ts
 *
 * Each figure is the median of 5 runs (after a warm-up run) of about 1M records, on one core.
 * Records are Kreps-style: a 100-byte value, no key, no headers. "cursor" walks every record and
 * touches its value position without materialising views; "cursor+value()" also creates the view;
 * "summarize" is what the storage engine runs on every append (validation + true max timestamp).
 */

import {
  type CompressionName,
  checkBatch,
  openRecordCursor,
  openRecordCursorSync,
  summarizeRecords,
  summarizeRecordsSync,
} from '../../src/protocol/kafka/record-batch.ts';
import { RecordBatchBuilder } from '../../src/protocol/kafka/record-batch-builder.ts';

const BATCH_BYTES = 16 * 1024;
const RECORD_BYTES = 100;
const RECORDS_PER_RUN = 1_000_000;
const RUNS = 5;

// Random-ish but compressible-ish payloads (like JSON events): 16 distinct byte values.
const values = Array.from({ length: 64 }, (_, i) =>
  Uint8Array.from({ length: RECORD_BYTES }, (_, j) => 97 + ((i * 7 + j * 13 + ((i * j) >> 3)) & 15)),
);

async function buildBatches(compression: CompressionName, records: number): Promise<Uint8Array[]> {
  const batches: Uint8Array[] = [];
  let builder = new RecordBatchBuilder({ compression, initialCapacity: BATCH_BYTES + 256 });
  const now = Date.now();
  for (let i = 0; i < records; i++) {
    builder.append({ value: values[i & 63]!, timestamp: now + (i & 1023) });
    if (builder.sizeInBytes >= BATCH_BYTES - RECORD_BYTES - 8) {
      batches.push(compression === 'none' ? builder.buildSync() : await builder.build());
      builder = new RecordBatchBuilder({ compression, initialCapacity: BATCH_BYTES + 256 });
    }
  }
  if (builder.count > 0) batches.push(await builder.build());
  return batches;
}

async function median(fn: () => Promise<number> | number): Promise<number> {
  await fn(); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const records = await fn();
    rates.push(records / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(RUNS / 2)]!;
}

function fmt(rate: number): string {
  return `${(rate / 1e6).toFixed(2)}M records/s (${((rate * RECORD_BYTES) / 1e6).toFixed(0)} MB/s of values)`;
}

async function main(): Promise<void> {
  console.log(
    `RecordBatch v2, ${BATCH_BYTES / 1024} KiB batches of ${RECORD_BYTES}-byte records, median of ${RUNS}, node ${process.version}`,
  );
  for (const compression of ['none', 'lz4', 'zstd', 'snappy', 'gzip'] as const) {
    const per = compression === 'none' ? RECORDS_PER_RUN : RECORDS_PER_RUN / 4;
    const batches = await buildBatches(compression, per);
    const perBatch = Math.round(per / batches.length);
    const avgSize = Math.round(batches.reduce((n, b) => n + b.length, 0) / batches.length);
    console.log(`\n${compression}: ${perBatch} records per batch, ${avgSize} bytes per batch on the wire`);
    const build = async (): Promise<number> => {
      await buildBatches(compression, per);
      return per;
    };
    console.log(`  build            ${fmt(await median(build))}`);
    if (compression === 'none') {
      console.log(
        `  checkBatch (CRC) ${fmt(
          await median(() => {
            for (const b of batches) if (checkBatch(b)) throw new Error('invalid');
            return per;
          }),
        )}`,
      );
      console.log(
        `  cursor           ${fmt(
          await median(() => {
            let n = 0;
            let sum = 0;
            for (const b of batches) {
              const c = openRecordCursorSync(b);
              while (c.next()) sum += c.valueLength + c.valueStart;
              n += c.count;
            }
            if (sum === 0) throw new Error('unreachable');
            return n;
          }),
        )}`,
      );
      console.log(
        `  cursor+value()   ${fmt(
          await median(() => {
            let n = 0;
            let sum = 0;
            for (const b of batches) {
              const c = openRecordCursorSync(b);
              while (c.next()) sum += c.value()![0]!;
              n += c.count;
            }
            if (sum === 0) throw new Error('unreachable');
            return n;
          }),
        )}`,
      );
      console.log(
        `  summarizeSync    ${fmt(
          await median(() => {
            for (const b of batches) summarizeRecordsSync(b);
            return per;
          }),
        )}`,
      );
    } else {
      console.log(
        `  cursor           ${fmt(
          await median(async () => {
            let n = 0;
            for (const b of batches) {
              const c = await openRecordCursor(b);
              while (c.next()) n++;
            }
            return n;
          }),
        )}`,
      );
      console.log(
        `  summarize        ${fmt(
          await median(async () => {
            for (const b of batches) await summarizeRecords(b);
            return per;
          }),
        )}`,
      );
    }
  }
}

await main();
