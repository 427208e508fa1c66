/**
 * Cross-check against kafkajs 2.2.4, an independent implementation:
 *  - requests encoded by kafkajs's own encoders decode with our codecs to the values kafkajs was given,
 *    and re-encode to the same bytes; the bytes are committed as golden fixtures
 *    (test/fixtures/kafka-messages/kafkajs/*.hex; regenerate with UPDATE_KAFKA_FIXTURES=1);
 *  - responses encoded by our codecs decode with kafkajs's response decoders to the values we encoded.
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { API_KEYS, type ApiKey, type ResponseBodies } from '../../../../../src/protocol/kafka/api-keys.ts';
import { ConsumerProtocolAssignment } from '../../../../../src/protocol/kafka/messages/consumer-protocol-assignment.ts';
import { ConsumerProtocolSubscription } from '../../../../../src/protocol/kafka/messages/consumer-protocol-subscription.ts';
import type { ProduceRequestData } from '../../../../../src/protocol/kafka/messages/produce.ts';
import { ZERO_UUID } from '../../../../../src/protocol/kafka/reader.ts';
import {
  decodeRequest,
  encodeRequest,
  encodeResponse,
} from '../../../../../src/protocol/kafka/request-codec.ts';

const require = createRequire(import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: kafkajs internals are untyped CommonJS
type Any = any;
const kafkajs = (p: string): Any => require(`kafkajs/src/${p}`);
const { MemberMetadata, MemberAssignment } = kafkajs('consumer/assignerProtocol');
const KafkajsEncoder = kafkajs('protocol/encoder');

const FIXTURES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../fixtures/kafka-messages/kafkajs',
);
const UPDATE = process.env.UPDATE_KAFKA_FIXTURES === '1';
const CORRELATION_ID = 42;
const CLIENT_ID = 'sluice-test';

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const concat = (chunks: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(chunks));

/** A request frame (without the size prefix) as kafkajs encodes it. */
async function kafkajsRequest(api: string, version: number, args: unknown): Promise<Uint8Array> {
  const request = kafkajs(`protocol/requests/${api}/v${version}/request`)(args);
  const createRequest = kafkajs('protocol/request');
  const encoded = await createRequest({ correlationId: CORRELATION_ID, clientId: CLIENT_ID, request });
  const buf: Buffer = encoded.buffer;
  expect(buf.readInt32BE(0)).toBe(buf.byteLength - 4);
  return new Uint8Array(buf.subarray(4));
}

