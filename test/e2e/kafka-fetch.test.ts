/**
 * Fetch, ListOffsets and Produce semantics over the Kafka protocol, with raw requests against the
 * broker as a child process: whole batches, the oversized first batch, partition and response byte
 * limits, long polls (min_bytes, max_wait), out-of-range offsets, isolation levels, leader epochs,
 * offsets by time, and Produce's own checks (acks, zstd below v7, transactions, idempotence).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/kafka/api-keys.ts';
import type { FetchRequestData } from '../../src/protocol/kafka/messages/fetch.ts';
import { iterateBatches, readBatchHeader } from '../../src/protocol/kafka/record-batch.ts';
import { makeBatch, makeCompressedBatch } from '../helpers/batches.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import { RawWsClient } from '../helpers/ws-raw.ts';
import { RawKafkaClient, topicName } from '../unit/router/kafka/raw-kafka-client.ts';

let broker: RunningBroker;
let client: RawKafkaClient;

beforeAll(async () => {
  broker = await startBrokerProcess();
  client = await RawKafkaClient.connect(broker.kafkaPort);
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

async function createTopic(partitions = 1): Promise<string> {
  const name = topicName('fetch');
  const r = await client.request(API_KEYS.CreateTopics, 4, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
  });
  expect(r.topics[0]!.errorCode).toBe(0);
  return name;
}

async function produce(topic: string, partition: number, records: Uint8Array, version = 7) {
  const r = await client.request(API_KEYS.Produce, version, {
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  return r.responses[0]!.partitionResponses[0]!;
}

type FetchPartitionSpec = {
  partition: number;
  fetchOffset: number;
  partitionMaxBytes?: number;
  currentLeaderEpoch?: number;
};

function fetchRequest(
  topic: string,
  partitions: FetchPartitionSpec[],
  options: Partial<Pick<FetchRequestData, 'maxWaitMs' | 'minBytes' | 'maxBytes' | 'isolationLevel'>> = {},
): FetchRequestData {
  return {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 64 << 20,
    isolationLevel: 0,
    ...options,
    topics: [{ topic, partitions: partitions.map((p) => ({ partitionMaxBytes: 1 << 20, ...p })) }],
  };
}

async function fetchParts(request: FetchRequestData, version = 11) {
  return (await client.request(API_KEYS.Fetch, version, request)).responses[0]!.partitions;
}

function batchOffsets(records: Uint8Array | null): number[] {
  return records ? [...iterateBatches(records)].map((b) => readBatchHeader(b).baseOffset) : [];
}

/** Three batches of five records (offsets 0, 5, 10) of about 1.1 KB each. */
async function threeBatches(topic: string, partition = 0): Promise<number> {
  let size = 0;
  for (let i = 0; i < 3; i++) {
    const batch = makeBatch({ count: 5, valueSize: 200, tag: `p${partition}b${i}` });
    size = batch.byteLength;
    expect((await produce(topic, partition, batch)).errorCode).toBe(0);
  }
  return size;
}

