/**
 * Micro benchmark of the consumer's client-side cost: decoding fetch answers (CBOR envelope), cutting
 * them into batches, CRC checks, skipping, and handing records to the application, in process, with no
 * network and no broker.
 *
 *   node --import tsx bench/micro/client-consumer.ts
 *
 * The transport answers each fetch with a pre-encoded CBOR frame of up to 1 MiB per partition taken
 * from a log of 64 KiB RecordBatch v2 batches (100-byte values, no key, 4 partitions), and decodes it
 * exactly as Connection does. Reading styles, from fastest to most convenient:
 *   cursor            batches() + batch.cursor(): positions only, no object per record
 *   cursor + value()  the same, plus a Uint8Array view of each value
 *   lazy records      batches() + `for (const r of batch)` + r.value: one small object per record
 *   eager objects     batches() + an object with key, value and headers views per record: what
 *                     decoding every record up front costs (the baseline lazy access is measured against)
 *   for await         `for await (const r of consumer)` + r.value: a promise per record on top
 * Each figure is the median of 5 runs (after a warm-up run).
 */
import { Consumer } from '../../src/client/consumer.ts';
import type { ClientTransport } from '../../src/client/transport.ts';
import { setBaseOffset } from '../../src/protocol/kafka/record-batch.ts';
import { RecordBatchBuilder } from '../../src/protocol/kafka/record-batch-builder.ts';
import { decodeMessage, encodeMessage } from '../../src/protocol/wire/envelope.ts';
import type { FetchRequest, HelloResponse, OpBody, OpName, OpResponse } from '../../src/protocol/wire/ops.ts';

const RUNS = 5;
const PARTITIONS = 4;
const RECORDS_PER_PARTITION = 500_000;
const BATCH_BYTES = 64 * 1024;
const FETCH_BYTES = 1024 * 1024;

interface Log {
  batches: Uint8Array[];
  baseOffsets: number[];
}

function buildLog(): Log {
  const value = new Uint8Array(100).fill(98);
  const batches: Uint8Array[] = [];
  const baseOffsets: number[] = [];
  let offset = 0;
  let builder = new RecordBatchBuilder({ initialCapacity: BATCH_BYTES + 512 });
  const now = Date.now();
  const seal = () => {
    const bytes = builder.buildSync().slice();
    setBaseOffset(bytes, 0, offset);
    baseOffsets.push(offset);
    offset += builder.count;
    batches.push(bytes);
  };
  for (let i = 0; i < RECORDS_PER_PARTITION; i++) {
    builder.append({ value, timestamp: now + i });
    if (builder.sizeInBytes >= BATCH_BYTES - 120) {
      seal();
      builder = new RecordBatchBuilder({ initialCapacity: BATCH_BYTES + 512 });
    }
  }
  if (builder.count > 0) seal();
  return { batches, baseOffsets };
}

/** Answers fetches from `log` (the same log for every partition) with pre-encoded frames. */
class LogBroker implements ClientTransport {
  readonly serverInfo: HelloResponse = {
    protocolVersion: 1,
    server: 'sluice',
    serverVersion: 'bench',
    nodeId: 0,
    maxFrameBytes: 64 * 1024 * 1024,
    maxInFlight: 1024,
  };
  readonly #log: Log;
  readonly #chunks = new Map<number, Uint8Array>();

  constructor(log: Log) {
    this.#log = log;
  }
  connect(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  send(): Promise<void> {
    return Promise.resolve();
  }
  request<K extends OpName>(op: K, body: OpBody<K>): Promise<OpResponse<K>> {
    if (op !== 'fetch') throw new Error(`bench broker: ${op}`);
    const req = body as unknown as FetchRequest;
    const hw = this.#log.baseOffsets.length ? RECORDS_PER_PARTITION : 0;
    const topics = req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        highWatermark: hw,
        lastStableOffset: hw,
        logStartOffset: 0,
        records: this.#chunk(p.offset),
      })),
    }));
    // Encoded here (the broker's work, cheap: the chunks are cached) and decoded as Connection does.
    const frame = encodeMessage({ id: 1, topics });
    return Promise.resolve(decodeMessage(frame) as unknown as OpResponse<K>);
  }

  #chunk(offset: number): Uint8Array | null {
    let chunk = this.#chunks.get(offset);
    if (chunk) return chunk;
    const { batches, baseOffsets } = this.#log;
    let i = baseOffsets.findIndex(
      (b, j) => b <= offset && (baseOffsets[j + 1] ?? Number.POSITIVE_INFINITY) > offset,
    );
    if (i < 0) return null;
    const parts: Uint8Array[] = [];
    let size = 0;
    for (; i < batches.length && size + batches[i]!.length <= FETCH_BYTES; i++) {
      parts.push(batches[i]!);
      size += batches[i]!.length;
    }
    chunk = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      chunk.set(part, at);
      at += part.length;
    }
    this.#chunks.set(offset, chunk);
    return chunk;
  }
}

type Mode = 'cursor' | 'cursor+value()' | 'lazy records' | 'eager objects' | 'for await';

async function consume(log: Log, mode: Mode): Promise<number> {
  const total = PARTITIONS * RECORDS_PER_PARTITION;
  const consumer = new Consumer({ connection: new LogBroker(log), maxWaitMs: 0 });
  consumer.assign(
    Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: 'bench', partition, offset: 0 })),
  );
  let n = 0;
  let sink = 0;
  const start = performance.now();
  if (mode === 'for await') {
    for await (const r of consumer) {
      sink += r.value!.length;
      if (++n === total) break;
    }
  } else {
    for await (const batch of consumer.batches()) {
      if (mode === 'lazy records') {
        for (const r of batch) {
          sink += r.value!.length;
          n++;
        }
      } else if (mode === 'eager objects') {
        // What a client without lazy access does: every field of every record materialised.
        const c = batch.cursor();
        while (c.next()) {
          const r = {
            offset: c.offset,
            timestamp: c.timestamp,
            key: c.key(),
            value: c.value(),
            headers: c.headers(),
          };
          sink += r.value!.length;
          n++;
        }
      } else {
        const c = batch.cursor();
        if (mode === 'cursor') {
          while (c.next()) {
            sink += c.valueLength;
            n++;
          }
        } else {
          while (c.next()) {
            sink += c.value()!.length;
            n++;
          }
        }
      }
      if (n >= total) break;
    }
  }
  const rate = n / ((performance.now() - start) / 1000);
  await consumer.close();
  if (sink === 0) throw new Error('unreachable');
  return rate;
}

async function median(fn: () => Promise<number>): Promise<number> {
  await fn(); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) rates.push(await fn());
  rates.sort((a, b) => a - b);
  return rates[Math.floor(RUNS / 2)]!;
}

function fmt(rate: number): string {
  return `${(rate / 1e6).toFixed(2)}M records/s (${((rate * 100) / 1e6).toFixed(0)} MB/s of values)`;
}

async function main(): Promise<void> {
  const log = buildLog();
  console.log(
    `Consumer client-side cost, ${PARTITIONS} partitions × ${RECORDS_PER_PARTITION} records of 100 bytes, ` +
      `${log.batches.length} batches of ~64 KiB per partition, 1 MiB fetches, CRC checked, median of ${RUNS}, node ${process.version}`,
  );
  for (const mode of ['cursor', 'cursor+value()', 'lazy records', 'eager objects', 'for await'] as const) {
    console.log(`  ${mode.padEnd(16)} ${fmt(await median(() => consume(log, mode)))}`);
  }
}

await main();
