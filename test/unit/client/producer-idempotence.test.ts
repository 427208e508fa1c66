/**
 * The idempotent producer's sequence bookkeeping and retry ordering, against the fake broker (which
 * dedupes by producer id and sequence like the real one): sequences are contiguous per partition,
 * retries resend byte-identical batches in sequence order, nothing is lost, duplicated or reordered
 * when answers are lost or batches fail in the middle of a window, and a fatal failure moves the
 * producer to a new producer id without disturbing the batches after it.
 */
import { describe, expect, it } from 'vitest';
import { Producer } from '../../../src/client/producer.ts';
import { readBatchHeader } from '../../../src/protocol/kafka/record-batch.ts';
import type { ProduceRequest } from '../../../src/protocol/wire/ops.ts';
import { FakeBroker, storedRecords } from './fake-broker.ts';

function setup(partitions = 1): FakeBroker {
  const broker = new FakeBroker();
  broker.createTopic('t', partitions);
  return broker;
}

/** Every batch sent for `partition`, in send order: its sequence and bytes. */
function sentBatches(broker: FakeBroker, partition = 0): { seq: number; pid: number; bytes: Uint8Array }[] {
  return broker.requests
    .filter((r) => r.op === 'produce')
    .flatMap((r) => (r.body as ProduceRequest).topics[0]!.partitions)
    .filter((p) => p.partition === partition)
    .map((p) => {
      const h = readBatchHeader(p.records);
      return { seq: h.baseSequence, pid: h.producerId, bytes: p.records.slice() };
    });
}

function values(n: number, from = 0): { topic: string; partition: number; value: string }[] {
  return Array.from({ length: n }, (_, i) => ({ topic: 't', partition: 0, value: `v${from + i}` }));
}

/** Small batches (about 10 records) so that a few hundred records make a deep window. */
const small = {
  batchBytes: 200,
  lingerMs: 0,
  retryBackoffMs: 1,
  retryBackoffMaxMs: 5,
  idempotent: true,
} as const;