function fixture(name: string, frame: Uint8Array): Uint8Array {
  const file = path.join(FIXTURES, `${name}.hex`);
  if (UPDATE || !existsSync(file)) {
    if (!UPDATE) throw new Error(`missing fixture ${file}: run with UPDATE_KAFKA_FIXTURES=1`);
    mkdirSync(FIXTURES, { recursive: true });
    writeFileSync(file, `${hex(frame)}\n`);
  }
  return new Uint8Array(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'));
}

interface RequestCase {
  api: string;
  /** Distinguishes fixtures of the same API and version. */
  variant?: string;
  key: ApiKey;
  version: number;
  args: unknown;
  expected: Record<string, unknown>;
}

const subscription = MemberMetadata.encode({ version: 0, topics: ['t1', 't2'], userData: Buffer.from('ud') });
const assignment = MemberAssignment.encode({ version: 0, assignment: { t1: [0, 2], t2: [1] } });
const message = { key: 'k1', value: 'hello', timestamp: 1700000000000, headers: { h: 'v' } };
const produceArgs = {
  acks: -1,
  timeout: 30000,
  compression: 0,
  topicData: [
    {
      topic: 't1',
      partitions: [{ partition: 0, firstSequence: 0, messages: [message, { ...message, key: null }] }],
    },
  ],
};

const REQUESTS: RequestCase[] = [
  { api: 'apiVersions', key: API_KEYS.ApiVersions, version: 0, args: {}, expected: {} },
  { api: 'apiVersions', key: API_KEYS.ApiVersions, version: 2, args: {}, expected: {} },
  {
    api: 'metadata',
    key: API_KEYS.Metadata,
    version: 1,
    args: { topics: ['t1', 't2'] },
    expected: { topics: [{ name: 't1', topicId: ZERO_UUID }, { name: 't2' }] },
  },
  {
    api: 'metadata',
    key: API_KEYS.Metadata,
    version: 6,
    args: { topics: ['t1'], allowAutoTopicCreation: false },
    expected: { topics: [{ name: 't1' }], allowAutoTopicCreation: false },
  },
  {
    api: 'metadata',
    key: API_KEYS.Metadata,
    version: 6,
    variant: 'all-topics',
    args: { topics: [], allowAutoTopicCreation: true },
    expected: { topics: null, allowAutoTopicCreation: true }, // kafkajs sends "all topics" as null
  },
  {
    api: 'produce',
    key: API_KEYS.Produce,
    version: 3,
    args: produceArgs,
    expected: { transactionalId: null, acks: -1, timeoutMs: 30000, topicData: [{ name: 't1' }] },
  },
  {
    api: 'produce',
    key: API_KEYS.Produce,
    version: 7,
    args: { ...produceArgs, acks: 1, transactionalId: 'tx-1' },
    expected: { transactionalId: 'tx-1', acks: 1, timeoutMs: 30000, topicData: [{ name: 't1' }] },
  },
  {
    api: 'fetch',
    key: API_KEYS.Fetch,
    version: 4,
    args: {
      replicaId: -1,
      maxWaitTime: 5000,
      minBytes: 1,
      maxBytes: 10485760,
      isolationLevel: 1,
      topics: [{ topic: 't1', partitions: [{ partition: 0, fetchOffset: '42', maxBytes: 1048576 }] }],
    },
    expected: {
      replicaId: -1,
      maxWaitMs: 5000,
      minBytes: 1,
      maxBytes: 10485760,
      isolationLevel: 1,
      topics: [{ topic: 't1', partitions: [{ partition: 0, fetchOffset: 42, partitionMaxBytes: 1048576 }] }],
    },
  },
  {
    api: 'fetch',
    key: API_KEYS.Fetch,
    version: 11,
    args: {
      replicaId: -1,
      maxWaitTime: 5000,
      minBytes: 1,
      maxBytes: 10485760,
      isolationLevel: 1,
      rackId: 'rack-a',
      topics: [
        {
          topic: 't1',
          partitions: [
            { partition: 0, fetchOffset: '9007199254740991', maxBytes: 1048576 },
            { partition: 1, currentLeaderEpoch: 3, fetchOffset: '0', maxBytes: 1048576 },
          ],
        },
      ],
    },
    expected: {
      sessionId: 0,
      sessionEpoch: -1,
      rackId: 'rack-a',
      forgottenTopicsData: [],
      topics: [
        {
          topic: 't1',
          partitions: [
            { partition: 0, currentLeaderEpoch: -1, fetchOffset: 2 ** 53 - 1, logStartOffset: -1 },
            { partition: 1, currentLeaderEpoch: 3, fetchOffset: 0 },
          ],
        },
      ],
    },
  },
  {
    api: 'listOffsets',
    key: API_KEYS.ListOffsets,
    version: 3,
    args: {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ topic: 't1', partitions: [{ partition: 0, timestamp: -2 }] }],
    },
    expected: {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ name: 't1', partitions: [{ partitionIndex: 0, timestamp: -2 }] }],
    },
  },
  {
    api: 'findCoordinator',
    key: API_KEYS.FindCoordinator,
    version: 2,
    args: { coordinatorKey: 'group-1', coordinatorType: 0 },
    expected: { key: 'group-1', keyType: 0 },
  },
  {
    api: 'joinGroup',
    key: API_KEYS.JoinGroup,
    version: 5,
    args: {
      groupId: 'group-1',
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: subscription }],
    },
    expected: {
      groupId: 'group-1',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: 60000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'RoundRobinAssigner' }],
    },
  },
  {
    api: 'syncGroup',
    key: API_KEYS.SyncGroup,
    version: 3,
    args: {
      groupId: 'group-1',
      generationId: 7,
      memberId: 'm-1',
      groupInstanceId: null,
      groupAssignment: [{ memberId: 'm-1', memberAssignment: assignment }],
    },
    expected: { groupId: 'group-1', generationId: 7, memberId: 'm-1', assignments: [{ memberId: 'm-1' }] },
  },
  {
    api: 'heartbeat',
    key: API_KEYS.Heartbeat,
    version: 3,
    args: { groupId: 'group-1', groupGenerationId: 7, memberId: 'm-1', groupInstanceId: 'static-1' },
    expected: { groupId: 'group-1', generationId: 7, memberId: 'm-1', groupInstanceId: 'static-1' },
  },
  {
    api: 'leaveGroup',
    key: API_KEYS.LeaveGroup,
    version: 3,
    args: { groupId: 'group-1', members: [{ memberId: 'm-1' }] },
    expected: { groupId: 'group-1', members: [{ memberId: 'm-1', groupInstanceId: null }] },
  },
  {
    api: 'offsetCommit',
    key: API_KEYS.OffsetCommit,
    version: 5,
    args: {
      groupId: 'group-1',
      groupGenerationId: 7,
      memberId: 'm-1',
      topics: [
        {
          topic: 't1',
          partitions: [
            { partition: 0, offset: '100' },
            { partition: 1, offset: '5', metadata: 'md' },
          ],
        },
      ],
    },
    expected: {
      groupId: 'group-1',
      generationIdOrMemberEpoch: 7,
      memberId: 'm-1',
      topics: [
        {
          name: 't1',
          partitions: [
            { partitionIndex: 0, committedOffset: 100, committedMetadata: null },
            { partitionIndex: 1, committedOffset: 5, committedMetadata: 'md' },
          ],
        },
      ],
    },
  },
  {
    api: 'offsetFetch',
    key: API_KEYS.OffsetFetch,
    version: 1,
    args: { groupId: 'group-1', topics: [{ topic: 't1', partitions: [{ partition: 0 }, { partition: 3 }] }] },
    expected: { groupId: 'group-1', topics: [{ name: 't1', partitionIndexes: [0, 3] }] },
  },
  {
    api: 'offsetFetch',
    key: API_KEYS.OffsetFetch,
    version: 4,
    args: { groupId: 'group-1', topics: [{ topic: 't1', partitions: [{ partition: 0 }] }] },
    expected: { groupId: 'group-1', topics: [{ name: 't1', partitionIndexes: [0] }] },
  },
  {
    api: 'describeGroups',
    key: API_KEYS.DescribeGroups,
    version: 2,
    args: { groupIds: ['g1', 'g2'] },
    expected: { groups: ['g1', 'g2'] },
  },
  { api: 'listGroups', key: API_KEYS.ListGroups, version: 2, args: {}, expected: {} },
  {
    api: 'createTopics',
    key: API_KEYS.CreateTopics,
    version: 3,
    args: {
      topics: [
        {
          topic: 't1',
          numPartitions: 3,
          replicationFactor: 1,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
        { topic: 't2', replicaAssignment: [{ partition: 0, replicas: [0] }] },
      ],
      validateOnly: false,
      timeout: 5000,
    },
    expected: {
      topics: [
        {
          name: 't1',
          numPartitions: 3,
          replicationFactor: 1,
          assignments: [],
          configs: [{ name: 'cleanup.policy', value: 'compact' }],
        },
        {
          name: 't2',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [0] }],
        },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    },
  },
  {
    api: 'deleteTopics',
    key: API_KEYS.DeleteTopics,
    version: 1,
    args: { topics: ['t1'], timeout: 5000 },
    expected: { topicNames: ['t1'], timeoutMs: 5000 },
  },
  {
    api: 'initProducerId',
    key: API_KEYS.InitProducerId,
    version: 1,
    args: { transactionalId: null, transactionTimeout: 60000 },
    expected: { transactionalId: null, transactionTimeoutMs: 60000 },
  },
  {
    api: 'describeConfigs',
    key: API_KEYS.DescribeConfigs,
    version: 2,
    args: {
      resources: [
        { type: 2, name: 't1', configNames: ['retention.ms'] },
        { type: 4, name: '0' },
      ],
      includeSynonyms: true,
    },
    expected: {
      resources: [
        { resourceType: 2, resourceName: 't1', configurationKeys: ['retention.ms'] },
        { resourceType: 4, resourceName: '0', configurationKeys: null },
      ],
      includeSynonyms: true,
    },
  },
  {
    api: 'alterConfigs',
    key: API_KEYS.AlterConfigs,
    version: 1,
    args: {
      resources: [{ type: 2, name: 't1', configEntries: [{ name: 'retention.ms', value: '1000' }] }],
      validateOnly: true,
    },
    expected: {
      resources: [
        { resourceType: 2, resourceName: 't1', configs: [{ name: 'retention.ms', value: '1000' }] },
      ],
      validateOnly: true,
    },
  },
  {
    api: 'createPartitions',
    key: API_KEYS.CreatePartitions,
    version: 1,
    args: { topicPartitions: [{ topic: 't1', count: 4 }], validateOnly: false, timeout: 5000 },
    expected: { topics: [{ name: 't1', count: 4, assignments: null }], timeoutMs: 5000, validateOnly: false },
  },
  {
    api: 'deleteGroups',
    key: API_KEYS.DeleteGroups,
    version: 1,
    args: ['g1'],
    expected: { groupsNames: ['g1'] },
  },
  {
    api: 'deleteRecords',
    key: API_KEYS.DeleteRecords,
    version: 1,
    args: { topics: [{ topic: 't1', partitions: [{ partition: 0, offset: '5' }] }], timeout: 5000 },
    expected: { topics: [{ name: 't1', partitions: [{ partitionIndex: 0, offset: 5 }] }], timeoutMs: 5000 },
  },
  {
    api: 'saslHandshake',
    key: API_KEYS.SaslHandshake,
    version: 1,
    args: { mechanism: 'PLAIN' },
    expected: { mechanism: 'PLAIN' },
  },
  {
    api: 'saslAuthenticate',
    key: API_KEYS.SaslAuthenticate,
    version: 1,
    args: { authBytes: new KafkajsEncoder().writeBytes(Buffer.from('\0user\0secret')).buffer },
    expected: { authBytes: new Uint8Array(Buffer.from('\0user\0secret')) },
  },
];

