/**
 * Key partitioning must agree with kafkajs's default partitioner (Kafka's murmur2) for the same keys,
 * so records keep their partition when an application moves between Sluice's client and Kafka's.
 * Sticky partitioning (KIP-480) keeps keyless records on one partition until its batch closes.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { murmur2, murmur2Key, partitionForKey, StickyPartition } from '../../../src/client/partitioner.ts';
import { Producer } from '../../../src/client/producer.ts';
import { FakeBroker, storedRecords } from './fake-broker.ts';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer | string,
) => number;
type KafkaJsPartitioner = (args: {
  topic: string;
  partitionMetadata: { partitionId: number; leader: number }[];
  message: { key?: Buffer | string | null; partition?: number | null };
}) => number;
const createKafkaJsPartitioner =
  require('kafkajs/src/producer/partitioners/default/index.js') as () => KafkaJsPartitioner;

/** Deterministic pseudo-random bytes. */
function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('murmur2', () => {
  it('equals kafkajs for 20 000 byte keys of every length 0–99', () => {
    for (let i = 0; i < 20_000; i++) {
      const key = bytes(i, i % 100);
      expect(murmur2(key)).toBe(kafkajsMurmur2(key));
    }
  });

  it('equals kafkajs for string keys, ASCII and not, hashed as UTF-8', () => {
    const keys = [
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'user-42',
      'ünïcødé',
      '日本語のキー',
      '🙂 emoji',
      'x'.repeat(1000),
    ];
    for (let i = 0; i < 5000; i++) keys.push(`key-${i}`, `${i}-ключ-${i * 7}`);
    for (const key of keys) expect(murmur2Key(key)).toBe(kafkajsMurmur2(key));
  });

  it('picks the same partition as kafkajs’s default partitioner', () => {
    const kafkajs = createKafkaJsPartitioner();
    for (const partitions of [1, 2, 3, 7, 12, 100]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 0,
      }));
      for (let i = 0; i < 2000; i++) {
        const key = i % 2 ? `order-${i}` : bytes(i, 1 + (i % 40));
        expect(partitionForKey(key, partitions)).toBe(
          kafkajs({ topic: 't', partitionMetadata, message: { key } }),
        );
      }
    }
  });

  it('matches Kafka’s published vectors (Java Utils.murmur2)', () => {
    // From Apache Kafka's UtilsTest.testMurmur2.
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ];
    for (const [key, hash] of cases) expect(murmur2Key(key)).toBe(hash);
  });
});

describe('sticky partitioning', () => {
  it('moves to another partition only when the sticky partition’s batch closes', () => {
    let r = 0;
    const randoms = [0.5, 0.1, 0.9, 0.4];
    const sticky = new StickyPartition(4, () => randoms[r++ % randoms.length]!);
    const first = sticky.current;
    sticky.onBatchClosed((first + 1) % 4);
    expect(sticky.current).toBe(first);
    for (let i = 0; i < 20; i++) {
      const before = sticky.current;
      sticky.onBatchClosed(before);
      expect(sticky.current).not.toBe(before);
      expect(sticky.current).toBeGreaterThanOrEqual(0);
      expect(sticky.current).toBeLessThan(4);
    }
  });

  it('stays put with one partition, and re-draws when partitions shrink below it', () => {
    const one = new StickyPartition(1);
    one.onBatchClosed(0);
    expect(one.current).toBe(0);
    const s = new StickyPartition(8, () => 0.99);
    expect(s.current).toBe(7);
    s.resize(4);
    expect(s.current).toBeLessThan(4);
  });

  it('a producer fills one partition’s batch with keyless records, then moves to another', async () => {
    const broker = new FakeBroker();
    broker.createTopic('sticky', 6);
    // Batches of ~10 records: every closed batch moves the sticky partition.
    const producer = new Producer({ connection: broker, batchBytes: 1200, lingerMs: 1000 });
    await producer.connect();
    const value = (i: number) => String(i).padStart(100, '0');
    const sent = producer.sendMany(
      Array.from({ length: 95 }, (_, i) => ({ topic: 'sticky', value: value(i) })),
    );
    await producer.flush(); // the last, partial batch would otherwise linger for a second
    await sent;
    // Batches in the order they were filled (by their first record), with their partition.
    const batches: { partition: number; first: number; count: number }[] = [];
    for (let partition = 0; partition < 6; partition++) {
      const records = await storedRecords(broker, 'sticky', partition);
      for (const b of broker.stored('sticky', partition)) {
        const mine = records.filter((r) => r.offset >= b.baseOffset && r.offset <= b.lastOffset);
        batches.push({ partition, first: Number(mine[0]!.value), count: mine.length });
      }
    }
    batches.sort((a, b) => a.first - b.first);
    expect(batches.reduce((n, b) => n + b.count, 0)).toBe(95);
    const full = batches[0]!.count;
    expect(full).toBeGreaterThan(5);
    for (const [i, b] of batches.entries()) {
      if (i < batches.length - 1) expect(b.count).toBe(full);
      if (i > 0) expect(b.partition).not.toBe(batches[i - 1]!.partition);
      // Records of a batch are consecutive: the partition did not change in the middle of one.
      if (i > 0) expect(b.first).toBe(batches[i - 1]!.first + batches[i - 1]!.count);
    }
    await producer.close();
  });
});
