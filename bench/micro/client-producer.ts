/**
 * Micro benchmark of the producer's client-side cost: partitioning, encoding records into batches,
 * building them (CRC-32C), assembling produce requests and CBOR-encoding them, and settling the
 * answers, in process, with no network and no broker.
 *
 *   node --import tsx bench/micro/client-producer.ts
 *
 * The transport CBOR-encodes every produce request exactly as Connection does (the frame is then
 * dropped) and answers at once with base offsets. Records are Kreps-style: a 100-byte value, no key
 * (sticky partitioning over 4 partitions), no headers, sent with `sendMany` from a generator (the bulk
 * path). Also measured: 16-byte string keys (murmur2 partitioning), and one `send()` promise per record.
 * Each figure is the median of 5 runs (after a warm-up run).
 */
import { Producer, type ProducerOptions } from '../../src/client/producer.ts';
import type { ClientTransport } from '../../src/client/transport.ts';
import { encodeMessage } from '../../src/protocol/wire/envelope.ts';
import type {
  HelloResponse,
  OpBody,
  OpName,
  OpResponse,
  ProduceRequest,
} from '../../src/protocol/wire/ops.ts';

const RUNS = 5;
const RECORDS = 1_000_000;
const PARTITIONS = 4;

/** Answers metadata and produce in process; produce requests are CBOR-encoded like on the wire. */
class NullBroker implements ClientTransport {
  readonly serverInfo: HelloResponse = {
    protocolVersion: 1,
    server: 'sluice',
    serverVersion: 'bench',
    nodeId: 0,
    maxFrameBytes: 64 * 1024 * 1024,
    maxInFlight: 1024,
  };
  frameBytes = 0;
  #offsets = new Map<string, number>();
  #id = 0;

  connect(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  send<K extends OpName>(op: K, body: OpBody<K>): Promise<void> {
    this.frameBytes += encodeMessage({ ...body, id: ++this.#id, op }).length;
    return Promise.resolve();
  }
  request<K extends OpName>(op: K, body: OpBody<K>): Promise<OpResponse<K>> {
    if (op === 'metadata') {
      const topics = (body as unknown as { topics: string[] }).topics.map((name) => ({
        name,
        topicId: name,
        isInternal: false,
        partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({
          partition,
          leader: 0,
          leaderEpoch: 0,
          replicas: [0],
          isr: [0],
        })),
      }));
      return Promise.resolve({ clusterId: 'bench', controllerId: 0, brokers: [], topics } as OpResponse<K>);
    }
    const req = body as unknown as Omit<ProduceRequest, 'op'>;
    this.frameBytes += encodeMessage({ ...req, id: ++this.#id, op }).length;
    const topics = req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        const key = `${t.topic}/${p.partition}`;
        const base = this.#offsets.get(key) ?? 0;
        const count =
          (p.records[57]! << 24) | (p.records[58]! << 16) | (p.records[59]! << 8) | p.records[60]!;
        this.#offsets.set(key, base + count);
        return { partition: p.partition, baseOffset: base, logAppendTime: -1, logStartOffset: 0 };
      }),
    }));
    return Promise.resolve({ topics } as OpResponse<K>);
  }
}

const value = new Uint8Array(100).fill(97);
const keys = Array.from({ length: 1024 }, (_, i) => `user-${String(i).padStart(11, '0')}`);

async function run(kind: 'keyless' | 'keyed' | 'send()', options: ProducerOptions): Promise<number> {
  const producer = new Producer({ connection: new NullBroker(), ...options });
  await producer.connect();
  const n = kind === 'send()' ? RECORDS / 4 : RECORDS;
  const start = performance.now();
  if (kind === 'send()') {
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      pending.push(producer.send({ topic: 'bench', value }));
      if (pending.length === 10_000) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
  } else {
    function* records() {
      if (kind === 'keyless') for (let i = 0; i < n; i++) yield { topic: 'bench', value };
      else for (let i = 0; i < n; i++) yield { topic: 'bench', key: keys[i & 1023]!, value };
    }
    await producer.sendMany(records());
  }
  const rate = n / ((performance.now() - start) / 1000);
  await producer.close();
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
  console.log(
    `Producer client-side cost, 100-byte values, ${PARTITIONS} partitions, median of ${RUNS}, node ${process.version}`,
  );
  const base = { lingerMs: 0 } as const;
  console.log(`  sendMany, keyless, 64 KiB batches     ${fmt(await median(() => run('keyless', base)))}`);
  console.log(`  sendMany, 16-byte keys (murmur2)      ${fmt(await median(() => run('keyed', base)))}`);
  console.log(
    `  sendMany, keyless, 16 KiB batches     ${fmt(await median(() => run('keyless', { ...base, batchBytes: 16 * 1024 })))}`,
  );
  console.log(
    `  sendMany, keyless, lz4                ${fmt(await median(() => run('keyless', { ...base, compression: 'lz4' })))}`,
  );
  console.log(`  send() per record                     ${fmt(await median(() => run('send()', base)))}`);
}

await main();
