/**
 * The Kafka front door at the wire level, with a raw client against the broker as a child process:
 * ApiVersions (also for versions we do not serve), every advertised version of every API, responses
 * in request order behind a parked fetch, acks=0, and bad input of every kind while another
 * connection keeps producing.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS, type ApiKey, type RequestBodies } from '../../src/protocol/kafka/api-keys.ts';
import { ZERO_UUID } from '../../src/protocol/kafka/reader.ts';
import { decodeResponse, encodeRequest, encodeResponse } from '../../src/protocol/kafka/request-codec.ts';
import { KAFKA_APIS } from '../../src/router/kafka/api-table.ts';
import type { KafkaApi } from '../../src/router/kafka/kafka-api.ts';
import { makeBatch } from '../helpers/batches.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import {
  frameOf,
  RawKafkaClient,
  requestFrame,
  topicName,
  within,
} from '../unit/router/kafka/raw-kafka-client.ts';

const MAX_REQUEST_BYTES = 1024 * 1024;

let broker: RunningBroker;
let client: RawKafkaClient;

beforeAll(async () => {
  broker = await startBrokerProcess({
    args: [
      '--socket-request-max-bytes',
      String(MAX_REQUEST_BYTES),
      '--num-partitions',
      '1',
      // Groups complete their first join at once (the sweep joins a group per JoinGroup version).
      '--group-initial-rebalance-delay-ms',
      '0',
    ],
  });
  client = await RawKafkaClient.connect(broker.kafkaPort);
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

async function createTopic(name: string, numPartitions = 1): Promise<string> {
  const r = await client.request(API_KEYS.CreateTopics, 4, {
    topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
  });
  expect(r.topics[0]!.errorCode).toBe(0);
  return name;
}

async function produce(conn: RawKafkaClient, topic: string, records: Uint8Array, acks = -1) {
  const r = await conn.request(API_KEYS.Produce, 7, {
    acks,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  });
  return r.responses[0]!.partitionResponses[0]!;
}

async function latestOffset(conn: RawKafkaClient, topic: string): Promise<number> {
  const r = await conn.request(API_KEYS.ListOffsets, 2, {
    replicaId: -1,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
  });
  return r.topics[0]!.partitions[0]!.offset!;
}

describe('ApiVersions', () => {
  it('answers v0–3 with response header v0, listing every served API and its versions', async () => {
    const expected = (Object.values(KAFKA_APIS) as KafkaApi<ApiKey>[]).map((a) => ({
      apiKey: a.apiKey,
      minVersion: a.versions[0],
      maxVersion: a.versions[1],
    }));
    for (let v = 0; v <= 3; v++) {
      const id = client.send(API_KEYS.ApiVersions, v, {
        clientSoftwareName: 'sluice-test',
        clientSoftwareVersion: '1.0',
      });
      const frame = await client.rawResponse(API_KEYS.ApiVersions, v, id);
      const { body } = decodeResponse(API_KEYS.ApiVersions, v, frame);
      expect(body.errorCode).toBe(0);
      expect(
        body.apiKeys.map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion })),
      ).toEqual(expected);
      // Byte for byte what header v0 + the body give (a v1 header would add a tagged-field byte).
      expect(Buffer.from(frame)).toEqual(Buffer.concat(encodeResponse(API_KEYS.ApiVersions, v, id, body)));
    }
  });

  it('answers a version it does not serve in v0 with UNSUPPORTED_VERSION and its own range, as Kafka does', async () => {
    const conn = await RawKafkaClient.connect(broker.kafkaPort);
    // v4 exists in Kafka but is not advertised here; v127 does not exist, and its body is garbage.
    const v4 = conn.send(API_KEYS.ApiVersions, 4, {});
    const header = Buffer.alloc(8);
    header.writeInt16BE(API_KEYS.ApiVersions, 0);
    header.writeInt16BE(127, 2);
    header.writeInt32BE(4242, 4);
    conn.writeBytes(frameOf([header, Buffer.from([0xff, 0xfe, 0x13])]));
    for (const id of [v4, 4242]) {
      const { body } = await conn.response(API_KEYS.ApiVersions, 0, id);
      expect(body).toMatchObject({
        errorCode: 35,
        apiKeys: [{ apiKey: API_KEYS.ApiVersions, minVersion: 0, maxVersion: 3 }],
      });
    }
    // The connection stays usable.
    expect((await conn.request(API_KEYS.ApiVersions, 3, {})).errorCode).toBe(0);
    conn.close();
  });
});

/** A member alone in a fresh group, joined (JoinGroup v5: MEMBER_ID_REQUIRED, then again with the id). */
async function joinAlone(groupId: string): Promise<{ memberId: string; generationId: number }> {
  const body = (memberId: string) => ({
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: new Uint8Array([0, 1]) }],
  });
  const first = await client.request(API_KEYS.JoinGroup, 5, body(''));
  expect(first.errorCode).toBe(79); // MEMBER_ID_REQUIRED
  const joined = await client.request(API_KEYS.JoinGroup, 5, body(first.memberId));
  expect(joined.errorCode).toBe(0);
  return joined;
}