describe('requests encoded by kafkajs', () => {
  for (const c of REQUESTS) {
    const kebab = c.api.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`);
    const name = `${kebab}-v${c.version}${c.variant === undefined ? '' : `-${c.variant}`}-request`;
    it(`${name}: decodes to what kafkajs was given; decode → encode gives the golden bytes`, async () => {
      const frame = await kafkajsRequest(c.api, c.version, c.args);
      const golden = fixture(name, frame);
      expect(hex(frame), 'kafkajs still encodes the committed bytes').toBe(hex(golden));

      const req = decodeRequest(golden);
      expect(req.apiKey).toBe(c.key);
      expect(req.apiVersion).toBe(c.version);
      expect(req.header).toMatchObject({ correlationId: CORRELATION_ID, clientId: CLIENT_ID });
      expect(req.body).toMatchObject(c.expected);

      const again = encodeRequest(
        req.apiKey,
        req.apiVersion,
        { correlationId: req.header.correlationId, clientId: req.header.clientId },
        req.body as never,
      );
      expect(hex(concat(again))).toBe(hex(golden));
    });
  }

  it('JoinGroup metadata and SyncGroup assignments from kafkajs decode as consumer-protocol data', async () => {
    const join = decodeRequest(
      await kafkajsRequest('joinGroup', 5, REQUESTS.find((c) => c.api === 'joinGroup')!.args),
    );
    if (join.apiKey !== API_KEYS.JoinGroup) throw new Error('not a JoinGroup');
    const sub = ConsumerProtocolSubscription.decodeVersioned(join.body.protocols[0]!.metadata);
    expect(sub.version).toBe(0);
    expect(sub.value.topics).toEqual(['t1', 't2']);
    expect(Buffer.from(sub.value.userData!).toString()).toBe('ud');
    expect(ConsumerProtocolSubscription.encodeVersioned(0, sub.value)).toEqual(new Uint8Array(subscription));

    const sync = decodeRequest(
      await kafkajsRequest('syncGroup', 3, REQUESTS.find((c) => c.api === 'syncGroup')!.args),
    );
    if (sync.apiKey !== API_KEYS.SyncGroup) throw new Error('not a SyncGroup');
    const asg = ConsumerProtocolAssignment.decodeVersioned(sync.body.assignments[0]!.assignment);
    expect(asg.value.assignedPartitions).toEqual([
      { topic: 't1', partitions: [0, 2] },
      { topic: 't2', partitions: [1] },
    ]);
    expect(ConsumerProtocolAssignment.encodeVersioned(0, asg.value)).toEqual(new Uint8Array(assignment));
  });

  it('Produce records are the kafkajs RecordBatch v2 bytes, untouched', async () => {
    const req = decodeRequest(await kafkajsRequest('produce', 7, produceArgs));
    const records = (req.body as ProduceRequestData).topicData[0]!.partitionData[0]!.records!;
    expect(records[16]).toBe(2); // magic
    expect(new DataView(records.buffer, records.byteOffset).getInt32(8)).toBe(records.byteLength - 12);
  });
});

/** Our response, decoded by kafkajs's decoder for that API and version. */
async function viaKafkajs<K extends ApiKey>(
  api: string,
  key: K,
  version: number,
  body: ResponseBodies[K],
  factoryArgs?: unknown,
) {
  const frame = concat(encodeResponse(key, version, CORRELATION_ID, body));
  expect(new DataView(frame.buffer).getInt32(0)).toBe(CORRELATION_ID);
  let response = kafkajs(`protocol/requests/${api}/v${version}/response`);
  if (factoryArgs !== undefined) response = response(factoryArgs);
  return response.decode(Buffer.from(frame.subarray(4)));
}

describe('responses decoded by kafkajs', () => {
  it('ApiVersions v0-v2', async () => {
    const apiKeys = [
      { apiKey: 0, minVersion: 0, maxVersion: 7 },
      { apiKey: 18, minVersion: 0, maxVersion: 3 },
    ];
    for (const version of [0, 1, 2]) {
      const got = await viaKafkajs('apiVersions', API_KEYS.ApiVersions, version, {
        errorCode: 0,
        apiKeys,
        throttleTimeMs: 5,
      });
      expect(got.apiVersions).toEqual(apiKeys);
      expect(got.errorCode).toBe(0);
    }
  });

  it('Metadata v6', async () => {
    const got = await viaKafkajs('metadata', API_KEYS.Metadata, 6, {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
      clusterId: 'cluster-1',
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 't1',
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 1,
              replicaNodes: [1],
              isrNodes: [1],
              offlineReplicas: [],
            },
          ],
        },
      ],
    });
    expect(got).toMatchObject({
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
      clusterId: 'cluster-1',
      controllerId: 1,
      topicMetadata: [
        {
          topicErrorCode: 0,
          topic: 't1',
          isInternal: false,
          partitionMetadata: [
            {
              partitionErrorCode: 0,
              partitionId: 0,
              leader: 1,
              replicas: [1],
              isr: [1],
              offlineReplicas: [],
            },
          ],
        },
      ],
    });
  });

  it('Produce v7 (throttle_time_ms after the topics)', async () => {
    const got = await viaKafkajs('produce', API_KEYS.Produce, 7, {
      responses: [
        {
          name: 't1',
          partitionResponses: [
            { index: 0, errorCode: 0, baseOffset: 2 ** 40, logAppendTimeMs: -1, logStartOffset: 0 },
          ],
        },
      ],
      throttleTimeMs: 3,
    });
    expect(got.clientSideThrottleTime).toBe(3);
    expect(got.topics).toEqual([
      {
        topicName: 't1',
        partitions: [
          {
            partition: 0,
            errorCode: 0,
            baseOffset: String(2 ** 40),
            logAppendTime: '-1',
            logStartOffset: '0',
          },
        ],
      },
    ]);
  });

  it('Fetch v11 carrying the record batch kafkajs produced', async () => {
    const produce = decodeRequest(await kafkajsRequest('produce', 7, produceArgs));
    const records = (produce.body as ProduceRequestData).topicData[0]!.partitionData[0]!.records!;
    for (const version of [4, 11]) {
      const got = await viaKafkajs('fetch', API_KEYS.Fetch, version, {
        throttleTimeMs: 0,
        errorCode: 0,
        sessionId: 0,
        responses: [
          {
            topic: 't1',
            partitions: [
              {
                partitionIndex: 0,
                errorCode: 0,
                highWatermark: 2,
                lastStableOffset: 2,
                logStartOffset: 0,
                abortedTransactions: [],
                preferredReadReplica: -1,
                records,
              },
            ],
          },
        ],
      });
      const partition = got.responses[0].partitions[0];
      expect(got.responses[0].topicName).toBe('t1');
      expect(partition.highWatermark).toBe('2');
      expect(partition.messages).toHaveLength(2);
      expect(partition.messages[0].key.toString()).toBe('k1');
      expect(partition.messages[0].value.toString()).toBe('hello');
      expect(partition.messages[0].headers.h.toString()).toBe('v');
      expect(partition.messages[1].key).toBeNull();
      expect(partition.messages[1].offset).toBe('1');
    }
  });

  it('ListOffsets v3, FindCoordinator v2, InitProducerId v1', async () => {
    const lo = await viaKafkajs('listOffsets', API_KEYS.ListOffsets, 3, {
      throttleTimeMs: 0,
      topics: [{ name: 't1', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1, offset: 77 }] }],
    });
    expect(lo.responses).toEqual([
      { topic: 't1', partitions: [{ partition: 0, errorCode: 0, timestamp: '-1', offset: '77' }] },
    ]);

    const fc = await viaKafkajs('findCoordinator', API_KEYS.FindCoordinator, 2, {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      nodeId: 1,
      host: 'localhost',
      port: 9092,
    });
    expect(fc).toMatchObject({
      errorCode: 0,
      errorMessage: null,
      coordinator: { nodeId: 1, host: 'localhost', port: 9092 },
    });

    const ip = await viaKafkajs('initProducerId', API_KEYS.InitProducerId, 1, {
      throttleTimeMs: 0,
      errorCode: 0,
      producerId: 4000,
      producerEpoch: 2,
    });
    expect(ip).toMatchObject({ errorCode: 0, producerId: '4000', producerEpoch: 2 });
  });

  it('JoinGroup v5, SyncGroup v3, Heartbeat v3, LeaveGroup v3', async () => {
    const metadata = new Uint8Array(subscription);
    const jg = await viaKafkajs('joinGroup', API_KEYS.JoinGroup, 5, {
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 3,
      protocolName: 'RoundRobinAssigner',
      leader: 'm-1',
      memberId: 'm-1',
      members: [{ memberId: 'm-1', groupInstanceId: null, metadata }],
    });
    expect(jg).toMatchObject({
      errorCode: 0,
      generationId: 3,
      groupProtocol: 'RoundRobinAssigner',
      leaderId: 'm-1',
      memberId: 'm-1',
    });
    expect(Buffer.from(jg.members[0].memberMetadata).equals(Buffer.from(metadata))).toBe(true);

    const sg = await viaKafkajs('syncGroup', API_KEYS.SyncGroup, 3, {
      throttleTimeMs: 0,
      errorCode: 0,
      assignment: new Uint8Array(assignment),
    });
    expect(MemberAssignment.decode(sg.memberAssignment)).toMatchObject({
      version: 0,
      assignment: { t1: [0, 2], t2: [1] },
    });

    expect(
      await viaKafkajs('heartbeat', API_KEYS.Heartbeat, 3, { throttleTimeMs: 0, errorCode: 27 }),
    ).toMatchObject({
      errorCode: 27,
    });

    const lg = await viaKafkajs('leaveGroup', API_KEYS.LeaveGroup, 3, {
      throttleTimeMs: 0,
      errorCode: 0,
      members: [{ memberId: 'm-1', groupInstanceId: null, errorCode: 0 }],
    });
    expect(lg.members).toEqual([{ memberId: 'm-1', groupInstanceId: null, errorCode: 0 }]);
  });

  it('OffsetCommit v5, OffsetFetch v1 and v4 (top-level error_code after the topics)', async () => {
    const oc = await viaKafkajs('offsetCommit', API_KEYS.OffsetCommit, 5, {
      throttleTimeMs: 0,
      topics: [{ name: 't1', partitions: [{ partitionIndex: 0, errorCode: 0 }] }],
    });
    expect(oc.responses).toEqual([{ topic: 't1', partitions: [{ partition: 0, errorCode: 0 }] }]);

    const topics = [
      { name: 't1', partitions: [{ partitionIndex: 0, committedOffset: 100, metadata: '', errorCode: 0 }] },
    ];
    const of4 = await viaKafkajs('offsetFetch', API_KEYS.OffsetFetch, 4, {
      throttleTimeMs: 0,
      topics,
      errorCode: 16,
    });
    expect(of4.errorCode).toBe(16);
    expect(of4.responses).toEqual([
      { topic: 't1', partitions: [{ partition: 0, offset: '100', metadata: '', errorCode: 0 }] },
    ]);
    const of1 = await viaKafkajs('offsetFetch', API_KEYS.OffsetFetch, 1, { topics });
    expect(of1.responses[0].partitions[0].offset).toBe('100');
  });

  it('DescribeGroups v2, ListGroups v2, DeleteGroups v1', async () => {
    const dg = await viaKafkajs('describeGroups', API_KEYS.DescribeGroups, 2, {
      throttleTimeMs: 0,
      groups: [
        {
          errorCode: 0,
          groupId: 'g1',
          groupState: 'Stable',
          protocolType: 'consumer',
          protocolData: 'RoundRobinAssigner',
          members: [
            {
              memberId: 'm-1',
              clientId: 'c',
              clientHost: '/127.0.0.1',
              memberMetadata: new Uint8Array(subscription),
              memberAssignment: new Uint8Array(assignment),
            },
          ],
        },
      ],
    });
    expect(dg.groups[0]).toMatchObject({
      groupId: 'g1',
      state: 'Stable',
      protocolType: 'consumer',
      protocol: 'RoundRobinAssigner',
    });
    expect(dg.groups[0].members[0]).toMatchObject({
      memberId: 'm-1',
      clientId: 'c',
      clientHost: '/127.0.0.1',
    });

    const lg = await viaKafkajs('listGroups', API_KEYS.ListGroups, 2, {
      throttleTimeMs: 0,
      errorCode: 0,
      groups: [{ groupId: 'g1', protocolType: 'consumer' }],
    });
    expect(lg.groups).toEqual([{ groupId: 'g1', protocolType: 'consumer' }]);

    const del = await viaKafkajs('deleteGroups', API_KEYS.DeleteGroups, 1, {
      throttleTimeMs: 0,
      results: [{ groupId: 'g1', errorCode: 0 }],
    });
    expect(del.results).toEqual([{ groupId: 'g1', errorCode: 0 }]);
  });

  it('CreateTopics v3, DeleteTopics v1, CreatePartitions v1, DeleteRecords v1', async () => {
    const ct = await viaKafkajs('createTopics', API_KEYS.CreateTopics, 3, {
      throttleTimeMs: 0,
      topics: [
        { name: 't1', errorCode: 0, errorMessage: null },
        { name: 't0', errorCode: 36, errorMessage: 'exists' },
      ],
    });
    expect(ct.topicErrors).toEqual([
      { topic: 't0', errorCode: 36, errorMessage: 'exists' },
      { topic: 't1', errorCode: 0, errorMessage: null },
    ]);

    const dt = await viaKafkajs('deleteTopics', API_KEYS.DeleteTopics, 1, {
      throttleTimeMs: 0,
      responses: [{ name: 't1', errorCode: 0 }],
    });
    expect(dt.topicErrors).toEqual([{ topic: 't1', errorCode: 0 }]);

    const cp = await viaKafkajs('createPartitions', API_KEYS.CreatePartitions, 1, {
      throttleTimeMs: 0,
      results: [{ name: 't1', errorCode: 37, errorMessage: 'bad' }],
    });
    expect(cp.topicErrors).toEqual([{ topic: 't1', errorCode: 37, errorMessage: 'bad' }]);

    const dr = await viaKafkajs(
      'deleteRecords',
      API_KEYS.DeleteRecords,
      1,
      {
        throttleTimeMs: 0,
        topics: [{ name: 't1', partitions: [{ partitionIndex: 0, lowWatermark: 5, errorCode: 0 }] }],
      },
      { topics: [{ topic: 't1', partitions: [{ partition: 0, offset: '5' }] }] },
    );
    expect(dr.topics[0].topic).toBe('t1');
    expect(dr.topics[0].partitions[0]).toMatchObject({ partition: 0, errorCode: 0 });
    expect(String(dr.topics[0].partitions[0].lowWatermark)).toBe('5');
  });

  it('DescribeConfigs v2, AlterConfigs v1', async () => {
    const dc = await viaKafkajs('describeConfigs', API_KEYS.DescribeConfigs, 2, {
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 't1',
          configs: [
            {
              name: 'retention.ms',
              value: '1000',
              readOnly: false,
              configSource: 1,
              isSensitive: false,
              synonyms: [{ name: 'log.retention.ms', value: '1000', source: 5 }],
            },
          ],
        },
      ],
    });
    expect(dc.resources[0]).toMatchObject({ errorCode: 0, resourceType: 2, resourceName: 't1' });
    expect(dc.resources[0].configEntries[0]).toMatchObject({
      configName: 'retention.ms',
      configValue: '1000',
      readOnly: false,
      configSource: 1,
      isSensitive: false,
      configSynonyms: [{ configName: 'log.retention.ms', configValue: '1000', configSource: 5 }],
    });

    const ac = await viaKafkajs('alterConfigs', API_KEYS.AlterConfigs, 1, {
      throttleTimeMs: 0,
      responses: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't1' }],
    });
    expect(ac.resources).toEqual([{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't1' }]);
  });

  it('SaslHandshake v1, SaslAuthenticate v1', async () => {
    const hs = await viaKafkajs('saslHandshake', API_KEYS.SaslHandshake, 1, {
      errorCode: 0,
      mechanisms: ['PLAIN', 'SCRAM-SHA-256'],
    });
    expect(hs.enabledMechanisms).toEqual(['PLAIN', 'SCRAM-SHA-256']);
    const auth = await viaKafkajs('saslAuthenticate', API_KEYS.SaslAuthenticate, 1, {
      errorCode: 0,
      errorMessage: null,
      authBytes: new Uint8Array([1, 2, 3]),
      sessionLifetimeMs: 3600000,
    });
    expect(auth).toMatchObject({ errorCode: 0, errorMessage: null, sessionLifetimeMs: '3600000' });
    expect(Buffer.from(auth.authBytes).equals(Buffer.from([0, 0, 0, 3, 1, 2, 3]))).toBe(true);
  });
});
