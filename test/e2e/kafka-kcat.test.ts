/**
 * kcat (librdkafka 2.0.2) against the broker as a child process: metadata, produce with every codec,
 * every acks setting and idempotence, consume from every kind of start offset, offsets for times,
 * keys and headers. What kcat wrote is checked in the stored batches (through a WebSocket fetch), and
 * what kcat reads is checked against what was stored.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/kafka/api-keys.ts';
import { decodeRecordBatch, iterateBatches, readBatchHeader } from '../../src/protocol/kafka/record-batch.ts';
import { makeBatch } from '../helpers/batches.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import { RawWsClient } from '../helpers/ws-raw.ts';
import {
  CONSUME_FORMAT,
  describeWithKcat,
  KCAT,
  kcat,
  kcatOk,
  parseConsumed,
} from '../unit/router/kafka/kcat.ts';
import { RawKafkaClient, topicName } from '../unit/router/kafka/raw-kafka-client.ts';

let broker: RunningBroker;
let kafka: RawKafkaClient;
let ws: RawWsClient;
let bootstrap: string;

beforeAll(async () => {
  broker = await startBrokerProcess();
  bootstrap = `127.0.0.1:${broker.kafkaPort}`;
  kafka = await RawKafkaClient.connect(broker.kafkaPort);
  ws = await RawWsClient.connect(broker.url);
});

afterAll(async () => {
  kafka?.close();
  ws?.close();
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

async function createTopic(partitions = 1): Promise<string> {
  const name = topicName('kcat');
  const r = await kafka.request(API_KEYS.CreateTopics, 4, {
    topics: [{ name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [] }],
    timeoutMs: 5000,
  });
  expect(r.topics[0]!.errorCode).toBe(0);
  return name;
}

/** Every stored batch of a partition, through the WebSocket protocol. */
async function storedBatches(topic: string, partition = 0): Promise<Uint8Array[]> {
  const r = await ws.request('fetch', {
    maxWaitMs: 0,
    maxBytes: 64 << 20,
    topics: [{ topic, partitions: [{ partition, offset: 0, maxBytes: 64 << 20 }] }],
  });
  const records = (r.topics as { partitions: { records: Uint8Array | null }[] }[])[0]!.partitions[0]!.records;
  return records ? [...iterateBatches(records)] : [];
}

async function storedRecords(topic: string, partition = 0) {
  const out = [];
  for (const b of await storedBatches(topic, partition)) out.push(...(await decodeRecordBatch(b)).records);
  return out;
}

async function highWatermark(topic: string, partition = 0): Promise<number> {
  const r = await kafka.request(API_KEYS.ListOffsets, 2, {
    replicaId: -1,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp: -1 }] }],
  });
  return r.topics[0]!.partitions[0]!.offset!;
}

/** Produce batches with a raw Kafka request (kcat cannot set timestamps); every partition must succeed. */
async function produceRaw(topic: string, partitionData: { index: number; records: Uint8Array }[]) {
  const r = await kafka.request(API_KEYS.Produce, 7, {
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData }],
  });
  expect(r.responses[0]!.partitionResponses.map((p) => p.errorCode)).toEqual(partitionData.map(() => 0));
}

function consume(topic: string, ...args: string[]): Promise<Buffer> {
  return kcatOk(['-b', bootstrap, '-C', '-t', topic, '-e', '-q', '-f', CONSUME_FORMAT, ...args]);
}

/** n distinct values that compress well (so librdkafka keeps the compressed batch). */
function values(n: number, tag: string): string[] {
  return Array.from({ length: n }, (_, i) => `${tag}-${i}-${'sluice'.repeat(30)}`);
}