/** A member alone in a fresh group, joined and synced: the group is Stable. */
async function stableAlone(groupId: string): Promise<{ memberId: string; generationId: number }> {
  const m = await joinAlone(groupId);
  const synced = await client.request(API_KEYS.SyncGroup, 3, {
    groupId,
    generationId: m.generationId,
    memberId: m.memberId,
    assignments: [{ memberId: m.memberId, assignment: new Uint8Array([1]) }],
  });
  expect(synced.errorCode).toBe(0);
  return m;
}

/** A small valid request of each served API at each version (names a fresh topic where it matters). */
async function sweepBody(apiKey: ApiKey, v: number): Promise<RequestBodies[ApiKey] | undefined> {
  const topic = topicName('sweep');
  switch (apiKey) {
    case API_KEYS.Produce:
      return {
        acks: 1,
        timeoutMs: 5000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records: makeBatch({ count: 2 }) }] }],
      };
    case API_KEYS.Fetch:
      await createTopic(topic);
      await produce(client, topic, makeBatch({ count: 2 }));
      return {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
      };
    case API_KEYS.ListOffsets:
      await createTopic(topic);
      return { replicaId: -1, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -2 }] }] };
    case API_KEYS.Metadata:
      return { topics: [{ name: topic }], allowAutoTopicCreation: true };
    case API_KEYS.FindCoordinator:
      return v >= 4 ? { keyType: 0, coordinatorKeys: ['g1', 'g2'] } : { key: 'g1', keyType: 0 };
    case API_KEYS.CreateTopics:
      return {
        topics: [{ name: topic, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] }],
        timeoutMs: 5000,
      };
    case API_KEYS.DeleteTopics:
      await createTopic(topic);
      return v >= 6
        ? { topics: [{ name: topic, topicId: ZERO_UUID }], timeoutMs: 5000 }
        : { topicNames: [topic], timeoutMs: 5000 };
    case API_KEYS.InitProducerId:
      return { transactionalId: null, transactionTimeoutMs: 60000 };
    case API_KEYS.DescribeConfigs:
      await createTopic(topic);
      return { resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ['retention.ms'] }] };
    case API_KEYS.CreatePartitions:
      await createTopic(topic);
      return { topics: [{ name: topic, count: 3, assignments: null }], timeoutMs: 5000, validateOnly: false };
    case API_KEYS.JoinGroup: {
      const groupId = `${topic}-g`;
      // v0–3 admit a first join at once; v4+ hand out a member id first.
      const memberId = v >= 4 ? (await joinAlone(groupId)).memberId : '';
      return {
        groupId,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: new Uint8Array([0, 1]) }],
        reason: 'sweep',
      };
    }
    case API_KEYS.SyncGroup: {
      const groupId = `${topic}-g`;
      const m = await joinAlone(groupId);
      return {
        groupId,
        generationId: m.generationId,
        memberId: m.memberId,
        ...(v >= 5 && { protocolType: 'consumer', protocolName: 'range' }),
        assignments: [{ memberId: m.memberId, assignment: new Uint8Array([1, 2]) }],
      };
    }
    case API_KEYS.Heartbeat: {
      const groupId = `${topic}-g`;
      return { groupId, ...(await stableAlone(groupId)) };
    }
    case API_KEYS.LeaveGroup: {
      const groupId = `${topic}-g`;
      const { memberId } = await stableAlone(groupId);
      return v >= 3
        ? { groupId, members: [{ memberId, groupInstanceId: null, reason: 'sweep' }] }
        : { groupId, memberId };
    }
    case API_KEYS.OffsetCommit:
      await createTopic(topic);
      // A simple commit (no member: generation -1), which every version can express.
      return {
        groupId: `${topic}-g`,
        topics: [
          { name: topic, partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: 'm' }] },
        ],
      };
    case API_KEYS.OffsetFetch:
      await createTopic(topic);
      return v >= 8
        ? { groups: [{ groupId: `${topic}-g`, topics: [{ name: topic, partitionIndexes: [0] }] }] }
        : { groupId: `${topic}-g`, topics: [{ name: topic, partitionIndexes: [0] }] };
    case API_KEYS.DescribeGroups: {
      const groupId = `${topic}-g`;
      await stableAlone(groupId);
      return { groups: [groupId], includeAuthorizedOperations: v >= 3 };
    }
    case API_KEYS.ListGroups:
      return v >= 4 ? { statesFilter: ['Stable', 'Empty'] } : {};
    case API_KEYS.DeleteGroups: {
      await createTopic(topic);
      const groupId = `${topic}-g`;
      const committed = await client.request(API_KEYS.OffsetCommit, 2, {
        groupId,
        topics: [
          { name: topic, partitions: [{ partitionIndex: 0, committedOffset: 0, committedMetadata: null }] },
        ],
      });
      expect(committed.topics[0]!.partitions[0]!.errorCode).toBe(0);
      return { groupsNames: [groupId] };
    }
    default:
      return undefined;
  }
}

