/**
 * One log, two protocols: records written with kcat (Kafka protocol) read back through the WebSocket
 * protocol byte for byte (key, value, headers, timestamp — and the very batch bytes a Kafka Fetch
 * returns), and batches built with RecordBatchBuilder and produced over WebSocket read back by kcat.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/kafka/api-keys.ts';
import { decodeRecordBatch, iterateBatches } from '../../src/protocol/kafka/record-batch.ts';
import { RecordBatchBuilder } from '../../src/protocol/kafka/record-batch-builder.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import { producePayload, RawWsClient } from '../helpers/ws-raw.ts';
import { CONSUME_FORMAT, describeWithKcat, kcatOk, parseConsumed } from '../unit/router/kafka/kcat.ts';
import { RawKafkaClient, topicName } from '../unit/router/kafka/raw-kafka-client.ts';

let broker: RunningBroker;
let ws: RawWsClient;
let kafka: RawKafkaClient;
let bootstrap: string;

beforeAll(async () => {
  broker = await startBrokerProcess();
  bootstrap = `127.0.0.1:${broker.kafkaPort}`;
  ws = await RawWsClient.connect(broker.url);
  kafka = await RawKafkaClient.connect(broker.kafkaPort);
});

afterAll(async () => {
  ws?.close();
  kafka?.close();
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

async function createTopic(): Promise<string> {
  const name = topicName('x');
  const r = await ws.request('createTopics', { topics: [{ name, numPartitions: 1 }] });
  expect((r.topics as { error?: unknown }[])[0]!.error).toBeUndefined();
  return name;
}

/** Everything kcat reads from partition 0, from the beginning. */
async function consumeAll(topic: string) {
  return parseConsumed(
    await kcatOk(['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', CONSUME_FORMAT]),
  );
}

async function wsFetch(topic: string): Promise<Uint8Array> {
  const r = await ws.request('fetch', {
    maxWaitMs: 0,
    maxBytes: 64 << 20,
    topics: [{ topic, partitions: [{ partition: 0, offset: 0, maxBytes: 64 << 20 }] }],
  });
  return (r.topics as { partitions: { records: Uint8Array }[] }[])[0]!.partitions[0]!.records;
}

describeWithKcat('kcat ↔ WebSocket', () => {
  for (const codec of ['none', 'gzip', 'lz4'] as const) {
    it(`kcat -z ${codec} → WebSocket fetch: the same records, byte for byte, in the same batches`, async () => {
      const topic = await createTopic();
      const binary = Buffer.from([0, 255, 128, 10, 13, 0x7c, 3]); // no 0x01/0x02: kcat's delimiters below
      const messages = Array.from({ length: 40 }, (_, i) => ({
        key: i % 4 === 0 ? Buffer.alloc(0) : Buffer.from(`key-${i}`),
        value: Buffer.concat([Buffer.from(`value-${i}-${'z'.repeat(100)}`), binary]),
      }));
      const input = Buffer.concat(
        messages.flatMap((m) => [m.key, Buffer.from([2]), m.value, Buffer.from([1])]),
      );
      await kcatOk(
        [
          '-b',
          bootstrap,
          '-P',
          '-t',
          topic,
          '-z',
          codec,
          '-D',
          '\\x01',
          '-K',
          '\\x02',
          '-H',
          'src=kcat',
          '-H',
          'bin=a;b',
        ],
        input,
      );
      const consumed = await consumeAll(topic);
      const viaWs = await wsFetch(topic);
      const records = [];
      for (const b of iterateBatches(viaWs)) records.push(...(await decodeRecordBatch(b)).records);
      expect(records).toHaveLength(messages.length);
      records.forEach((r, i) => {
        expect(r.offset).toBe(i);
        expect(Buffer.from(r.key!)).toEqual(messages[i]!.key);
        expect(Buffer.from(r.value!)).toEqual(messages[i]!.value);
        expect(r.headers.map((h) => [h.key, Buffer.from(h.value!).toString()])).toEqual([
          ['src', 'kcat'],
          ['bin', 'a;b'],
        ]);
        // What kcat read is what the WebSocket protocol returns.
        expect(consumed[i]).toMatchObject({ offset: i, timestamp: r.timestamp });
        expect(consumed[i]!.key).toEqual(Buffer.from(r.key!));
        expect(consumed[i]!.value).toEqual(Buffer.from(r.value!));
      });
      // And the bytes a Kafka Fetch returns are the bytes a WebSocket fetch returns.
      const viaKafka = await kafka.request(API_KEYS.Fetch, 11, {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 64 << 20,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 64 << 20 }] }],
      });
      expect(Buffer.from(viaKafka.responses[0]!.partitions[0]!.records!)).toEqual(Buffer.from(viaWs));
    });
  }

  for (const codec of ['none', 'snappy', 'zstd'] as const) {
    it(`WebSocket produce (RecordBatchBuilder, ${codec}) → kcat: keys, values, headers, timestamps`, async () => {
      const topic = await createTopic();
      const builder = new RecordBatchBuilder({ compression: codec });
      const base = 1_700_000_000_000;
      const records = Array.from({ length: 25 }, (_, i) => ({
        key: i === 3 ? null : Buffer.from(`k${i}`),
        value: i === 5 ? null : Buffer.from([i, 0, 255, 0x0a, ...Buffer.from(`payload-${i}`)]),
        headers: [
          { key: 'h1', value: `v${i}` },
          { key: 'h2', value: 'x' },
        ],
        timestamp: base + i * 7,
      }));
      for (const r of records) builder.append(r);
      const produced = await ws.request('produce', producePayload(topic, 0, await builder.build(), -1));
      expect(
        (produced.topics as { partitions: { error?: unknown }[] }[])[0]!.partitions[0]!.error,
      ).toBeUndefined();
      const consumed = await consumeAll(topic);
      expect(consumed).toEqual(
        records.map((r, i) => ({
          partition: 0,
          offset: i,
          timestamp: r.timestamp,
          key: r.key,
          value: r.value,
          headers: `h1=v${i},h2=x`,
        })),
      );
    });
  }
});
