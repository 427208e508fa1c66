/**
 * The client library against the real broker (a child process): admin operations, byte-identical
 * round trips of keyed records with headers across partitions, every compression codec, long polls
 * woken by a produce, and seeking by offset, timestamp, beginning and end.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Admin,
  AdminError,
  Connection,
  Consumer,
  type ConsumerRecord,
  Producer,
  partitionForKey,
} from '../../src/client/index.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';

let broker: RunningBroker;
let admin: Admin;

function topicName(): string {
  return `client-${randomUUID().slice(0, 8)}`;
}

beforeAll(async () => {
  broker = await startBrokerProcess();
  admin = new Admin({ bootstrap: broker.url });
  await admin.connect();
});

afterAll(async () => {
  await admin?.close();
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

/** Read exactly `n` records from `consumer` (bounded by the test timeout). */
async function readRecords(consumer: Consumer, n: number): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  for await (const record of consumer) {
    out.push(record);
    if (out.length >= n) break;
  }
  return out;
}

describe('admin', () => {
  it('creates, describes, grows, configures and deletes topics', async () => {
    const name = topicName();
    const [created] = await admin.createTopics([
      { name, numPartitions: 2, configs: { 'retention.ms': '3600000' } },
    ]);
    expect(created).toMatchObject({ name, numPartitions: 2 });
    expect(await admin.listTopics()).toContain(name);
    const [described] = await admin.describeTopics([name]);
    expect(described!.partitions.map((p) => p.partition)).toEqual([0, 1]);

    await admin.createPartitions([{ name, count: 4 }]);
    expect((await admin.describeTopics([name]))[0]!.partitions).toHaveLength(4);

    await admin.alterConfigs([{ type: 'topic', name, set: { 'retention.ms': '7200000' } }]);
    const [configs] = await admin.describeConfigs([{ type: 'topic', name, keys: ['retention.ms'] }]);
    expect(configs!.configs).toEqual([expect.objectContaining({ name: 'retention.ms', value: '7200000' })]);
    await admin.alterConfigs([{ type: 'topic', name, delete: ['retention.ms'] }]);
    const [reset] = await admin.describeConfigs([{ type: 'topic', name, keys: ['retention.ms'] }]);
    expect(reset!.configs[0]!.value).not.toBe('7200000');

    expect(await admin.fetchTopicOffsets(name)).toEqual(
      [0, 1, 2, 3].map((partition) => ({ partition, low: 0, high: 0 })),
    );
    await admin.deleteTopics([name]);
    expect(await admin.listTopics()).not.toContain(name);
  });

  it('reports per-item failures in an AdminError, and ignores existing topics when asked', async () => {
    const name = topicName();
    await admin.createTopics([{ name, numPartitions: 1 }]);
    const error = await admin
      .createTopics([
        { name, numPartitions: 1 },
        { name: 'bad name!', numPartitions: 1 },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdminError);
    expect((error as AdminError).code).toBe('TOPIC_ALREADY_EXISTS');
    expect((error as AdminError).failures.map((f) => [f.name, f.error.code])).toEqual([
      [name, 'TOPIC_ALREADY_EXISTS'],
      ['bad name!', 'INVALID_TOPIC_EXCEPTION'],
    ]);
    expect(await admin.createTopics([{ name, numPartitions: 1 }], { ignoreExisting: true })).toEqual([]);
    await expect(admin.describeTopics([topicName()])).rejects.toMatchObject({
      code: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
  });
});

describe('produce and consume', () => {
  it('round-trips keyed records with headers byte for byte, on the murmur2 partition of each key', async () => {
    const topic = topicName();
    await admin.createTopics([{ name: topic, numPartitions: 4 }]);
    const producer = new Producer({ bootstrap: broker.url, lingerMs: 2 });
    const base = Date.now() - 60_000;
    const sent = Array.from({ length: 400 }, (_, i) => ({
      topic,
      key: i % 3 === 0 ? Uint8Array.from([0, 255, i & 0xff, 128]) : `key-${i % 37}`,
      value: i % 50 === 49 ? null : Uint8Array.from({ length: 1 + (i % 300) }, (_, j) => (i * 31 + j) & 0xff),
      headers: [
        { key: 'trace', value: `t-${i}` },
        { key: 'bin', value: Uint8Array.from([i & 0xff, 0, 1]) },
        { key: 'none', value: null },
      ],
      timestamp: base + i,
    }));
    const results = await producer.sendBatch(sent);
    await producer.close();
    for (const [i, r] of results.entries()) {
      expect(r.partition).toBe(partitionForKey(sent[i]!.key, 4));
      expect(r.timestamp).toBe(base + i);
    }

    const consumer = new Consumer({ bootstrap: broker.url });
    consumer.assign([0, 1, 2, 3].map((partition) => ({ topic, partition, offset: 0 })));
    const got = await readRecords(consumer, sent.length);
    await consumer.close();
    const byPlace = new Map(got.map((r) => [`${r.partition}/${r.offset}`, r]));
    for (const [i, s] of sent.entries()) {
      const r = byPlace.get(`${results[i]!.partition}/${results[i]!.offset}`)!;
      const key = typeof s.key === 'string' ? new TextEncoder().encode(s.key) : s.key;
      expect(Buffer.from(r.key!).equals(Buffer.from(key))).toBe(true);
      if (s.value === null) expect(r.value).toBeNull();
      else expect(Buffer.from(r.value!).equals(Buffer.from(s.value))).toBe(true);
      expect(r.timestamp).toBe(s.timestamp);
      expect(r.headers.map((h) => [h.key, h.value && Buffer.from(h.value).toString('hex')])).toEqual([
        ['trace', Buffer.from(`t-${i}`).toString('hex')],
        ['bin', Buffer.from([i & 0xff, 0, 1]).toString('hex')],
        ['none', null],
      ]);
    }
  });

  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`produces and consumes ${compression} batches`, async () => {
      const topic = topicName();
      const producer = new Producer({ bootstrap: broker.url, compression, batchBytes: 16 * 1024 });
      const values = Array.from({ length: 2000 }, (_, i) => `${compression}-${i}-${'x'.repeat(i % 100)}`);
      await producer.sendMany(values.map((value, i) => ({ topic, partition: 0, key: `k${i}`, value })));
      await producer.close();
      const consumer = new Consumer({ bootstrap: broker.url });
      consumer.assign([{ topic, partition: 0, offset: 0 }]);
      const seen: string[] = [];
      for await (const batch of consumer.batches()) {
        expect(batch.compression).toBe(compression);
        for (const r of batch) seen.push(r.valueString()!);
        if (seen.length >= values.length) break;
      }
      await consumer.close();
      expect(seen).toEqual(values);
    });
  }

  it('a parked consumer fetch wakes up as soon as a record is produced', async () => {
    const topic = topicName();
    await admin.createTopics([{ name: topic, numPartitions: 1 }]);
    const connection = new Connection({ bootstrap: broker.url });
    const consumer = new Consumer({ connection, maxWaitMs: 20_000 });
    consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const first = readRecords(consumer, 1);
    // The fetch is on the wire; the producer's own connection and hello take longer than the broker
    // needs to park it.
    await expect.poll(() => connection.inFlight).toBe(1);
    const producer = new Producer({ bootstrap: broker.url, lingerMs: 0 });
    await producer.connect();
    expect(connection.inFlight).toBe(1);
    const started = performance.now();
    await producer.send({ topic, value: 'wake up' });
    const [record] = await first;
    expect(record!.valueString()).toBe('wake up');
    expect(performance.now() - started).toBeLessThan(5_000);
    await producer.close();
    await consumer.close();
    await connection.close();
  });

  it('seeks to an offset, by timestamp, to the beginning and to the end', async () => {
    const topic = topicName();
    await admin.createTopics([{ name: topic, numPartitions: 1 }]);
    const producer = new Producer({ bootstrap: broker.url, batchBytes: 1024 });
    const t0 = 1_700_000_000_000;
    await producer.sendMany(
      Array.from({ length: 100 }, (_, i) => ({ topic, value: `v${i}`, timestamp: t0 + i * 1000 })),
    );
    await producer.close();
    const tp = { topic, partition: 0 };
    const consumer = new Consumer({ bootstrap: broker.url, autoOffsetReset: 'earliest' });
    consumer.assign([tp]);
    expect((await readRecords(consumer, 1))[0]!.offset).toBe(0);

    consumer.seek(tp, 42);
    expect((await readRecords(consumer, 1))[0]!.valueString()).toBe('v42');

    await consumer.seekToTimestamp(tp, t0 + 63_500); // the first record at or after it is v64
    expect(consumer.position(tp)).toBe(64);
    expect((await readRecords(consumer, 1))[0]!.valueString()).toBe('v64');

    await consumer.seekToBeginning([tp]);
    expect((await readRecords(consumer, 1))[0]!.offset).toBe(0);

    await consumer.seekToEnd([tp]);
    expect(consumer.position(tp)).toBe(100);
    await consumer.seekToTimestamp(tp, t0 + 10_000_000); // after every record: the end
    expect(consumer.position(tp)).toBe(100);

    expect(await admin.listOffsets([{ topic, partition: 0, at: t0 + 5_000 }])).toEqual([
      { topic, partition: 0, offset: 5, timestamp: t0 + 5_000 },
    ]);
    await consumer.close();
  });

  it('consumes with run({ eachBatch }) across partitions, from the end when autoOffsetReset is latest', async () => {
    const topic = topicName();
    await admin.createTopics([{ name: topic, numPartitions: 3 }]);
    const producer = new Producer({ bootstrap: broker.url });
    await producer.sendMany(Array.from({ length: 30 }, (_, i) => ({ topic, key: `old-${i}`, value: 'old' })));
    const consumer = new Consumer({ bootstrap: broker.url, maxWaitMs: 200 });
    consumer.assign([0, 1, 2].map((partition) => ({ topic, partition })));
    await expect
      .poll(() => [0, 1, 2].every((partition) => consumer.position({ topic, partition }) !== undefined))
      .toBe(true);
    await producer.sendMany(
      Array.from({ length: 300 }, (_, i) => ({ topic, key: `new-${i}`, value: 'new' })),
    );
    await producer.close();
    const values: string[] = [];
    await consumer.run({
      eachBatch: async (batch) => {
        for (const r of batch) values.push(r.valueString()!);
        if (values.length >= 300) await consumer.close();
      },
    });
    expect(values).toHaveLength(300);
    expect(new Set(values)).toEqual(new Set(['new']));
  });
});
