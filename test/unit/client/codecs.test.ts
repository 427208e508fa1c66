/**
 * Every compression codec through the client (fake broker): the producer builds compressed batches,
 * the consumer decompresses them ahead of time and reads them like any other; a batch whose CRC does
 * not match is reported as CORRUPT_MESSAGE instead of being read.
 */
import { describe, expect, it } from 'vitest';
import { Consumer } from '../../../src/client/consumer.ts';
import { Producer } from '../../../src/client/producer.ts';
import { readBatchHeader } from '../../../src/protocol/kafka/record-batch.ts';
import { FakeBroker } from './fake-broker.ts';

describe('client codecs', () => {
  for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`round-trips ${compression} batches`, async () => {
      const broker = new FakeBroker();
      broker.createTopic('t', 1);
      const producer = new Producer({ connection: broker, compression, batchBytes: 4096, lingerMs: 0 });
      const values = Array.from({ length: 500 }, (_, i) => `${compression} ${i} ${'z'.repeat(i % 60)}`);
      await producer.sendMany(values.map((value) => ({ topic: 't', value })));
      await producer.close();
      const stored = broker.stored('t', 0);
      expect(stored.length).toBeGreaterThan(1);
      for (const b of stored) expect(readBatchHeader(b.bytes).compression).toBe(compression);

      const consumer = new Consumer({ connection: broker, maxWaitMs: 50 });
      consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
      const seen: string[] = [];
      for await (const record of consumer) {
        seen.push(record.valueString()!);
        if (seen.length === values.length) break;
      }
      await consumer.close();
      expect(seen).toEqual(values);
    });
  }

  it('reports a batch with a bad CRC as CORRUPT_MESSAGE', async () => {
    const broker = new FakeBroker();
    broker.createTopic('t', 1);
    const producer = new Producer({ connection: broker, lingerMs: 0 });
    await producer.send({ topic: 't', value: 'soon corrupt' });
    await producer.close();
    const stored = broker.stored('t', 0)[0]!;
    stored.bytes[stored.bytes.length - 1]! ^= 0xff;
    const consumer = new Consumer({ connection: broker, maxWaitMs: 50 });
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const read = async () => {
      for await (const _ of consumer) return;
    };
    await expect(read()).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
    await consumer.close();
  });
});