/** Every error code anywhere in a response body (nested arrays included). */
function errorCodes(value: unknown): number[] {
  if (Array.isArray(value)) return value.flatMap(errorCodes);
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return [];
  return Object.entries(value).flatMap(([k, v]) => (k === 'errorCode' ? [v as number] : errorCodes(v)));
}

describe('every advertised version', () => {
  it('of every API answers a valid request (without error, but for Produce v0–2)', async () => {
    let checked = 0;
    for (const api of Object.values(KAFKA_APIS) as KafkaApi<ApiKey>[]) {
      for (let v = api.versions[0]; v <= api.versions[1]; v++) {
        const body = await sweepBody(api.apiKey, v);
        if (api.apiKey === API_KEYS.ApiVersions) continue; // above
        expect(body, `a sweep body for API ${api.apiKey}`).toBeDefined();
        const response = await client.request(api.apiKey, v, body!);
        // Produce v0–2 are advertised for librdkafka's compression check only: no record batches v2.
        const expected = api.apiKey === API_KEYS.Produce && v < 3 ? 87 : 0;
        expect(errorCodes(response), `API ${api.apiKey} v${v}: ${JSON.stringify(response)}`).toEqual(
          errorCodes(response).map(() => expected),
        );
        expect(errorCodes(response).length, `API ${api.apiKey} v${v} has error codes`).toBeGreaterThan(0);
        if (api.apiKey === API_KEYS.Fetch) {
          const p = (response as { responses: { partitions: { records: Uint8Array }[] }[] }).responses[0]!
            .partitions[0]!;
          expect(p.records.byteLength).toBeGreaterThan(61);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});

describe('captured client requests', () => {
  it('are all answered, at their version (acks=0 produces silently)', async () => {
    const dir = path.resolve(import.meta.dirname, '../fixtures/kafka-capture');
    const frames = ['kcat.json', 'kafkajs.json', 'kcat-groups.json', 'kafkajs-groups.json'].flatMap(
      (file) =>
        (
          JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
            frames: { apiKey: ApiKey; apiVersion: number; shape: string; hex: string }[];
          }
        ).frames,
    );
    await Promise.all(
      frames.map(async (f) => {
        const conn = await RawKafkaClient.connect(broker.kafkaPort);
        const frame = Buffer.from(f.hex, 'hex');
        const correlationId = frame.readInt32BE(4);
        conn.writeBytes(frameOf([frame]));
        if (f.shape.startsWith('acks=0')) {
          expect((await conn.request(API_KEYS.ApiVersions, 3, {})).errorCode).toBe(0);
          expect(conn.arrivals).toHaveLength(1);
        } else {
          const response = await within(
            conn.response(f.apiKey, f.apiVersion, correlationId),
            10_000,
            `${f.apiKey} v${f.apiVersion}`,
          );
          expect(response.correlationId).toBe(correlationId);
        }
        conn.close();
      }),
    );
  });
});

describe('ordering', () => {
  it('answers a Metadata pipelined behind a parked Fetch only after the Fetch', async () => {
    const topic = await createTopic(topicName());
    const conn = await RawKafkaClient.connect(broker.kafkaPort);
    const started = Date.now();
    const fetchId = conn.send(API_KEYS.Fetch, 11, {
      maxWaitMs: 1500,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    });
    const metadataId = conn.send(API_KEYS.Metadata, 6, { topics: [{ name: topic }] });
    const metadata = await within(conn.response(API_KEYS.Metadata, 6, metadataId), 10_000, 'metadata');
    const fetched = await conn.response(API_KEYS.Fetch, 11, fetchId);
    expect(conn.arrivals).toEqual([fetchId, metadataId]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(metadata.body.topics[0]!.name).toBe(topic);
    expect(fetched.body.responses[0]!.partitions[0]!.records!.byteLength).toBe(0);
    conn.close();
  });

  it('keeps request order when the parked Fetch is woken by data from another connection', async () => {
    const topic = await createTopic(topicName());
    const conn = await RawKafkaClient.connect(broker.kafkaPort);
    const ids = [
      conn.send(API_KEYS.Fetch, 11, {
        maxWaitMs: 20_000,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
      }),
      conn.send(API_KEYS.ApiVersions, 2, {}),
      conn.send(API_KEYS.Metadata, 1, { topics: null }),
      conn.send(API_KEYS.ListOffsets, 1, {
        replicaId: -1,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
      }),
    ];
    // Let the short requests finish behind the parked fetch, then wake it.
    await new Promise((r) => setTimeout(r, 200));
    expect(conn.arrivals).toEqual([]);
    await produce(client, topic, makeBatch({ count: 3 }));
    const fetched = await within(conn.response(API_KEYS.Fetch, 11, ids[0]!), 10_000, 'fetch');
    await within(conn.response(API_KEYS.ListOffsets, 1, ids[3]!), 10_000, 'listOffsets');
    expect(conn.arrivals).toEqual(ids);
    expect(fetched.body.responses[0]!.partitions[0]!.highWatermark).toBe(3);
    conn.close();
  });
});

describe('acks=0', () => {
  it('sends no response, yet stores the batch, and answers the next request', async () => {
    const topic = await createTopic(topicName());
    const conn = await RawKafkaClient.connect(broker.kafkaPort);
    const silent = conn.send(API_KEYS.Produce, 7, {
      acks: 0,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: makeBatch({ count: 4 }) }] }],
    });
    const next = conn.send(API_KEYS.ListOffsets, 2, {
      replicaId: -1,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
    });
    const answer = await conn.response(API_KEYS.ListOffsets, 2, next);
    expect(answer.body.topics[0]!.partitions[0]!.offset).toBe(4);
    expect(conn.arrivals).toEqual([next]);
    expect(conn.arrivals).not.toContain(silent);
    conn.close();
  });

  it('closes the connection when an acks=0 produce fails, as Kafka does', async () => {
    const topic = await createTopic(topicName());
    const conn = await RawKafkaClient.connect(broker.kafkaPort);
    conn.send(API_KEYS.Produce, 7, {
      acks: 0,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 5, records: makeBatch({ count: 1 }) }] }],
    });
    await within(conn.closed, 5000, 'close after a failed acks=0 produce');
  });
});