describeWithKcat('kcat', () => {
  it('is installed', () => {
    expect(KCAT).toBeDefined();
  });

  it('lists brokers and topics (-L): this node at its advertised Kafka port, controller', async () => {
    const topic = await createTopic(3);
    const meta = JSON.parse((await kcatOk(['-b', bootstrap, '-L', '-J'])).toString()) as {
      controllerid: number;
      brokers: { id: number; name: string }[];
      topics: { topic: string; partitions: { partition: number; leader: number }[] }[];
    };
    expect(meta.brokers).toEqual([{ id: 0, name: bootstrap }]);
    expect(meta.controllerid).toBe(0);
    const t = meta.topics.find((x) => x.topic === topic);
    expect(t?.partitions.map((p) => [p.partition, p.leader])).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
    ]);
  });

  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`produces with -z ${codec}: stored compressed that way, read back unchanged`, async () => {
      const topic = await createTopic();
      const sent = values(200, codec);
      await kcatOk(
        ['-b', bootstrap, '-P', '-t', topic, '-z', codec, '-X', 'linger.ms=50'],
        `${sent.join('\n')}\n`,
      );
      const batches = await storedBatches(topic);
      expect(batches.length).toBeGreaterThan(0);
      for (const b of batches) expect(readBatchHeader(b).compression).toBe(codec);
      expect((await storedRecords(topic)).map((r) => Buffer.from(r.value!).toString())).toEqual(sent);
      const consumed = parseConsumed(await consume(topic, '-o', 'beginning'));
      expect(consumed.map((r) => r.value!.toString())).toEqual(sent);
      expect(consumed.map((r) => r.offset)).toEqual(sent.map((_, i) => i));
    });
  }

  for (const acks of ['0', '1', 'all']) {
    it(`produces with -X acks=${acks}: every record arrives, once`, async () => {
      const topic = await createTopic(3);
      const sent = values(3000, `acks${acks}`);
      await kcatOk(
        ['-b', bootstrap, '-P', '-t', topic, '-X', `acks=${acks}`, '-X', 'batch.num.messages=100'],
        `${sent.join('\n')}\n`,
      );
      // acks=0: kcat is done once the bytes are sent; wait (bounded) until the broker has them all.
      for (let i = 0; i < 100; i++) {
        const total = (await Promise.all([0, 1, 2].map((p) => highWatermark(topic, p)))).reduce(
          (a, b) => a + b,
        );
        if (total >= sent.length) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const consumed = parseConsumed(await consume(topic, '-o', 'beginning'));
      expect(consumed.map((r) => r.value!.toString()).sort()).toEqual([...sent].sort());
    });
  }

  it('produces idempotently (-X enable.idempotence=true): producer id and sequences, no duplicates', async () => {
    const topic = await createTopic();
    const sent = values(2000, 'idem');
    await kcatOk(
      ['-b', bootstrap, '-P', '-t', topic, '-X', 'enable.idempotence=true', '-X', 'batch.num.messages=50'],
      `${sent.join('\n')}\n`,
    );
    const batches = await storedBatches(topic);
    expect(batches.length).toBeGreaterThan(10);
    let nextSequence = 0;
    const producerIds = new Set<number>();
    for (const b of batches) {
      const h = readBatchHeader(b);
      producerIds.add(h.producerId);
      expect(h.producerEpoch).toBe(0);
      expect(h.baseSequence).toBe(nextSequence);
      nextSequence += h.lastOffsetDelta + 1;
    }
    expect(producerIds.size).toBe(1);
    expect([...producerIds][0]).toBeGreaterThanOrEqual(0);
    expect((await storedRecords(topic)).map((r) => Buffer.from(r.value!).toString())).toEqual(sent);
  });

  it('consumes from beginning, end, an offset, a relative offset and a timestamp (-o … -e)', async () => {
    const topic = await createTopic();
    const base = 1_700_000_000_000;
    // Ten records one second apart, in two batches, with known timestamps.
    for (const [first, count] of [
      [0, 6],
      [6, 4],
    ] as const) {
      const records = makeBatch({ count, tag: `o${first}`, timestamp: (i) => base + (first + i) * 1000 });
      await produceRaw(topic, [{ index: 0, records }]);
    }
    const offsets = async (...args: string[]) =>
      parseConsumed(await consume(topic, ...args)).map((r) => r.offset);
    expect(await offsets('-o', 'beginning')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await offsets('-o', 'end')).toEqual([]);
    expect(await offsets('-o', '4')).toEqual([4, 5, 6, 7, 8, 9]);
    expect(await offsets('-o', '-3')).toEqual([7, 8, 9]);
    expect(await offsets('-o', `s@${base + 6000}`)).toEqual([6, 7, 8, 9]);
    expect(await offsets('-o', `s@${base + 2500}`)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(await offsets('-o', `s@${base + 60_000}`)).toEqual([]);
    const timestamps = parseConsumed(await consume(topic, '-o', '8')).map((r) => r.timestamp);
    expect(timestamps).toEqual([base + 8000, base + 9000]);
  });

  it('answers offsets for times (-Q)', async () => {
    const topic = await createTopic(2);
    const base = 1_700_000_000_000;
    await produceRaw(topic, [
      { index: 0, records: makeBatch({ count: 5, timestamp: (i) => base + i * 1000 }) },
      { index: 1, records: makeBatch({ count: 5, timestamp: (i) => base + 10_000 + i * 1000 }) },
    ]);
    const query = async (partition: number, ts: number) => {
      const out = (await kcatOk(['-b', bootstrap, '-Q', '-t', `${topic}:${partition}:${ts}`])).toString();
      const m = new RegExp(`${topic} \\[${partition}\\] offset (-?\\d+)`).exec(out);
      if (!m) throw new Error(`unexpected kcat -Q output: ${out}`);
      return Number(m[1]);
    };
    expect(await query(0, base)).toBe(0);
    expect(await query(0, base + 2000)).toBe(2);
    expect(await query(0, base + 2001)).toBe(3);
    expect(await query(0, base + 1)).toBe(1);
    expect(await query(1, base)).toBe(0);
    expect(await query(1, base + 13_500)).toBe(4);
    expect(await query(0, base + 60_000)).toBe(-1);
  });

  it('keeps keys (-K) and headers (-H), binary bytes included, across produce and consume', async () => {
    const topic = await createTopic();
    // Keys and values with every byte but the two delimiters (0x01 between records, 0x02 before values).
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((b) => b !== 1 && b !== 2));
    const messages = [
      { key: Buffer.from('k1'), value: Buffer.from('v1') },
      { key: Buffer.alloc(0), value: bytes },
      { key: bytes, value: Buffer.alloc(0) },
    ];
    const input = Buffer.concat(
      messages.flatMap((m) => [m.key, Buffer.from([2]), m.value, Buffer.from([1])]),
    );
    await kcatOk(
      ['-b', bootstrap, '-P', '-t', topic, '-D', '\\x01', '-K', '\\x02', '-H', 'trace=abc', '-H', 'n=1'],
      input,
    );
    const stored = await storedRecords(topic);
    expect(stored.map((r) => [Buffer.from(r.key!), Buffer.from(r.value!)])).toEqual(
      messages.map((m) => [m.key, m.value]),
    );
    for (const r of stored) {
      expect(r.headers.map((h) => [h.key, Buffer.from(h.value!).toString()])).toEqual([
        ['trace', 'abc'],
        ['n', '1'],
      ]);
    }
    const consumed = parseConsumed(await consume(topic, '-o', 'beginning'));
    expect(consumed.map((r) => [r.key, r.value])).toEqual(messages.map((m) => [m.key, m.value]));
    expect(consumed.map((r) => r.headers)).toEqual(['trace=abc,n=1', 'trace=abc,n=1', 'trace=abc,n=1']);
    expect(consumed.map((r) => r.timestamp)).toEqual(stored.map((r) => r.timestamp));
  });

  it('consumes every partition of a topic written with keys', async () => {
    const topic = await createTopic(3);
    const input = Array.from({ length: 300 }, (_, i) => `key${i}:value${i}`).join('\n');
    await kcatOk(['-b', bootstrap, '-P', '-t', topic, '-K:'], `${input}\n`);
    const consumed = parseConsumed(await consume(topic, '-o', 'beginning'));
    expect(new Set(consumed.map((r) => r.partition)).size).toBe(3);
    expect(consumed.map((r) => `${r.key}:${r.value}`).sort()).toEqual(input.split('\n').sort());
  });

  it('reports that SASL is not offered when configured for it', async () => {
    const r = await kcat([
      '-b',
      bootstrap,
      '-L',
      '-m',
      '2',
      '-X',
      'security.protocol=SASL_PLAINTEXT',
      '-X',
      'sasl.mechanisms=PLAIN',
      '-X',
      'sasl.username=u',
      '-X',
      'sasl.password=p',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SASL Handshake not supported by broker');
  });
});
