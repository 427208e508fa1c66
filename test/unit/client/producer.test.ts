/**
 * Producer logic against the in-process fake broker: batching by bytes and linger, several
 * partitions per request, result offsets, the bounded buffer (backpressure, BUFFER_FULL), the
 * in-flight window, retries of retriable errors, and acks 0.
 */
import { describe, expect, it } from 'vitest';
import { Producer } from '../../../src/client/producer.ts';
import type { ProduceRequest } from '../../../src/protocol/wire/ops.ts';
import { FakeBroker, storedRecords } from './fake-broker.ts';

const value100 = new Uint8Array(100).fill(7);

function produceRequests(broker: FakeBroker): ProduceRequest[] {
  return broker.requests.filter((r) => r.op === 'produce').map((r) => r.body as ProduceRequest);
}

function setup(partitions = 1): FakeBroker {
  const broker = new FakeBroker();
  broker.createTopic('t', partitions);
  return broker;
}

describe('producer batching', () => {
  it('send() resolves with consecutive offsets and the record timestamp', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, lingerMs: 0 });
    const results = await Promise.all(
      [0, 1, 2].map((i) => producer.send({ topic: 't', value: `v${i}`, timestamp: 1_700_000_000_000 + i })),
    );
    expect(results).toEqual(
      [0, 1, 2].map((i) => ({ topic: 't', partition: 0, offset: i, timestamp: 1_700_000_000_000 + i })),
    );
    expect(await storedRecords(broker, 't', 0)).toEqual(
      [0, 1, 2].map((i) => ({ offset: i, key: null, value: `v${i}` })),
    );
    await producer.close();
  });

  it('sendBatch() returns one result per record, in order, across partitions', async () => {
    const broker = setup(3);
    const producer = new Producer({ connection: broker });
    const records = Array.from({ length: 30 }, (_, i) => ({ topic: 't', partition: i % 3, value: `v${i}` }));
    const results = await producer.sendBatch(records);
    expect(results.map((r) => [r.partition, r.offset])).toEqual(
      records.map((_, i) => [i % 3, Math.floor(i / 3)]),
    );
    await producer.close();
  });

  it('closes a batch at batchBytes and sends it without waiting for linger', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, batchBytes: 4096, lingerMs: 60_000 });
    await producer.connect();
    const started = Date.now();
    // 200 records of ~110 bytes: 5 full batches, a partial one left lingering.
    const all = producer.sendMany(Array.from({ length: 200 }, () => ({ topic: 't', value: value100 })));
    await expect.poll(() => broker.stored('t', 0).length, { timeout: 2000 }).toBeGreaterThanOrEqual(5);
    const sizes = broker.stored('t', 0).map((b) => b.bytes.length);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(4096);
    for (const size of sizes) expect(size).toBeGreaterThan(4096 - 120);
    expect(Date.now() - started).toBeLessThan(30_000);
    await producer.flush(); // sends the lingering rest
    await all;
    expect((await storedRecords(broker, 't', 0)).length).toBe(200);
    await producer.close();
  });

  it('waits lingerMs for more records before sending a batch that is not full', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, lingerMs: 150 });
    await producer.connect();
    const started = performance.now();
    const first = producer.send({ topic: 't', value: 'a' });
    await new Promise((r) => setTimeout(r, 20));
    const second = producer.send({ topic: 't', value: 'b' });
    await Promise.all([first, second]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(broker.count('produce')).toBe(1); // both records in one batch
    await producer.close();
  });

  it('with lingerMs 0 sends at once, and batches what arrives while the window is full', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, lingerMs: 0, maxInFlightRequests: 1 });
    await producer.connect();
    broker.hold();
    const first = producer.send({ topic: 't', value: 'first' });
    await expect.poll(() => broker.heldCount).toBe(1);
    const rest = Array.from({ length: 10 }, (_, i) => producer.send({ topic: 't', value: `r${i}` }));
    await new Promise((r) => setTimeout(r, 20));
    expect(broker.count('produce')).toBe(1); // the window (1 request) is full
    broker.release();
    await first;
    await expect.poll(() => broker.count('produce')).toBe(2);
    broker.release();
    await Promise.all(rest);
    expect(broker.stored('t', 0).map((b) => b.lastOffset - b.baseOffset + 1)).toEqual([1, 10]);
    await producer.close();
  });

  it('puts several partitions’ batches into one produce request, one batch per partition', async () => {
    const broker = setup(4);
    const producer = new Producer({ connection: broker, lingerMs: 60_000 });
    const sent = producer.sendMany(
      Array.from({ length: 40 }, (_, i) => ({ topic: 't', partition: i % 4, value: `v${i}` })),
    );
    await producer.flush(); // one drain sends the four open batches
    await sent;
    const requests = produceRequests(broker);
    expect(requests).toHaveLength(1);
    const partitions = requests[0]!.topics[0]!.partitions.map((p) => p.partition).sort();
    expect(partitions).toEqual([0, 1, 2, 3]);
    await producer.close();
  });

  it('keeps no more than maxInFlightRequests requests in flight', async () => {
    const broker = setup(8);
    const producer = new Producer({
      connection: broker,
      lingerMs: 0,
      batchBytes: 1024,
      maxInFlightRequests: 3,
    });
    await producer.connect();
    broker.hold();
    const all = producer.sendMany(
      Array.from({ length: 400 }, (_, i) => ({ topic: 't', partition: i % 8, value: value100 })),
    );
    await expect.poll(() => broker.heldCount).toBe(3);
    await new Promise((r) => setTimeout(r, 20));
    expect(broker.heldCount).toBe(3);
    // Release answers one round at a time until everything is stored.
    while (broker.heldCount > 0) {
      broker.release();
      await new Promise((r) => setTimeout(r, 1));
      broker.hold();
    }
    broker.release();
    await all;
    expect(broker.maxProduceInFlight).toBe(3);
    let total = 0;
    for (let p = 0; p < 8; p++) total += (await storedRecords(broker, 't', p)).length;
    expect(total).toBe(400);
    await producer.close();
  });
});