/** Send `bytes` on a fresh connection, half-close it, and expect the broker to close it. */
async function expectClosed(bytes: Uint8Array, what: string, halfClose = true): Promise<void> {
  const conn = await RawKafkaClient.connect(broker.kafkaPort);
  conn.writeBytes(bytes);
  if (halfClose) conn.socket.end();
  await within(conn.closed, 5000, what);
}

describe('bad input', () => {
  it('closes connections that send bad frames; the broker and other connections carry on', async () => {
    const topic = await createTopic(topicName());
    const steady = await RawKafkaClient.connect(broker.kafkaPort);
    let produced = 0;
    let stop = false;
    const steadyLoop = (async () => {
      while (!stop) {
        const r = await produce(steady, topic, makeBatch({ count: 2 }));
        expect(r.errorCode).toBe(0);
        produced += 2;
      }
    })();

    const header = (apiKey: number, version: number) => {
      const h = Buffer.alloc(10);
      h.writeInt16BE(apiKey, 0);
      h.writeInt16BE(version, 2);
      h.writeInt32BE(7, 4);
      h.writeInt16BE(-1, 8); // null client id
      return h;
    };
    // Unknown API key; an API the codecs know but the broker does not serve; a version outside the
    // advertised range.
    await expectClosed(frameOf([header(999, 0)]), 'unknown API key', false);
    await expectClosed(
      frameOf(encodeRequest(API_KEYS.OffsetDelete, 0, { correlationId: 1 }, { groupId: 'g', topics: [] })),
      'OffsetDelete (not served)',
      false,
    );
    await expectClosed(frameOf([header(API_KEYS.Heartbeat, 5)]), 'Heartbeat v5 (no such version)', false);
    await expectClosed(
      requestFrame(API_KEYS.Produce, 10, 1, { acks: 1, timeoutMs: 1, topicData: [] }),
      'Produce v10',
      false,
    );
    await expectClosed(
      requestFrame(API_KEYS.Fetch, 13, 1, { maxWaitMs: 0, minBytes: 1, topics: [] }),
      'Fetch v13',
      false,
    );
    // A frame larger than socket.request.max.bytes is refused from its prefix: nothing else is sent.
    const huge = Buffer.alloc(4);
    huge.writeInt32BE(MAX_REQUEST_BYTES + 1);
    await expectClosed(huge, 'oversized frame', false);
    huge.writeInt32BE(0x7fffffff);
    await expectClosed(huge, '2 GiB frame', false);
    // Negative size, empty frame, a header cut short, a body cut short.
    await expectClosed(Buffer.from([0x80, 0, 0, 0]), 'negative size', false);
    await expectClosed(frameOf([]), 'empty frame', false);
    await expectClosed(frameOf([header(3, 1).subarray(0, 5)]), 'truncated header', false);
    const metadata = requestFrame(API_KEYS.Metadata, 1, 1, { topics: [{ name: topic }] });
    const cut = metadata.subarray(0, metadata.length - 3);
    cut.writeInt32BE(cut.length - 4, 0);
    await expectClosed(cut, 'truncated body', false);
    // A frame that never completes: the client gives up (half-close) and the broker closes too.
    await expectClosed(metadata.subarray(0, 12), 'truncated frame');
    // Absurd array counts: 2^31-1 topics in a few bytes.
    await expectClosed(
      frameOf([header(3, 1), Buffer.from([0x7f, 0xff, 0xff, 0xff])]),
      'absurd array count',
      false,
    );
    await expectClosed(
      frameOf([header(0, 7), Buffer.from([0xff, 0xff, 0, 1, 0, 0, 0x13, 0x88, 0x7f, 0xff, 0xff, 0xff])]),
      'absurd produce topic count',
      false,
    );
    // Random bytes, with and without a plausible size prefix.
    for (let i = 0; i < 20; i++) {
      const junk = randomBytes(8 + (i % 7) * 13);
      if (i % 2 === 0) junk.writeInt32BE(junk.length - 4, 0);
      await expectClosed(junk, `random bytes #${i}`);
    }

    stop = true;
    await steadyLoop;
    expect(produced).toBeGreaterThan(0);
    expect(await latestOffset(steady, topic)).toBe(produced);
    steady.close();
    expect((await fetch(`${broker.httpUrl}/healthz`)).status).toBe(200);
    expect((await client.request(API_KEYS.ApiVersions, 3, {})).errorCode).toBe(0);
  });

  it('accepts a request up to socket.request.max.bytes', async () => {
    const topic = await createTopic(topicName());
    const batch = makeBatch({ count: 1, valueSize: 900 * 1024 });
    expect((await produce(client, topic, batch)).errorCode).toBe(0);
  });
});