describe('Fetch', () => {
  it('returns whole stored batches, from the one holding the fetch offset, byte-identical to a WebSocket fetch', async () => {
    const topic = await createTopic();
    await threeBatches(topic);
    const [p] = await fetchParts(fetchRequest(topic, [{ partition: 0, fetchOffset: 7 }]));
    expect(p).toMatchObject({ errorCode: 0, highWatermark: 15, lastStableOffset: 15, logStartOffset: 0 });
    expect(batchOffsets(p!.records)).toEqual([5, 10]);
    const ws = await RawWsClient.connect(broker.url);
    const viaWs = await ws.request('fetch', {
      maxWaitMs: 0,
      topics: [{ topic, partitions: [{ partition: 0, offset: 7 }] }],
    });
    ws.close();
    const wsRecords = (viaWs.topics as { partitions: { records: Uint8Array }[] }[])[0]!.partitions[0]!
      .records;
    expect(Buffer.from(p!.records!)).toEqual(Buffer.from(wsRecords));
  });

  it('honours partition_max_bytes at batch boundaries, but returns an oversized first batch whole', async () => {
    const topic = await createTopic();
    const size = await threeBatches(topic);
    const parts = async (partitionMaxBytes: number) =>
      batchOffsets(
        (await fetchParts(fetchRequest(topic, [{ partition: 0, fetchOffset: 0, partitionMaxBytes }])))[0]!
          .records,
      );
    expect(await parts(1)).toEqual([0]);
    expect(await parts(size)).toEqual([0]);
    expect(await parts(2 * size + 10)).toEqual([0, 5]);
    expect(await parts(1 << 20)).toEqual([0, 5, 10]);
  });

  it('honours max_bytes across partitions; the first batch of the first partition with data stays whole', async () => {
    const topic = await createTopic(2);
    const size = await threeBatches(topic, 0);
    await threeBatches(topic, 1);
    const both = (maxBytes: number) =>
      fetchParts(
        fetchRequest(
          topic,
          [
            { partition: 0, fetchOffset: 0 },
            { partition: 1, fetchOffset: 0 },
          ],
          { maxBytes },
        ),
      ).then((ps) => ps.map((p) => batchOffsets(p.records)));
    expect(await both(1)).toEqual([[0], []]);
    expect(await both(4 * size + 10)).toEqual([[0, 5, 10], [0]]);
    expect(await both(64 << 20)).toEqual([
      [0, 5, 10],
      [0, 5, 10],
    ]);
    // A partition_max_bytes below one batch still gives each partition its first batch, whole.
    const tiny = await fetchParts(
      fetchRequest(
        topic,
        [
          { partition: 0, fetchOffset: 0, partitionMaxBytes: 1 },
          { partition: 1, fetchOffset: 0, partitionMaxBytes: 1 },
        ],
        { maxBytes: 64 << 20 },
      ),
    );
    expect(tiny.map((p) => batchOffsets(p.records))).toEqual([[0], [0]]);
  });

  it('answers an empty fetch at the high watermark after max_wait, within it', async () => {
    const topic = await createTopic();
    await threeBatches(topic);
    const started = Date.now();
    const [p] = await fetchParts(
      fetchRequest(topic, [{ partition: 0, fetchOffset: 15 }], { maxWaitMs: 400 }),
    );
    const took = Date.now() - started;
    expect(p).toMatchObject({ errorCode: 0, highWatermark: 15 });
    expect(p!.records!.byteLength).toBe(0);
    expect(took).toBeGreaterThanOrEqual(380);
    expect(took).toBeLessThan(1400);
  });

  it('parks until data arrives (min_bytes 1) and answers at once when it does', async () => {
    const topic = await createTopic();
    const conn = await RawKafkaClient.connect(broker.kafkaPort);
    const started = Date.now();
    const id = conn.send(
      API_KEYS.Fetch,
      11,
      fetchRequest(topic, [{ partition: 0, fetchOffset: 0 }], { maxWaitMs: 20_000 }),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(conn.arrivals).toEqual([]);
    await produce(topic, 0, makeBatch({ count: 2 }));
    const answer = await conn.response(API_KEYS.Fetch, 11, id);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(batchOffsets(answer.body.responses[0]!.partitions[0]!.records)).toEqual([0]);
    conn.close();
  });

  it('waits for min_bytes until max_wait, then answers with what there is', async () => {
    const topic = await createTopic();
    await threeBatches(topic);
    const started = Date.now();
    const [p] = await fetchParts(
      fetchRequest(topic, [{ partition: 0, fetchOffset: 0 }], { maxWaitMs: 500, minBytes: 10 << 20 }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(480);
    expect(batchOffsets(p!.records)).toEqual([0, 5, 10]);
  });

  it('answers OFFSET_OUT_OF_RANGE with high watermark -1 at once; unknown partitions with 3', async () => {
    const topic = await createTopic();
    await threeBatches(topic);
    const started = Date.now();
    const parts = await fetchParts(
      fetchRequest(
        topic,
        [
          { partition: 0, fetchOffset: 16 },
          { partition: 4, fetchOffset: 0 },
        ],
        { maxWaitMs: 10_000 },
      ),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(parts[0]).toMatchObject({ errorCode: 1, highWatermark: -1, lastStableOffset: -1 });
    expect(parts[1]).toMatchObject({ errorCode: 3 });
    const [unknownTopic] = await fetchParts(
      fetchRequest(topicName('missing'), [{ partition: 0, fetchOffset: 0 }]),
    );
    expect(unknownTopic!.errorCode).toBe(3);
  });

  it('treats read_committed as read_uncommitted: LSO = high watermark, no aborted transactions', async () => {
    const topic = await createTopic();
    await threeBatches(topic);
    for (const [isolationLevel, aborted] of [
      [0, null],
      [1, []],
    ] as const) {
      for (const version of [4, 11, 12]) {
        const [p] = await fetchParts(
          fetchRequest(topic, [{ partition: 0, fetchOffset: 0 }], { isolationLevel }),
          version,
        );
        expect(p).toMatchObject({ lastStableOffset: 15, highWatermark: 15, abortedTransactions: aborted });
        expect(batchOffsets(p!.records)).toEqual([0, 5, 10]);
      }
    }
  });

  it('checks the leader epoch: -1 and 0 are fine, older is fenced, newer unknown', async () => {
    const topic = await createTopic();
    await threeBatches(topic);
    const epoch = async (currentLeaderEpoch: number) =>
      (
        await fetchParts(
          fetchRequest(topic, [{ partition: 0, fetchOffset: 0, currentLeaderEpoch }], { maxWaitMs: 10_000 }),
        )
      )[0]!.errorCode;
    expect(await epoch(-1)).toBe(0);
    expect(await epoch(0)).toBe(0);
    expect(await epoch(3)).toBe(75); // UNKNOWN_LEADER_EPOCH
    expect(await epoch(-5)).toBe(74); // FENCED_LEADER_EPOCH
  });

  it('always answers with session id 0 (no fetch sessions)', async () => {
    const topic = await createTopic();
    const r = await client.request(API_KEYS.Fetch, 12, {
      ...fetchRequest(topic, [{ partition: 0, fetchOffset: 0 }]),
      sessionId: 0,
      sessionEpoch: 0,
    });
    expect(r).toMatchObject({ errorCode: 0, sessionId: 0 });
  });
});

describe('ListOffsets', () => {
  it('answers latest, earliest, max timestamp and offsets for times', async () => {
    const topic = await createTopic();
    const base = 1_700_000_000_000;
    // Timestamps out of order inside the second batch: the maximum is offset 6.
    await produce(topic, 0, makeBatch({ count: 5, timestamp: (i) => base + i * 1000 }));
    await produce(topic, 0, makeBatch({ count: 3, timestamp: (i) => base + [9000, 20_000, 8000][i]! }));
    const list = async (timestamp: number, version = 7) =>
      (
        await client.request(API_KEYS.ListOffsets, version, {
          replicaId: -1,
          topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp }] }],
        })
      ).topics[0]!.partitions[0]!;
    expect(await list(-1)).toMatchObject({ errorCode: 0, offset: 8, timestamp: -1, leaderEpoch: 0 });
    expect(await list(-2)).toMatchObject({ offset: 0, timestamp: -1 });
    expect(await list(-3)).toMatchObject({ offset: 6, timestamp: base + 20_000 });
    expect(await list(base + 2500)).toMatchObject({ offset: 3, timestamp: base + 3000 });
    expect(await list(base + 8500)).toMatchObject({ offset: 5, timestamp: base + 9000 });
    expect(await list(base + 60_000)).toMatchObject({ offset: -1, timestamp: -1, leaderEpoch: -1 });
    for (const version of [1, 2, 3, 4, 5, 6]) expect((await list(base + 2500, version)).offset).toBe(3);
    expect(await list(base, 1)).not.toHaveProperty('leaderEpoch', 0);
  });

  it('answers unknown partitions with 3 and stale leader epochs with 74', async () => {
    const topic = await createTopic();
    const r = await client.request(API_KEYS.ListOffsets, 4, {
      replicaId: -1,
      topics: [
        {
          name: topic,
          partitions: [
            { partitionIndex: 0, timestamp: -1, currentLeaderEpoch: -2 },
            { partitionIndex: 9, timestamp: -1 },
          ],
        },
      ],
    });
    expect(r.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([74, 3]);
  });
});

describe('Produce', () => {
  it('refuses zstd below v7 and takes it from v7', async () => {
    const topic = await createTopic();
    const zstd = await makeCompressedBatch({ count: 20, compression: 'zstd' });
    for (const version of [3, 5, 6]) expect((await produce(topic, 0, zstd, version)).errorCode).toBe(76);
    const ok = await produce(topic, 0, zstd, 7);
    expect(ok).toMatchObject({ errorCode: 0, baseOffset: 0 });
    // Other codecs are fine on v3.
    const gzip = await makeCompressedBatch({ count: 20, compression: 'gzip' });
    expect(await produce(topic, 0, gzip, 3)).toMatchObject({ errorCode: 0, baseOffset: 20 });
  });

  it('checks acks, records, transactional ids and batch framing, per partition', async () => {
    const topic = await createTopic(2);
    const answer = async (body: Parameters<typeof client.request<0>>[2], version = 8) =>
      (await client.request(API_KEYS.Produce, version, body)).responses[0]!.partitionResponses;
    const one = (records: Uint8Array | null) => [{ name: topic, partitionData: [{ index: 0, records }] }];
    expect(await answer({ acks: 2, timeoutMs: 1000, topicData: one(makeBatch()) })).toMatchObject([
      { errorCode: 21, errorMessage: expect.stringContaining('acks') },
    ]);
    expect(await answer({ acks: 1, timeoutMs: 1000, topicData: one(null) })).toMatchObject([
      { errorCode: 87 },
    ]);
    expect(
      await answer({ acks: 1, timeoutMs: 1000, transactionalId: 'tx', topicData: one(makeBatch()) }),
    ).toMatchObject([{ errorCode: 42, errorMessage: expect.stringContaining('transactions') }]);
    const two = Buffer.concat([makeBatch({ count: 1 }), makeBatch({ count: 1 })]);
    expect((await answer({ acks: 1, timeoutMs: 1000, topicData: one(two) }))[0]!.errorCode).not.toBe(0);
    // A good and a bad partition in one request: each gets its own answer.
    const mixed = await answer({
      acks: 1,
      timeoutMs: 1000,
      topicData: [
        {
          name: topic,
          partitionData: [
            { index: 1, records: makeBatch({ count: 3 }) },
            { index: 7, records: makeBatch({ count: 3 }) },
          ],
        },
      ],
    });
    expect(mixed.map((p) => [p.index, p.errorCode, p.baseOffset])).toEqual([
      [1, 0, 0],
      [7, 3, -1],
    ]);
    // Message formats v0/v1 (Produce v0–2) are not stored.
    expect((await answer({ acks: 1, timeoutMs: 1000, topicData: one(makeBatch()) }, 2))[0]!.errorCode).toBe(
      87,
    );
  });

  it('keeps idempotent producers exactly-once: a resent batch gets its first offset, a gap is refused', async () => {
    const topic = await createTopic();
    const init = await client.request(API_KEYS.InitProducerId, 4, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1,
      producerEpoch: -1,
    });
    expect(init).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    const batch = (baseSequence: number) =>
      makeBatch({ count: 4, producerId: init.producerId, producerEpoch: 0, baseSequence });
    expect(await produce(topic, 0, batch(0))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce(topic, 0, batch(4))).toMatchObject({ errorCode: 0, baseOffset: 4 });
    expect(await produce(topic, 0, batch(4))).toMatchObject({ errorCode: 0, baseOffset: 4 }); // duplicate
    expect(await produce(topic, 0, batch(12))).toMatchObject({ errorCode: 45 }); // OUT_OF_ORDER_SEQUENCE_NUMBER
    const [p] = await fetchParts(fetchRequest(topic, [{ partition: 0, fetchOffset: 0 }]));
    expect(p!.highWatermark).toBe(8);
  });
});
