/**
 * Metadata, topic administration, DescribeConfigs, FindCoordinator and InitProducerId over the Kafka
 * protocol, with raw requests against the broker as a child process: topic ids, auto-creation,
 * replica assignments, validate-only, deletion by id, config sources and the refusals of
 * transactions.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/kafka/api-keys.ts';
import { ZERO_UUID } from '../../src/protocol/kafka/reader.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import { RawKafkaClient, topicName } from '../unit/router/kafka/raw-kafka-client.ts';

let broker: RunningBroker;
let client: RawKafkaClient;

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ['--num-partitions', '2'] });
  client = await RawKafkaClient.connect(broker.kafkaPort);
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

async function create(name: string, numPartitions = 1, version = 7) {
  const r = await client.request(API_KEYS.CreateTopics, version, {
    topics: [{ name, numPartitions, replicationFactor: -1, assignments: [], configs: [] }],
    timeoutMs: 5000,
  });
  return r.topics[0]!;
}

describe('Metadata', () => {
  it('names this node, its Kafka port and the controller; topics carry distinct persistent ids', async () => {
    const a = topicName('meta');
    const b = topicName('meta');
    const idA = (await create(a)).topicId;
    const idB = (await create(b)).topicId;
    expect(idA).not.toBe(ZERO_UUID);
    expect(idA).not.toBe(idB);
    const r = await client.request(API_KEYS.Metadata, 12, { topics: [{ name: a }, { name: b }] });
    expect(r.brokers).toEqual([
      expect.objectContaining({ nodeId: 0, host: '127.0.0.1', port: broker.kafkaPort }),
    ]);
    expect(r.controllerId).toBe(0);
    expect(r.clusterId).toMatch(/\S/);
    expect(r.topics.map((t) => [t.name, t.topicId, t.errorCode])).toEqual([
      [a, idA, 0],
      [b, idB, 0],
    ]);
    expect(r.topics[0]!.partitions[0]).toMatchObject({
      leaderId: 0,
      leaderEpoch: 0,
      replicaNodes: [0],
      isrNodes: [0],
    });
  });

  it('finds topics by id (v12) and answers an unknown id with UNKNOWN_TOPIC_ID', async () => {
    const name = topicName('meta');
    const id = (await create(name)).topicId!;
    const missing = '11111111-2222-4333-8444-555555555555';
    const r = await client.request(API_KEYS.Metadata, 12, {
      topics: [
        { name: null, topicId: id },
        { name: null, topicId: missing },
      ],
    });
    expect(r.topics.map((t) => [t.name, t.topicId, t.errorCode])).toEqual([
      [name, id, 0],
      [null, missing, 100],
    ]);
  });

  it('lists every topic for a null list (v1+) and an empty one in v0; none for an empty list in v1+', async () => {
    const name = topicName('meta');
    await create(name);
    expect((await client.request(API_KEYS.Metadata, 0, { topics: [] })).topics.map((t) => t.name)).toContain(
      name,
    );
    expect(
      (await client.request(API_KEYS.Metadata, 4, { topics: null })).topics.map((t) => t.name),
    ).toContain(name);
    expect((await client.request(API_KEYS.Metadata, 4, { topics: [] })).topics).toEqual([]);
  });

  it('auto-creates a topic when asked (broker default partitions), not when told not to', async () => {
    const yes = topicName('auto');
    const no = topicName('auto');
    const r = await client.request(API_KEYS.Metadata, 9, {
      topics: [{ name: yes }],
      allowAutoTopicCreation: true,
    });
    expect(r.topics[0]).toMatchObject({ name: yes, errorCode: 0 });
    expect(r.topics[0]!.partitions).toHaveLength(2);
    const n = await client.request(API_KEYS.Metadata, 9, {
      topics: [{ name: no }],
      allowAutoTopicCreation: false,
    });
    expect(n.topics[0]).toMatchObject({ name: no, errorCode: 3, partitions: [] });
    const bad = await client.request(API_KEYS.Metadata, 4, { topics: [{ name: 'no good!' }] });
    expect(bad.topics[0]!.errorCode).toBe(17);
  });
});

describe('CreateTopics', () => {
  it('takes -1 on every version and answers with the topic id (v7) and configs (v5+)', async () => {
    for (let v = 0; v <= 7; v++) {
      const t = await create(topicName(`ct${v}`), -1, v);
      expect(t.errorCode).toBe(0);
      if (v >= 5) {
        expect(t).toMatchObject({ numPartitions: 2, replicationFactor: 1 });
        expect(t.configs).toContainEqual(expect.objectContaining({ name: 'retention.ms', configSource: 5 }));
      }
      if (v >= 7) expect(t.topicId).not.toBe(ZERO_UUID);
    }
  });

  it('accepts a replica assignment on this node, refuses others, and validates only when asked', async () => {
    const assigned = topicName('asg');
    const r = await client.request(API_KEYS.CreateTopics, 5, {
      topics: [
        {
          name: assigned,
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [
            { partitionIndex: 1, brokerIds: [0] },
            { partitionIndex: 0, brokerIds: [0] },
          ],
          configs: [{ name: 'retention.ms', value: '1000' }],
        },
        {
          name: topicName('asg'),
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [0, 1] }],
          configs: [],
        },
        {
          name: topicName('asg'),
          numPartitions: 3,
          replicationFactor: 1,
          assignments: [{ partitionIndex: 0, brokerIds: [0] }],
          configs: [],
        },
      ],
      timeoutMs: 5000,
    });
    expect(r.topics.map((t) => t.errorCode)).toEqual([0, 38, 42]);
    expect(r.topics[0]).toMatchObject({ numPartitions: 2 });
    expect(r.topics[0]!.configs).toContainEqual(
      expect.objectContaining({ name: 'retention.ms', value: '1000', configSource: 1 }),
    );
    const dry = topicName('dry');
    const v = await client.request(API_KEYS.CreateTopics, 4, {
      topics: [{ name: dry, numPartitions: 4, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
      validateOnly: true,
    });
    expect(v.topics[0]!.errorCode).toBe(0);
    const m = await client.request(API_KEYS.Metadata, 4, {
      topics: [{ name: dry }],
      allowAutoTopicCreation: false,
    });
    expect(m.topics[0]!.errorCode).toBe(3);
  });
});

describe('DeleteTopics', () => {
  it('deletes by name (v0–5) and by id (v6), answering with the id; unknown ids get 100', async () => {
    const byName = topicName('del');
    const byId = topicName('del');
    await create(byName);
    const id = (await create(byId)).topicId!;
    const v1 = await client.request(API_KEYS.DeleteTopics, 1, {
      topicNames: [byName, topicName('nope')],
      timeoutMs: 5000,
    });
    expect(v1.responses.map((t) => [t.name, t.errorCode])).toEqual([
      [byName, 0],
      [expect.any(String), 3],
    ]);
    const v6 = await client.request(API_KEYS.DeleteTopics, 6, {
      topics: [
        { name: null, topicId: id },
        { name: null, topicId: '99999999-2222-4333-8444-555555555555' },
      ],
      timeoutMs: 5000,
    });
    expect(v6.responses.map((t) => [t.name, t.topicId, t.errorCode])).toEqual([
      [byId, id, 0],
      [null, '99999999-2222-4333-8444-555555555555', 100],
    ]);
    const m = await client.request(API_KEYS.Metadata, 4, { topics: null });
    expect(m.topics.map((t) => t.name)).not.toContain(byId);
  });
});

describe('CreatePartitions and DescribeConfigs', () => {
  it('grows a topic, never shrinks it', async () => {
    const name = topicName('grow');
    await create(name, 1);
    const r = await client.request(API_KEYS.CreatePartitions, 1, {
      topics: [
        { name, count: 4, assignments: null },
        { name: topicName('nope'), count: 2, assignments: null },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expect(r.results.map((t) => t.errorCode)).toEqual([0, 3]);
    const shrink = await client.request(API_KEYS.CreatePartitions, 0, {
      topics: [{ name, count: 2, assignments: null }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expect(shrink.results[0]!.errorCode).toBe(37);
  });

  it('describes topic and broker configs with Kafka’s config sources', async () => {
    const name = topicName('cfg');
    await client.request(API_KEYS.CreateTopics, 4, {
      topics: [
        {
          name,
          numPartitions: 1,
          replicationFactor: 1,
          assignments: [],
          configs: [{ name: 'retention.ms', value: '5000' }],
        },
      ],
      timeoutMs: 5000,
    });
    for (const v of [0, 1, 2, 3, 4]) {
      const r = await client.request(API_KEYS.DescribeConfigs, v, {
        resources: [
          { resourceType: 2, resourceName: name, configurationKeys: ['retention.ms', 'segment.bytes'] },
          { resourceType: 4, resourceName: '0', configurationKeys: null },
          { resourceType: 3, resourceName: 'some-group', configurationKeys: null },
        ],
        includeSynonyms: v >= 1,
      });
      expect(r.results.map((x) => x.errorCode)).toEqual([0, 0, 42]);
      const topic = r.results[0]!.configs;
      expect(topic.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '5000', readOnly: false });
      if (v === 0) expect(topic.find((c) => c.name === 'segment.bytes')).toMatchObject({ isDefault: true });
      else {
        expect(topic.find((c) => c.name === 'retention.ms')).toMatchObject({
          configSource: 1,
          synonyms: [{ name: 'retention.ms', value: '5000', source: 1 }],
        });
        expect(topic.find((c) => c.name === 'segment.bytes')).toMatchObject({ configSource: 5 });
      }
      expect(r.results[1]!.configs.find((c) => c.name === 'kafka.port')).toMatchObject({ readOnly: true });
    }
  });
});

describe('FindCoordinator and InitProducerId', () => {
  it('names this node as group coordinator (v0–4) and refuses transaction coordinators', async () => {
    for (let v = 0; v <= 3; v++) {
      const r = await client.request(API_KEYS.FindCoordinator, v, { key: 'g', keyType: 0 });
      expect(r).toMatchObject({ errorCode: 0, nodeId: 0, host: '127.0.0.1', port: broker.kafkaPort });
    }
    const tx = await client.request(API_KEYS.FindCoordinator, 2, { key: 'tx', keyType: 1 });
    expect(tx).toMatchObject({ errorCode: 42, errorMessage: expect.stringContaining('transactions') });
    const batched = await client.request(API_KEYS.FindCoordinator, 4, {
      keyType: 0,
      coordinatorKeys: ['a', 'b'],
    });
    expect(batched.coordinators).toEqual([
      expect.objectContaining({ key: 'a', nodeId: 0, port: broker.kafkaPort, errorCode: 0 }),
      expect.objectContaining({ key: 'b', nodeId: 0, port: broker.kafkaPort, errorCode: 0 }),
    ]);
  });

  it('hands out fresh producer ids (v0–4) and refuses transactional ids', async () => {
    const ids = new Set<number>();
    for (let v = 0; v <= 4; v++) {
      const r = await client.request(API_KEYS.InitProducerId, v, {
        transactionalId: null,
        transactionTimeoutMs: 60_000,
      });
      expect(r).toMatchObject({ errorCode: 0, producerEpoch: 0 });
      ids.add(r.producerId);
    }
    expect(ids.size).toBe(5);
    const tx = await client.request(API_KEYS.InitProducerId, 1, {
      transactionalId: 'tx',
      transactionTimeoutMs: 60_000,
    });
    expect(tx).toMatchObject({ errorCode: 42, producerId: -1 });
  });
});
