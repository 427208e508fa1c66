/**
 * kafkajs 2.2.4 against the broker as a child process: admin (topics, metadata, offsets, configs,
 * partitions), producers with every compression codec and with idempotence, and kafkajs's own Fetch
 * v11 decoder reading what the broker returns. Consumers (`consumer.run`, groups, seeking) and the
 * group admin calls are in kafka-kafkajs-consumer.test.ts.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/kafka/api-keys.ts';
import { iterateBatches, readBatchHeader } from '../../src/protocol/kafka/record-batch.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
// Registers the snappy, lz4 and zstd (@mongodb-js/zstd) codecs with kafkajs, as a kafkajs user would.
import { type KafkaJsBatch, kafkajsDecodeBatch } from '../unit/protocol/kafka/kafkajs-glue.ts';
import { RawKafkaClient, topicName } from '../unit/router/kafka/raw-kafka-client.ts';

const require = createRequire(import.meta.url);

interface KafkaJsModule {
  Kafka: new (
    config: object,
  ) => {
    admin(): KafkaJsAdmin;
    producer(config?: object): KafkaJsProducer;
  };
  CompressionTypes: Record<'None' | 'GZIP' | 'Snappy' | 'LZ4' | 'ZSTD', number>;
  ConfigResourceTypes: { TOPIC: number; BROKER: number };
  logLevel: { NOTHING: number; ERROR: number };
}
interface KafkaJsAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  createTopics(options: object): Promise<boolean>;
  deleteTopics(options: { topics: string[] }): Promise<void>;
  listTopics(): Promise<string[]>;
  fetchTopicMetadata(options: { topics: string[] }): Promise<{
    topics: { name: string; partitions: { partitionId: number; leader: number; replicas: number[] }[] }[];
  }>;
  fetchTopicOffsets(
    topic: string,
  ): Promise<{ partition: number; offset: string; high: string; low: string }[]>;
  fetchTopicOffsetsByTimestamp(
    topic: string,
    timestamp: number,
  ): Promise<{ partition: number; offset: string }[]>;
  describeCluster(): Promise<{
    brokers: { nodeId: number; host: string; port: number }[];
    controller: number;
  }>;
  describeConfigs(options: object): Promise<{
    resources: { errorCode: number; configEntries: { configName: string; configValue: string }[] }[];
  }>;
  createPartitions(options: object): Promise<void>;
}
interface KafkaJsProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: object): Promise<{ partition: number; errorCode: number; baseOffset: string }[]>;
  transaction(): Promise<unknown>;
}

const kafkajs = require('kafkajs') as KafkaJsModule;
const { Kafka, CompressionTypes, ConfigResourceTypes, logLevel } = kafkajs;
const fetchV11 = require('kafkajs/src/protocol/requests/fetch/v11/response') as {
  decode(payload: Buffer): Promise<unknown>;
  parse(decoded: unknown): Promise<{
    responses: {
      topicName: string;
      partitions: {
        partition: number;
        errorCode: number;
        highWatermark: string;
        messages: {
          offset: string;
          key: Buffer | null;
          value: Buffer | null;
          timestamp: string;
          headers: object;
        }[];
      }[];
    }[];
  }>;
};

let broker: RunningBroker;
let kafka: InstanceType<KafkaJsModule['Kafka']>;
let admin: KafkaJsAdmin;
let raw: RawKafkaClient;

beforeAll(async () => {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  broker = await startBrokerProcess();
  kafka = new Kafka({
    clientId: 'sluice-e2e',
    brokers: [`127.0.0.1:${broker.kafkaPort}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 100 },
  });
  admin = kafka.admin();
  await admin.connect();
  raw = await RawKafkaClient.connect(broker.kafkaPort);
});

afterAll(async () => {
  await admin?.disconnect();
  raw?.close();
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

const WHOLE_PARTITION = { fetchOffset: 0, partitionMaxBytes: 64 << 20 };

/** What kafkajs's consumer makes of the broker's answer to a Fetch v11 (the version kafkajs sends). */
async function kafkajsFetch(topic: string, partition = 0) {
  const id = raw.send(API_KEYS.Fetch, 11, {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 64 << 20,
    isolationLevel: 1,
    topics: [{ topic, partitions: [{ partition, ...WHOLE_PARTITION }] }],
  });
  const frame = await raw.rawResponse(API_KEYS.Fetch, 11, id);
  // kafkajs hands its decoders the response without the correlation id.
  const parsed = await fetchV11.parse(await fetchV11.decode(Buffer.from(frame.subarray(4))));
  return parsed.responses[0]!.partitions[0]!;
}

