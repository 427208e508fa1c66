/**
 * Consumer logic against the fake broker: lazy records and batches, skipping records below the fetch
 * offset, several fetches in flight, seek/pause/resume, auto offset reset, and errors surfacing.
 */
import { describe, expect, it } from 'vitest';
import { Consumer } from '../../../src/client/consumer.ts';
import { ConsumerBatch, type ConsumerRecord } from '../../../src/client/consumer-batch.ts';
import { Producer } from '../../../src/client/producer.ts';
import { RecordBatchBuilder } from '../../../src/protocol/kafka/record-batch-builder.ts';
import type { FetchRequest } from '../../../src/protocol/wire/ops.ts';
import { FakeBroker } from './fake-broker.ts';

const utf8 = new TextDecoder();

async function filled(partitions: number, perPartition: number, batchBytes = 300): Promise<FakeBroker> {
  const broker = new FakeBroker();
  broker.createTopic('t', partitions);
  const producer = new Producer({ connection: broker, batchBytes, lingerMs: 0 });
  const records = [];
  for (let p = 0; p < partitions; p++) {
    for (let i = 0; i < perPartition; i++) {
      records.push({ topic: 't', partition: p, key: `k${i}`, value: `p${p}-v${i}`, timestamp: 1_000 + i });
    }
  }
  await producer.sendMany(records);
  await producer.close();
  return broker;
}

/** Read `n` records with the record iterator. */
async function take(consumer: Consumer, n: number): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  if (n === 0) return out;
  for await (const record of consumer) {
    out.push(record);
    if (out.length === n) break;
  }
  return out;
}

describe('lazy batches and records', () => {
  function batch(firstOffset = 0): ConsumerBatch {
    const builder = new RecordBatchBuilder();
    for (let i = 0; i < 5; i++) {
      builder.append({
        key: i % 2 ? null : `k${i}`,
        value: `v${i}`,
        timestamp: 100 + i,
        headers: [{ key: 'h', value: `x${i}` }],
      });
    }
    const bytes = builder.buildSync().slice();
    bytes[7] = 40; // baseOffset 40
    return new ConsumerBatch('t', 3, bytes, firstOffset, 45, 0);
  }

  it('reads records through positions; key, value and headers only when asked', () => {
    const b = batch();
    const records = b.records();
    expect(records.map((r) => [r.topic, r.partition, r.offset, r.timestamp])).toEqual(
      [0, 1, 2, 3, 4].map((i) => ['t', 3, 40 + i, 100 + i]),
    );
    const r1 = records[1]!;
    expect(r1.key).toBeNull();
    expect(r1.valueString()).toBe('v1');
    expect(records[2]!.keyString()).toBe('k2');
    expect(records[2]!.headers.map((h) => [h.key, utf8.decode(h.value!)])).toEqual([['h', 'x2']]);
    // Views into the batch, not copies.
    expect(r1.value!.buffer).toBe(b.bytes.buffer);
  });

  it('skips records below the fetch offset, in the iterator and the cursor alike', () => {
    const b = batch(42);
    expect(b.firstOffset).toBe(42);
    expect(b.lastOffset).toBe(44);
    expect([...b].map((r) => r.offset)).toEqual([42, 43, 44]);
    const cursor = b.cursor();
    const seen: string[] = [];
    while (cursor.next()) seen.push(`${cursor.offset}:${utf8.decode(cursor.value()!)}`);
    expect(seen).toEqual(['42:v2', '43:v3', '44:v4']);
  });
});