describe('backpressure', () => {
  it('stops reading a connection whose responses back up, keeps memory bounded, and loses nothing', async () => {
    const topic = await createTopic(topicName());
    for (let i = 0; i < 4; i++) await produce(client, topic, makeBatch({ count: 20, valueSize: 40_000 }));
    const rss = () =>
      Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${broker.pid}/status`, 'utf8'))![1]) * 1024;
    const before = rss();
    const hog = await RawKafkaClient.connect(broker.kafkaPort);
    hog.socket.pause(); // reads nothing: the broker's responses back up
    // 100 pipelined fetches of the whole log (~3.2 MB each): 320 MB if the broker answered them all.
    const ids: number[] = [];
    for (let i = 0; i < 100; i++) {
      ids.push(
        hog.send(API_KEYS.Fetch, 11, {
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 64 << 20,
          topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 64 << 20 }] }],
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect(rss() - before).toBeLessThan(120 * 1024 * 1024);
    // Others are unaffected meanwhile.
    expect(await latestOffset(client, topic)).toBe(80);
    // Reading again, the client gets every answer, in order.
    const last = hog.response(API_KEYS.Fetch, 11, ids.at(-1)!);
    hog.socket.resume();
    const answer = await within(last, 30_000, 'the last fetch');
    expect(answer.body.responses[0]!.partitions[0]!.highWatermark).toBe(80);
    expect(hog.arrivals).toEqual(ids);
    hog.close();
  });
});

describe('shutdown', () => {
  it('answers a parked fetch at once on SIGTERM, closes Kafka connections and exits cleanly', async () => {
    const own = await startBrokerProcess();
    try {
      const conn = await RawKafkaClient.connect(own.kafkaPort);
      const topic = topicName();
      await conn.request(API_KEYS.CreateTopics, 4, {
        topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs: 5000,
      });
      const id = conn.send(API_KEYS.Fetch, 11, {
        maxWaitMs: 30_000,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
      });
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      const exit = own.stop('SIGTERM');
      const answer = await within(conn.response(API_KEYS.Fetch, 11, id), 5000, 'parked fetch at shutdown');
      expect(answer.body.responses[0]!.partitions[0]!.errorCode).toBe(0);
      await within(conn.closed, 5000, 'connection closed at shutdown');
      expect(await exit).toBe(0);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await own.stop('SIGKILL');
      fs.rmSync(own.dataDir, { recursive: true, force: true });
    }
  });
});