/** The stored batches of partition 0 (a Fetch v11), each with kafkajs's reading of it. */
async function storedBatches(topic: string): Promise<{ bytes: Uint8Array; kafkajs: KafkaJsBatch }[]> {
  const r = await raw.request(API_KEYS.Fetch, 11, {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 64 << 20,
    topics: [{ topic, partitions: [{ partition: 0, ...WHOLE_PARTITION }] }],
  });
  const out = [];
  for (const bytes of iterateBatches(r.responses[0]!.partitions[0]!.records!)) {
    out.push({ bytes, kafkajs: await kafkajsDecodeBatch(bytes) });
  }
  return out;
}

describe('kafkajs admin', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const topic = topicName('kjs');
    expect(
      await admin.createTopics({
        topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
      }),
    ).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })).toBe(false);
    expect(await admin.listTopics()).toContain(topic);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]!.partitions.map((p) => [p.partitionId, p.leader, p.replicas])).toEqual([
      [0, 0, [0]],
      [1, 0, [0]],
      [2, 0, [0]],
    ]);
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: broker.kafkaPort }]);
    expect(cluster.controller).toBe(0);
    const configs = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      includeSynonyms: false,
    });
    expect(configs.resources[0]!.errorCode).toBe(0);
    expect(configs.resources[0]!.configEntries).toContainEqual(
      expect.objectContaining({ configName: 'retention.ms', configValue: '3600000' }),
    );
    await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] });
    expect((await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions).toHaveLength(5);
    await admin.deleteTopics({ topics: [topic] });
    expect(await admin.listTopics()).not.toContain(topic);
  });

  it('rejects what Kafka rejects, with Kafka’s errors', async () => {
    // kafkajs collects per-topic failures in an aggregate error; `code` is Kafka's error code.
    await expect(admin.createTopics({ topics: [{ topic: 'bad name!' }] })).rejects.toMatchObject({
      errors: [expect.objectContaining({ code: 17, topic: 'bad name!' })], // INVALID_TOPIC_EXCEPTION
    });
    await expect(
      admin.createTopics({ topics: [{ topic: topicName('kjs'), replicationFactor: 3 }] }),
    ).rejects.toMatchObject({ errors: [expect.objectContaining({ code: 38 })] }); // INVALID_REPLICATION_FACTOR
    // UNKNOWN_TOPIC_OR_PARTITION is retriable in Kafka: kafkajs retries, then gives up with it as cause.
    await expect(admin.deleteTopics({ topics: [topicName('missing')] })).rejects.toMatchObject({
      cause: expect.objectContaining({ code: 3 }),
    });
  });

  it('fetches offsets, also by timestamp', async () => {
    const topic = topicName('kjs');
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    const base = 1_700_000_000_000;
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({
        value: `v${i}`,
        partition: i % 2,
        timestamp: String(base + i * 1000),
      })),
    });
    await producer.disconnect();
    expect(await admin.fetchTopicOffsets(topic)).toEqual([
      { partition: 0, offset: '5', high: '5', low: '0' },
      { partition: 1, offset: '5', high: '5', low: '0' },
    ]);
    // Partition 0 holds base+0,2,4,6,8 s; partition 1 base+1,3,5,7,9 s.
    expect(await admin.fetchTopicOffsetsByTimestamp(topic, base + 4500)).toEqual([
      { partition: 0, offset: '3' },
      { partition: 1, offset: '2' },
    ]);
    // After the last record Kafka answers -1, which kafkajs turns into the high watermark.
    expect(await admin.fetchTopicOffsetsByTimestamp(topic, base + 60_000)).toEqual([
      { partition: 0, offset: '5' },
      { partition: 1, offset: '5' },
    ]);
  });
});