describe('producer buffer', () => {
  it('accounts every buffered byte and gives it back once stored', async () => {
    const broker = setup(2);
    const producer = new Producer({ connection: broker, lingerMs: 0 });
    await producer.connect();
    broker.hold();
    const all = producer.sendMany(
      Array.from({ length: 100 }, (_, i) => ({ topic: 't', partition: i % 2, value: value100 })),
    );
    await expect.poll(() => broker.heldCount).toBeGreaterThan(0);
    expect(producer.bufferedBytes).toBeGreaterThan(100 * 100);
    expect(producer.bufferedBytes).toBeLessThan(100 * 130);
    broker.release();
    await all;
    expect(producer.bufferedBytes).toBe(0);
    await producer.close();
  });

  it('makes sends wait for room (backpressure) and never holds much more than bufferBytes', async () => {
    const broker = setup();
    const bufferBytes = 8 * 1024;
    const producer = new Producer({ connection: broker, lingerMs: 0, batchBytes: 2048, bufferBytes });
    await producer.connect();
    broker.hold();
    let enqueued = 0;
    function* records() {
      for (let i = 0; i < 1000; i++) {
        enqueued = i;
        yield { topic: 't', value: value100 };
      }
    }
    const all = producer.sendMany(records());
    await expect.poll(() => broker.heldCount).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 30));
    // Parked: about bufferBytes worth of records taken, no more.
    expect(enqueued).toBeLessThan(90);
    expect(producer.bufferedBytes).toBeLessThanOrEqual(bufferBytes + 200);
    let peak = 0;
    while (broker.heldCount > 0 || enqueued < 999) {
      peak = Math.max(peak, producer.bufferedBytes);
      broker.release();
      await new Promise((r) => setTimeout(r, 1));
      broker.hold();
    }
    broker.release();
    await all;
    expect(peak).toBeLessThanOrEqual(bufferBytes + 200);
    expect((await storedRecords(broker, 't', 0)).length).toBe(1000);
    await producer.close();
  });

  it('fails with BUFFER_FULL when no room frees up within maxBlockMs', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, lingerMs: 0, bufferBytes: 1024, maxBlockMs: 100 });
    await producer.connect();
    broker.hold();
    // 10 records of ~110 bytes fill the 1 KiB buffer; their answers are held.
    const filler = producer.sendMany(Array.from({ length: 10 }, () => ({ topic: 't', value: value100 })));
    await expect.poll(() => broker.heldCount).toBeGreaterThan(0);
    const started = performance.now();
    await expect(producer.send({ topic: 't', value: value100 })).rejects.toMatchObject({
      code: 'BUFFER_FULL',
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    broker.release();
    await filler;
    await producer.close();
  });

  it('refuses a record larger than maxRequestBytes with MESSAGE_TOO_LARGE', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, maxRequestBytes: 10_000 });
    await expect(producer.send({ topic: 't', value: new Uint8Array(20_000) })).rejects.toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
    });
    await producer.close();
  });
});

describe('producer retries', () => {
  it('retries a retriable error, refreshing metadata first', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, lingerMs: 0, retryBackoffMs: 5 });
    await producer.send({ topic: 't', value: 'warm-up' });
    const metadataBefore = broker.count('metadata');
    broker.faults.push({ topic: 't', partition: 0, code: 'NOT_LEADER_OR_FOLLOWER', times: 2 });
    const result = await producer.send({ topic: 't', value: 'x' });
    expect(result.offset).toBe(1);
    expect(broker.count('metadata')).toBeGreaterThan(metadataBefore);
    await producer.close();
  });

  it('fails a batch at once on a non-retriable error', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, lingerMs: 0 });
    broker.faults.push({ topic: 't', partition: 0, code: 'INVALID_RECORD' });
    await expect(producer.send({ topic: 't', value: 'x' })).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    await producer.close();
  });

  it('gives up after deliveryTimeoutMs with the last error', async () => {
    const broker = setup();
    const producer = new Producer({
      connection: broker,
      lingerMs: 0,
      retryBackoffMs: 10,
      deliveryTimeoutMs: 100,
    });
    await producer.connect();
    broker.faults.push({ topic: 't', partition: 0, code: 'KAFKA_STORAGE_ERROR', times: 1000 });
    await expect(producer.send({ topic: 't', value: 'x' })).rejects.toMatchObject({
      code: 'KAFKA_STORAGE_ERROR',
    });
    await producer.close();
  });

  it('acks 0: resolves with offset -1 once sent, without waiting for an answer', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, acks: 0, lingerMs: 0 });
    broker.hold();
    const result = await producer.send({ topic: 't', value: 'x' });
    expect(result.offset).toBe(-1);
    expect(broker.stored('t', 0)).toHaveLength(1);
    broker.release();
    await producer.close();
  });

  it('refuses an idempotent producer without acks -1', () => {
    expect(() => new Producer({ idempotent: true, acks: 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });
});