describe('idempotent producer', () => {
  it('numbers batches contiguously per partition under one producer id', async () => {
    const broker = setup(3);
    const producer = new Producer({ connection: broker, ...small });
    await producer.sendMany(
      Array.from({ length: 300 }, (_, i) => ({ topic: 't', partition: i % 3, value: `v${i}` })),
    );
    for (let p = 0; p < 3; p++) {
      const stored = broker.stored('t', p);
      expect(stored.length).toBeGreaterThan(3);
      let expected = 0;
      for (const b of stored) {
        expect(b.producerId).toBe(producer.producerId);
        expect(b.firstSeq).toBe(expected);
        expected = b.lastSeq + 1;
      }
      expect(expected).toBe(100);
    }
    await producer.close();
  });

  it('sends one batch per partition until the first is stored, then up to 5', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, ...small });
    await producer.connect();
    broker.hold();
    const all = producer.sendMany(values(200));
    await expect.poll(() => broker.heldCount).toBe(1);
    await new Promise((r) => setTimeout(r, 10));
    expect(broker.heldCount).toBe(1);
    broker.release();
    broker.hold();
    await expect.poll(() => broker.heldCount).toBe(5);
    await new Promise((r) => setTimeout(r, 10));
    expect(broker.heldCount).toBe(5);
    broker.release();
    await all;
    expect(broker.maxProduceInFlight).toBe(5);
    await producer.close();
  });

  it('after lost answers, resends the same bytes in order and the broker keeps one copy', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, ...small });
    await producer.send({ topic: 't', partition: 0, value: 'first' });
    broker.hold();
    const all = producer.sendBatch(values(50));
    await expect.poll(() => broker.heldCount).toBe(5);
    // The broker stored the 5 batches but the connection drops before any answer.
    expect(broker.stored('t', 0)).toHaveLength(6);
    broker.disconnect();
    broker.release();
    const results = await all;
    const records = await storedRecords(broker, 't', 0);
    expect(records.map((r) => r.value)).toEqual(['first', ...values(50).map((r) => r.value)]);
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
    // The resolved offsets are the original ones (the broker answered the resends as duplicates).
    expect(results.map((r) => r.offset)).toEqual(results.map((_, i) => i + 1));
    // Every resend is byte-identical to the first send of its sequence.
    const sent = sentBatches(broker);
    const firstBySeq = new Map<number, Uint8Array>();
    let resends = 0;
    for (const s of sent) {
      const original = firstBySeq.get(s.seq);
      if (original) {
        resends++;
        expect(Buffer.from(s.bytes).equals(Buffer.from(original))).toBe(true);
      } else firstBySeq.set(s.seq, s.bytes);
    }
    expect(resends).toBeGreaterThanOrEqual(5);
    await producer.close();
  });

  it('retries a failed batch and the out-of-order ones behind it, in sequence order', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, ...small });
    await producer.send({ topic: 't', partition: 0, value: 'first' });
    broker.hold();
    // The first batch of the window fails (not stored); the 4 behind it get OUT_OF_ORDER_SEQUENCE_NUMBER.
    broker.faults.push({ topic: 't', partition: 0, code: 'NOT_LEADER_OR_FOLLOWER' });
    const all = producer.sendMany(values(50));
    await expect.poll(() => broker.heldCount).toBe(5);
    broker.release();
    await all;
    const records = await storedRecords(broker, 't', 0);
    expect(records.map((r) => r.value)).toEqual(['first', ...values(50).map((r) => r.value)]);
    // Sequences went out in order on every attempt: never a later batch before an earlier one of the same attempt round.
    const sent = sentBatches(broker).map((s) => s.seq);
    const retryStart = sent.indexOf(sent[1]!, 2);
    expect(retryStart).toBeGreaterThan(0);
    const retried = sent.slice(retryStart);
    expect([...retried].sort((a, b) => a - b)).toEqual(retried);
    await producer.close();
  });

  it('a batch whose answer was lost after it was stored is not stored twice', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, ...small });
    await producer.send({ topic: 't', partition: 0, value: 'first' });
    broker.faults.push({ topic: 't', partition: 0, code: 'REQUEST_TIMED_OUT', store: true });
    const result = await producer.send({ topic: 't', partition: 0, value: 'second' });
    expect(result.offset).toBe(1);
    expect((await storedRecords(broker, 't', 0)).map((r) => r.value)).toEqual(['first', 'second']);
    await producer.close();
  });

  it('after a fatal failure takes a new producer id, and the batches behind it still arrive in order', async () => {
    const broker = setup();
    const producer = new Producer({ connection: broker, ...small });
    await producer.send({ topic: 't', partition: 0, value: 'first' });
    const firstId = producer.producerId;
    broker.hold();
    broker.faults.push({ topic: 't', partition: 0, code: 'INVALID_RECORD' });
    const doomed = producer.sendMany(values(10, 0)); // exactly one batch of 10: the one that fails
    await expect.poll(() => broker.heldCount).toBe(1);
    const behind = producer.sendMany(values(40, 10));
    await expect.poll(() => broker.heldCount).toBe(5);
    broker.release();
    await expect(doomed).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    await behind;
    expect(producer.producerId).not.toBe(firstId);
    const records = await storedRecords(broker, 't', 0);
    expect(records.map((r) => r.value)).toEqual(['first', ...values(40, 10).map((r) => r.value)]);
    // Under the new id, sequences start again at 0 and are contiguous.
    const renumbered = broker.stored('t', 0).filter((b) => b.producerId === producer.producerId);
    expect(renumbered[0]!.firstSeq).toBe(0);
    for (let i = 1; i < renumbered.length; i++)
      expect(renumbered[i]!.firstSeq).toBe(renumbered[i - 1]!.lastSeq + 1);
    await producer.close();
  });
});