describe('kafkajs producer', () => {
  for (const codec of ['None', 'GZIP', 'Snappy', 'LZ4', 'ZSTD'] as const) {
    it(`produces with compression ${codec}; kafkajs's decoder reads the fetched batches back`, async () => {
      const topic = topicName('kjs');
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      const producer = kafka.producer();
      await producer.connect();
      const base = 1_700_000_000_000;
      const messages = Array.from({ length: 50 }, (_, i) => ({
        key: i % 5 === 0 ? null : `key-${i}`,
        value: i % 7 === 0 ? null : `value-${i}-${'x'.repeat(i * 10)}`,
        headers: { n: String(i), tag: codec },
        timestamp: String(base + i),
      }));
      for (let i = 0; i < messages.length; i += 25) {
        const [answer] = await producer.send({
          topic,
          acks: -1,
          compression: CompressionTypes[codec],
          messages: messages.slice(i, i + 25),
        });
        expect(answer).toMatchObject({ partition: 0, errorCode: 0, baseOffset: String(i) });
      }
      await producer.disconnect();

      const batches = await storedBatches(topic);
      const codecs = { None: 'none', GZIP: 'gzip', Snappy: 'snappy', LZ4: 'lz4', ZSTD: 'zstd' } as const;
      expect(batches.map((b) => [b.kafkajs.firstOffset, readBatchHeader(b.bytes).compression])).toEqual([
        ['0', codecs[codec]],
        ['25', codecs[codec]],
      ]);

      const fetched = await kafkajsFetch(topic);
      expect(fetched.errorCode).toBe(0);
      expect(fetched.highWatermark).toBe('50');
      expect(
        fetched.messages.map((m) => ({
          offset: m.offset,
          key: m.key?.toString() ?? null,
          value: m.value?.toString() ?? null,
          timestamp: m.timestamp,
        })),
      ).toEqual(
        messages.map((m, i) => ({ offset: String(i), key: m.key, value: m.value, timestamp: m.timestamp })),
      );
      expect(
        fetched.messages.map((m) =>
          Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, (v as Buffer).toString()])),
        ),
      ).toEqual(messages.map((m) => m.headers));
    });
  }

  it('produces idempotently: one producer id, consecutive sequences, nothing twice', async () => {
    const topic = topicName('kjs');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < 10; i++) {
      await producer.send({
        topic,
        compression: CompressionTypes.GZIP,
        messages: Array.from({ length: 10 }, (_, j) => ({ value: `m${i * 10 + j}` })),
      });
    }
    await producer.disconnect();
    const batches = (await storedBatches(topic)).map((b) => b.kafkajs);
    expect(batches).toHaveLength(10);
    expect(new Set(batches.map((b) => b.producerId)).size).toBe(1);
    expect(Number(batches[0]!.producerId)).toBeGreaterThanOrEqual(0);
    expect(batches.map((b) => b.firstSequence)).toEqual(batches.map((_, i) => i * 10));
    expect(batches.flatMap((b) => b.records.map((r) => r.value!.toString()))).toEqual(
      Array.from({ length: 100 }, (_, i) => `m${i}`),
    );
  });

  it('refuses transactions with a clear, non-retriable error', async () => {
    const producer = kafka.producer({ transactionalId: 'tx-1', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await expect(producer.transaction()).rejects.toMatchObject({ retriable: false });
    await producer.disconnect();
  });
});

describe('kafkajs with SASL', () => {
  it('fails to connect with a clear error: SASL is not offered', async () => {
    const sasl = new Kafka({
      brokers: [`127.0.0.1:${broker.kafkaPort}`],
      logLevel: logLevel.NOTHING,
      sasl: { mechanism: 'plain', username: 'u', password: 'p' },
      retry: { retries: 0 },
    }).admin();
    await expect(sasl.connect()).rejects.toMatchObject({ name: 'KafkaJSServerDoesNotSupportApiKey' });
    expect((await admin.listTopics()).length).toBeGreaterThanOrEqual(0);
  });
});