describe('consumer', () => {
  it('reads every record of every partition, in order per partition', async () => {
    const broker = await filled(3, 100);
    const consumer = new Consumer({ connection: broker, maxWaitMs: 50 });
    consumer.assign([0, 1, 2].map((partition) => ({ topic: 't', partition, offset: 0 })));
    const records = await take(consumer, 300);
    for (let p = 0; p < 3; p++) {
      const mine = records.filter((r) => r.partition === p);
      expect(mine.map((r) => r.offset)).toEqual(mine.map((_, i) => i));
      expect(mine.map((r) => r.valueString())).toEqual(mine.map((_, i) => `p${p}-v${i}`));
    }
    expect(consumer.position({ topic: 't', partition: 1 })).toBe(100);
    await consumer.close();
  });

  it('starts mid-batch: records below the requested offset are skipped', async () => {
    const broker = await filled(1, 50);
    const consumer = new Consumer({ connection: broker, maxWaitMs: 50 });
    const batchStarts = broker.stored('t', 0).map((b) => b.baseOffset);
    const inside = batchStarts[1]! + 2;
    consumer.assign([{ topic: 't', partition: 0, offset: inside }]);
    const records = await take(consumer, 50 - inside);
    expect(records[0]!.offset).toBe(inside);
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => inside + i));
    await consumer.close();
  });

  it('spreads partitions over several fetches in flight', async () => {
    const broker = await filled(4, 10);
    const consumer = new Consumer({ connection: broker, maxWaitMs: 200, maxFetchesInFlight: 4 });
    consumer.assign([0, 1, 2, 3].map((partition) => ({ topic: 't', partition, offset: 10 })));
    // Everything is read: four parked fetches, one partition each.
    await expect
      .poll(() => broker.requests.filter((r) => r.op === 'fetch').length, { timeout: 1000 })
      .toBeGreaterThanOrEqual(4);
    const fetches = broker.requests
      .filter((r) => r.op === 'fetch')
      .slice(0, 4)
      .map((r) => r.body as FetchRequest);
    expect(fetches.map((f) => f.topics[0]!.partitions.length)).toEqual([1, 1, 1, 1]);
    expect(new Set(fetches.map((f) => f.topics[0]!.partitions[0]!.partition)).size).toBe(4);
    await consumer.close();
  });

  it('a parked fetch returns as soon as records arrive', async () => {
    const broker = new FakeBroker();
    broker.createTopic('t', 1);
    const consumer = new Consumer({ connection: broker, maxWaitMs: 10_000 });
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const next = take(consumer, 1);
    await expect.poll(() => broker.count('fetch')).toBe(1);
    const producer = new Producer({ connection: broker, lingerMs: 0 });
    const started = performance.now();
    await producer.send({ topic: 't', value: 'wake' });
    const [record] = await next;
    expect(record!.valueString()).toBe('wake');
    expect(performance.now() - started).toBeLessThan(1000);
    await consumer.close();
  });

  it('seeks: to an offset, to the beginning, to the end, by timestamp', async () => {
    const broker = await filled(1, 30);
    const consumer = new Consumer({ connection: broker, maxWaitMs: 50 });
    const tp = { topic: 't', partition: 0 };
    consumer.assign([{ ...tp, offset: 0 }]);
    expect((await take(consumer, 5)).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    consumer.seek(tp, 20);
    expect((await take(consumer, 1))[0]!.offset).toBe(20);
    await consumer.seekToBeginning();
    expect(consumer.position(tp)).toBe(0);
    expect((await take(consumer, 1))[0]!.offset).toBe(0);
    await consumer.seekToEnd([tp]);
    expect(consumer.position(tp)).toBe(30);
    // Timestamps are 1000 + i; the fake broker answers with the first batch whose max timestamp ≥ T.
    await consumer.seekToTimestamp(tp, 1_000);
    expect(consumer.position(tp)).toBe(0);
    await consumer.seekToTimestamp(tp, 999_999);
    expect(consumer.position(tp)).toBe(30); // nothing at or after: the end
    await consumer.close();
  });

  it('pause holds a partition back; resume lets it through', async () => {
    const broker = await filled(2, 20);
    const consumer = new Consumer({ connection: broker, maxWaitMs: 50 });
    consumer.assign([0, 1].map((partition) => ({ topic: 't', partition, offset: 0 })));
    consumer.pause([{ topic: 't', partition: 0 }]);
    const first = await take(consumer, 20);
    expect(first.every((r) => r.partition === 1)).toBe(true);
    expect(consumer.paused()).toEqual([{ topic: 't', partition: 0 }]);
    consumer.resume([{ topic: 't', partition: 0 }]);
    const rest = await take(consumer, 20);
    expect(rest.every((r) => r.partition === 0)).toBe(true);
    await consumer.close();
  });

  it('resets an out-of-range offset by autoOffsetReset, or surfaces it with "none"', async () => {
    const broker = await filled(1, 10);
    const earliest = new Consumer({ connection: broker, maxWaitMs: 50, autoOffsetReset: 'earliest' });
    earliest.assign([{ topic: 't', partition: 0, offset: 500 }]);
    expect((await take(earliest, 1))[0]!.offset).toBe(0);
    await earliest.close();

    const latest = new Consumer({ connection: broker, maxWaitMs: 50, autoOffsetReset: 'latest' });
    latest.assign([{ topic: 't', partition: 0 }]);
    await expect.poll(() => latest.position({ topic: 't', partition: 0 })).toBe(10);
    await latest.close();

    const none = new Consumer({ connection: broker, maxWaitMs: 50, autoOffsetReset: 'none' });
    none.assign([{ topic: 't', partition: 0, offset: 500 }]);
    await expect(take(none, 1)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await none.close();
  });

  it('run({ eachBatch }) hands over batches and advances positions after each handler', async () => {
    const broker = await filled(2, 40);
    const consumer = new Consumer({ connection: broker, maxWaitMs: 50 });
    consumer.assign([0, 1].map((partition) => ({ topic: 't', partition, offset: 0 })));
    let count = 0;
    const running = consumer.run({
      eachBatch: async (batch) => {
        const before = consumer.position(batch);
        expect(before).toBe(batch.firstOffset);
        const cursor = batch.cursor();
        while (cursor.next()) count++;
        if (count === 80) void consumer.close();
      },
    });
    await running;
    expect(count).toBe(80);
  });

  it('run() rejects when a handler throws, leaving the position at that batch', async () => {
    const broker = await filled(1, 10);
    const consumer = new Consumer({ connection: broker, maxWaitMs: 50 });
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    await expect(
      consumer.run({
        eachBatch: () => {
          throw new Error('boom');
        },
      }),
    ).rejects.toThrow('boom');
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(0);
    await consumer.close();
  });

  it('for-await ends when the consumer is closed', async () => {
    const broker = new FakeBroker();
    broker.createTopic('t', 1);
    const consumer = new Consumer({ connection: broker, maxWaitMs: 100 });
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const reading = take(consumer, 1);
    await expect.poll(() => broker.count('fetch')).toBeGreaterThan(0);
    await consumer.close();
    expect(await reading).toEqual([]);
  });
});
