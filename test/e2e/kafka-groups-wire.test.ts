/**
 * The consumer-group APIs over the Kafka wire, with a raw client against the broker as a child
 * process: the version-specific layouts and flows (JoinGroup v0 vs v4+, LeaveGroup v0–2 vs v3+,
 * OffsetFetch v0–1 / v2–7 / v8, OffsetCommit v0–v9), a rebalance across connections with a parked
 * JoinGroup and a parked follower SyncGroup holding back the requests behind them on their connection
 * (as in Kafka) while other connections are served, opaque metadata shared with a WebSocket member,
 * and a parked JoinGroup answered at shutdown.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/kafka/api-keys.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import { RawWsClient } from '../helpers/ws-raw.ts';
import { RawKafkaClient, topicName, within } from '../unit/router/kafka/raw-kafka-client.ts';

const ARGS = [
  '--group-min-session-timeout-ms',
  '300',
  '--group-initial-rebalance-delay-ms',
  '0',
  '--num-partitions',
  '3',
];

let broker: RunningBroker;
let client: RawKafkaClient;

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ARGS });
  client = await RawKafkaClient.connect(broker.kafkaPort);
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

const groupName = () => `g-${randomUUID().slice(0, 8)}`;
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => Buffer.from(b).toString();

async function createTopic(partitions = 3): Promise<string> {
  const name = topicName('grp');
  const r = await client.request(API_KEYS.CreateTopics, 4, {
    topics: [{ name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [] }],
    timeoutMs: 5000,
  });
  expect(r.topics[0]!.errorCode).toBe(0);
  return name;
}

interface JoinOptions {
  version?: number;
  memberId?: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  protocols?: string[];
  metadata?: string | Uint8Array;
  groupInstanceId?: string | null;
}

function joinBody(groupId: string, o: JoinOptions) {
  return {
    groupId,
    sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
    rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 10_000,
    memberId: o.memberId ?? '',
    groupInstanceId: o.groupInstanceId ?? null,
    protocolType: 'consumer',
    protocols: (o.protocols ?? ['range']).map((name) => ({
      name,
      metadata: typeof o.metadata === 'object' ? o.metadata : bytes(o.metadata ?? name),
    })),
  };
}

/** Join as a client of that version does (v4+: MEMBER_ID_REQUIRED first, then again with the id). */
async function join(conn: RawKafkaClient, groupId: string, o: JoinOptions = {}) {
  const version = o.version ?? 5;
  let r = await conn.request(API_KEYS.JoinGroup, version, joinBody(groupId, o));
  if (r.errorCode === 79) {
    r = await conn.request(API_KEYS.JoinGroup, version, joinBody(groupId, { ...o, memberId: r.memberId }));
  }
  return r;
}

async function sync(
  conn: RawKafkaClient,
  groupId: string,
  m: { memberId: string; generationId: number },
  assignments: Record<string, string> = {},
) {
  return conn.request(API_KEYS.SyncGroup, 3, {
    groupId,
    generationId: m.generationId,
    memberId: m.memberId,
    assignments: Object.entries(assignments).map(([memberId, a]) => ({ memberId, assignment: bytes(a) })),
  });
}

function heartbeat(conn: RawKafkaClient, groupId: string, m: { memberId: string; generationId: number }) {
  return conn.request(API_KEYS.Heartbeat, 3, { groupId, generationId: m.generationId, memberId: m.memberId });
}

async function describeGroup(groupId: string) {
  return (await client.request(API_KEYS.DescribeGroups, 4, { groups: [groupId] })).groups[0]!;
}

describe('JoinGroup', () => {
  it('v0–3 admit a first join at once; v4+ hand out a member id first (MEMBER_ID_REQUIRED)', async () => {
    for (const version of [0, 1, 2, 3]) {
      const g = groupName();
      const r = await client.request(API_KEYS.JoinGroup, version, joinBody(g, {}));
      expect(r, `v${version}`).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' });
      expect(r.memberId).toMatch(/^sluice-test-/); // Kafka's `<client id>-<uuid>`
      expect(r.leader).toBe(r.memberId);
      expect(r.members.map((m) => [m.memberId, text(m.metadata)])).toEqual([[r.memberId, 'range']]);
    }
    for (const version of [4, 5, 6, 7, 8, 9]) {
      const g = groupName();
      const first = await client.request(API_KEYS.JoinGroup, version, joinBody(g, {}));
      expect(first, `v${version}`).toMatchObject({
        errorCode: 79,
        generationId: -1,
        leader: '',
        members: [],
      });
      expect(first.protocolName).toBe(version >= 7 ? null : '');
      expect(first.memberId).toMatch(/^sluice-test-/);
      // Nothing joined yet: the group has no members.
      expect((await describeGroup(g)).members).toEqual([]);
      const again = await client.request(
        API_KEYS.JoinGroup,
        version,
        joinBody(g, { memberId: first.memberId }),
      );
      expect(again).toMatchObject({
        errorCode: 0,
        generationId: 1,
        memberId: first.memberId,
        leader: first.memberId,
        protocolName: 'range',
        // v7+ carry the protocol type; v9 says the leader must still assign.
        protocolType: version >= 7 ? 'consumer' : null,
        skipAssignment: false,
      });
    }
  });

  it('refuses a session timeout outside the allowed range and a member with no protocol in common', async () => {
    const g = groupName();
    expect((await join(client, g, { sessionTimeoutMs: 100 })).errorCode).toBe(26); // INVALID_SESSION_TIMEOUT
    const a = await join(client, g, { protocols: ['range'] });
    expect(a.errorCode).toBe(0);
    const other = await RawKafkaClient.connect(broker.kafkaPort);
    expect((await join(other, g, { protocols: ['cooperative-sticky'] })).errorCode).toBe(23);
    other.close();
  });

  it('rebalances across connections: parked requests hold back their own connection only', async () => {
    const g = groupName();
    const a = await join(client, g, { version: 5, metadata: 'meta-a' });
    expect((await sync(client, g, a, { [a.memberId]: 'p0,p1,p2' })).errorCode).toBe(0);

    // B joins with v1 (no MEMBER_ID_REQUIRED): its JoinGroup parks until A rejoins, and a Metadata
    // pipelined behind it on B's connection waits for it, as in Kafka.
    const b = await RawKafkaClient.connect(broker.kafkaPort);
    const bJoin = b.send(API_KEYS.JoinGroup, 1, joinBody(g, { metadata: 'meta-b' }));
    const bMetadata = b.send(API_KEYS.Metadata, 4, { topics: null });
    // A's heartbeat, on its own connection, is answered meanwhile: rejoin.
    await expect.poll(async () => (await heartbeat(client, g, a)).errorCode).toBe(27); // REBALANCE_IN_PROGRESS
    expect(b.arrivals).toEqual([]);
    const a2 = await join(client, g, { memberId: a.memberId, metadata: 'meta-a' });
    const b2 = (await within(b.response(API_KEYS.JoinGroup, 1, bJoin), 10_000, "B's join")).body;
    await within(b.response(API_KEYS.Metadata, 4, bMetadata), 10_000, "B's metadata");
    expect(b.arrivals).toEqual([bJoin, bMetadata]);
    expect(a2).toMatchObject({ errorCode: 0, generationId: 2, leader: a.memberId });
    expect(b2).toMatchObject({ errorCode: 0, generationId: 2, leader: a.memberId, members: [] });
    // The leader gets every member's metadata, byte for byte.
    expect(a2.members.map((m) => [m.memberId, text(m.metadata)]).sort()).toEqual(
      [
        [a.memberId, 'meta-a'],
        [b2.memberId, 'meta-b'],
      ].sort(),
    );

    // B's SyncGroup parks until the leader's arrives; B's heartbeat behind it waits too.
    const bSync = b.send(API_KEYS.SyncGroup, 3, {
      groupId: g,
      generationId: 2,
      memberId: b2.memberId,
      assignments: [],
    });
    const bHeartbeat = b.send(API_KEYS.Heartbeat, 3, { groupId: g, generationId: 2, memberId: b2.memberId });
    expect((await heartbeat(client, g, a2)).errorCode).toBe(0);
    expect(b.arrivals).toEqual([bJoin, bMetadata]);
    expect((await sync(client, g, a2, { [a.memberId]: 'p0,p1', [b2.memberId]: 'p2' })).assignment).toEqual(
      bytes('p0,p1'),
    );
    const bSynced = (await within(b.response(API_KEYS.SyncGroup, 3, bSync), 10_000, "B's sync")).body;
    expect(text(bSynced.assignment)).toBe('p2');
    expect((await b.response(API_KEYS.Heartbeat, 3, bHeartbeat)).body.errorCode).toBe(0);

    // Fencing: a stale generation, an unknown member.
    expect((await heartbeat(client, g, a)).errorCode).toBe(22); // ILLEGAL_GENERATION
    expect((await heartbeat(client, g, { memberId: 'nobody', generationId: 2 })).errorCode).toBe(25);
    const described = await describeGroup(g);
    expect(described).toMatchObject({ errorCode: 0, groupState: 'Stable', protocolData: 'range' });
    expect(described.members.map((m) => text(m.memberAssignment)).sort()).toEqual(['p0,p1', 'p2']);
    expect(described.members.map((m) => [m.clientId, m.clientHost])).toEqual([
      ['sluice-test', '127.0.0.1'],
      ['sluice-test', '127.0.0.1'],
    ]);
    b.close();
  });

  it('shares a group with a WebSocket member: metadata and assignments pass through unchanged', async () => {
    const g = groupName();
    const ws = await RawWsClient.connect(broker.url);
    try {
      const wsJoin = async (memberId: string) =>
        (await ws.request('joinGroup', {
          groupId: g,
          memberId,
          sessionTimeoutMs: 10_000,
          rebalanceTimeoutMs: 10_000,
          protocolType: 'consumer',
          protocols: [{ name: 'roundrobin', metadata: new Uint8Array([0, 1, 0xff, 0]) }],
        })) as unknown as {
          memberId: string;
          generationId: number;
          members: { memberId: string; metadata: Uint8Array }[];
          error?: { code: string };
        };
      const wsSync = (m: { memberId: string; generationId: number }, assignments: object[]) =>
        ws.request('syncGroup', {
          groupId: g,
          generationId: m.generationId,
          memberId: m.memberId,
          assignments,
        });
      let w = await wsJoin('');
      if (w.error?.code === 'MEMBER_ID_REQUIRED') w = await wsJoin(w.memberId);
      expect(w.error).toBeUndefined();
      await wsSync(w, []);
      // The WebSocket member stays the leader. The Kafka member offers range first, but only
      // roundrobin is common to both.
      const kafkaMetadata = new Uint8Array([
        0, 1, 0, 0, 0, 1, 0, 3, 0x74, 0x6f, 0x70, 0xff, 0xff, 0xff, 0xff,
      ]);
      const kJoin = join(client, g, { protocols: ['range', 'roundrobin'], metadata: kafkaMetadata });
      await expect
        .poll(
          async () =>
            (
              await ws.request('heartbeat', {
                groupId: g,
                generationId: w.generationId,
                memberId: w.memberId,
              })
            ).error?.code,
        )
        .toBe('REBALANCE_IN_PROGRESS');
      const [w2, k] = await Promise.all([wsJoin(w.memberId), kJoin]);
      expect(k).toMatchObject({ errorCode: 0, protocolName: 'roundrobin', leader: w.memberId, members: [] });
      expect(Buffer.from(w2.members.find((m) => m.memberId === k.memberId)!.metadata)).toEqual(
        Buffer.from(kafkaMetadata),
      );
      const assignment = new Uint8Array([
        0, 0, 0, 0, 0, 1, 0, 3, 0x74, 0x6f, 0x70, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
      ]);
      const kSync = client.request(API_KEYS.SyncGroup, 3, {
        groupId: g,
        generationId: k.generationId,
        memberId: k.memberId,
        assignments: [],
      });
      await wsSync(w2, [{ memberId: k.memberId, assignment }]);
      expect((await kSync).assignment).toEqual(assignment);
    } finally {
      ws.close();
    }
  });
});

describe('SyncGroup', () => {
  it('v5 checks the protocol type and name against the group', async () => {
    const g = groupName();
    const a = await join(client, g);
    const v5 = (protocolType: string, protocolName: string) =>
      client.request(API_KEYS.SyncGroup, 5, {
        groupId: g,
        generationId: a.generationId,
        memberId: a.memberId,
        protocolType,
        protocolName,
        assignments: [{ memberId: a.memberId, assignment: bytes('x') }],
      });
    expect((await v5('consumer', 'roundrobin')).errorCode).toBe(23); // INCONSISTENT_GROUP_PROTOCOL
    expect(await v5('consumer', 'range')).toMatchObject({
      errorCode: 0,
      protocolType: 'consumer',
      protocolName: 'range',
      assignment: bytes('x'),
    });
  });
});

describe('LeaveGroup', () => {
  it('v0–2 name one member and answer one error code', async () => {
    for (const version of [0, 1, 2]) {
      const g = groupName();
      const a = await join(client, g);
      await sync(client, g, a, { [a.memberId]: 'all' });
      const unknown = await client.request(API_KEYS.LeaveGroup, version, { groupId: g, memberId: 'nobody' });
      expect(unknown.errorCode).toBe(25); // UNKNOWN_MEMBER_ID
      const left = await client.request(API_KEYS.LeaveGroup, version, { groupId: g, memberId: a.memberId });
      expect(left, `v${version}`).toMatchObject({ errorCode: 0, members: [] });
      expect((await describeGroup(g)).groupState).toBe('Empty');
    }
  });

  it('v3+ name several members and answer per member', async () => {
    const g = groupName();
    const other = await RawKafkaClient.connect(broker.kafkaPort);
    const a = await join(client, g);
    await sync(client, g, a, { [a.memberId]: 'all' });
    const bJoin = join(other, g);
    await expect.poll(async () => (await heartbeat(client, g, a)).errorCode).toBe(27);
    const [a2, b] = await Promise.all([join(client, g, { memberId: a.memberId }), bJoin]);
    const bSync = sync(other, g, b);
    await sync(client, g, a2, {});
    await bSync;
    const r = await client.request(API_KEYS.LeaveGroup, 3, {
      groupId: g,
      members: [
        { memberId: a.memberId, groupInstanceId: null },
        { memberId: 'nobody', groupInstanceId: null },
        { memberId: b.memberId, groupInstanceId: null },
      ],
    });
    expect(r).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      members: [
        { memberId: a.memberId, groupInstanceId: null, errorCode: 0 },
        { memberId: 'nobody', groupInstanceId: null, errorCode: 25 },
        { memberId: b.memberId, groupInstanceId: null, errorCode: 0 },
      ],
    });
    expect((await describeGroup(g)).groupState).toBe('Empty');
    other.close();
  });

  it('v3+ let a static member leave by its group instance id', async () => {
    const g = groupName();
    const a = await join(client, g, { groupInstanceId: 'instance-1' });
    expect(a.errorCode).toBe(0);
    await sync(client, g, a, {});
    const described = await describeGroup(g);
    expect(described.members[0]!.groupInstanceId).toBe('instance-1');
    const r = await client.request(API_KEYS.LeaveGroup, 5, {
      groupId: g,
      members: [{ memberId: '', groupInstanceId: 'instance-1', reason: 'shutting down' }],
    });
    expect(r.members).toEqual([{ memberId: '', groupInstanceId: 'instance-1', errorCode: 0 }]);
    expect((await describeGroup(g)).members).toEqual([]);
  });
});

describe('OffsetCommit', () => {
  it('accepts simple commits at every version and keeps metadata exactly', async () => {
    const topic = await createTopic();
    const g = groupName();
    // v0 carries neither generation nor member; v1 adds a commit timestamp, v2–4 a retention time.
    for (const version of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
      const r = await client.request(API_KEYS.OffsetCommit, version, {
        groupId: g,
        ...(version >= 2 && version <= 4 && { retentionTimeMs: 86_400_000 }),
        topics: [
          {
            name: topic,
            partitions: [
              {
                partitionIndex: 0,
                committedOffset: 100 + version,
                committedLeaderEpoch: version >= 6 ? 0 : -1,
                ...(version === 1 && { commitTimestamp: Date.now() }),
                committedMetadata: `v${version} ✓ ${'m'.repeat(version)}`,
              },
              { partitionIndex: 1, committedOffset: 7, committedMetadata: null },
            ],
          },
        ],
      });
      expect(
        r.topics[0]!.partitions.map((p) => p.errorCode),
        `v${version}`,
      ).toEqual([0, 0]);
      const fetched = await client.request(API_KEYS.OffsetFetch, 5, {
        groupId: g,
        topics: [{ name: topic, partitionIndexes: [0, 1, 2] }],
      });
      expect(fetched.topics![0]!.partitions).toEqual([
        {
          partitionIndex: 0,
          committedOffset: 100 + version,
          committedLeaderEpoch: version >= 6 ? 0 : -1,
          metadata: `v${version} ✓ ${'m'.repeat(version)}`,
          errorCode: 0,
        },
        // A null metadata is kept as "" (as Kafka does).
        { partitionIndex: 1, committedOffset: 7, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
        // Nothing committed: -1, no error.
        { partitionIndex: 2, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
      ]);
    }
  });

  it('checks member commits: generation, membership, unknown partitions; v9 says GROUP_ID_NOT_FOUND', async () => {
    const topic = await createTopic(2);
    const g = groupName();
    const a = await join(client, g);
    await sync(client, g, a, { [a.memberId]: 'all' });
    const commit = (
      version: number,
      groupId: string,
      generationId: number,
      memberId: string,
      partition = 0,
    ) =>
      client.request(API_KEYS.OffsetCommit, version, {
        groupId,
        generationIdOrMemberEpoch: generationId,
        memberId,
        topics: [
          {
            name: topic,
            partitions: [{ partitionIndex: partition, committedOffset: 5, committedMetadata: '' }],
          },
        ],
      });
    const code = async (p: ReturnType<typeof commit>) => (await p).topics[0]!.partitions[0]!.errorCode;
    expect(await code(commit(7, g, a.generationId, a.memberId))).toBe(0);
    expect(await code(commit(7, g, a.generationId + 1, a.memberId))).toBe(22); // ILLEGAL_GENERATION
    expect(await code(commit(7, g, a.generationId, 'nobody'))).toBe(25); // UNKNOWN_MEMBER_ID
    expect(await code(commit(7, g, a.generationId, a.memberId, 9))).toBe(3); // UNKNOWN_TOPIC_OR_PARTITION
    // A simple commit while the group has members is refused, as Kafka does.
    expect(await code(commit(7, g, -1, ''))).toBe(25);
    // A member commit to a group that does not exist.
    expect(await code(commit(8, groupName(), 1, 'someone'))).toBe(22);
    expect(await code(commit(9, groupName(), 1, 'someone'))).toBe(69); // GROUP_ID_NOT_FOUND
  });
});

describe('OffsetFetch', () => {
  /** The body bytes after the response header (header v0: 4 bytes; v1 adds an empty tag section). */
  async function rawBody(version: number, body: Parameters<typeof client.send<9>>[2]): Promise<Buffer> {
    const id = client.send(API_KEYS.OffsetFetch, version, body);
    const frame = Buffer.from(await client.rawResponse(API_KEYS.OffsetFetch, version, id));
    return frame.subarray(version >= 6 ? 5 : 4);
  }

  it('v2–7 place the top-level error_code after the topics array', async () => {
    const topic = await createTopic(1);
    const g = groupName();
    await client.request(API_KEYS.OffsetCommit, 2, {
      groupId: g,
      topics: [
        { name: topic, partitions: [{ partitionIndex: 0, committedOffset: 3, committedMetadata: 'x' }] },
      ],
    });
    const name = Buffer.from(topic);
    const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
    const int32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      return b;
    };
    const int64 = (n: number) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(n));
      return b;
    };
    for (const version of [2, 3, 4, 5]) {
      // [throttle v3+] topics[ name, partitions[ index, offset, (epoch v5+), metadata, error ] ] error_code
      const expected = Buffer.concat([
        version >= 3 ? int32(0) : Buffer.alloc(0),
        int32(1),
        int16(name.length),
        name,
        int32(1),
        int32(0),
        int64(3),
        version >= 5 ? int32(-1) : Buffer.alloc(0),
        int16(1),
        Buffer.from('x'),
        int16(0),
        int16(0),
      ]);
      expect(
        await rawBody(version, { groupId: g, topics: [{ name: topic, partitionIndexes: [0] }] }),
      ).toEqual(expected);
      // A group-level error (an empty group id): no topics, the error last.
      expect(await rawBody(version, { groupId: '', topics: null })).toEqual(
        Buffer.concat([version >= 3 ? int32(0) : Buffer.alloc(0), int32(0), int16(24)]),
      );
    }
    for (const version of [6, 7]) {
      // Flexible: throttle, compact array (count + 1) of nothing, error_code, empty tag section.
      expect(await rawBody(version, { groupId: '', topics: null })).toEqual(
        Buffer.concat([int32(0), Buffer.from([1]), int16(24), Buffer.from([0])]),
      );
    }
  });

  it('v0–1 report a group-level error on each requested partition; v2+ read everything with null topics', async () => {
    for (const version of [0, 1]) {
      const r = await client.request(API_KEYS.OffsetFetch, version, {
        groupId: '',
        topics: [{ name: 't', partitionIndexes: [0, 1] }],
      });
      expect(r.topics![0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.errorCode])).toEqual(
        [
          [0, -1, 24],
          [1, -1, 24],
        ],
      );
    }
    const [t1, t2] = [await createTopic(2), await createTopic(1)];
    const g = groupName();
    await client.request(API_KEYS.OffsetCommit, 2, {
      groupId: g,
      topics: [
        { name: t1, partitions: [{ partitionIndex: 1, committedOffset: 11, committedMetadata: '' }] },
        { name: t2, partitions: [{ partitionIndex: 0, committedOffset: 22, committedMetadata: '' }] },
      ],
    });
    for (const version of [2, 4, 6, 7]) {
      const r = await client.request(API_KEYS.OffsetFetch, version, {
        groupId: g,
        topics: null,
        requireStable: version >= 7,
      });
      expect(r.errorCode).toBe(0);
      expect(
        r
          .topics!.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.committedOffset]))
          .sort(),
      ).toEqual(
        [
          [t1, 1, 11],
          [t2, 0, 22],
        ].sort(),
      );
    }
  });

  it('v8 reads several groups in one request, each with its own topics and error', async () => {
    const topic = await createTopic(2);
    const [g1, g2] = [groupName(), groupName()];
    for (const [g, offset] of [
      [g1, 5],
      [g2, 9],
    ] as const) {
      await client.request(API_KEYS.OffsetCommit, 8, {
        groupId: g,
        topics: [
          { name: topic, partitions: [{ partitionIndex: 0, committedOffset: offset, committedMetadata: g }] },
        ],
      });
    }
    const r = await client.request(API_KEYS.OffsetFetch, 8, {
      groups: [
        { groupId: g1, topics: null },
        { groupId: g2, topics: [{ name: topic, partitionIndexes: [0, 1] }] },
        { groupId: '', topics: null },
      ],
      requireStable: false,
    });
    expect(r.groups).toEqual([
      {
        groupId: g1,
        errorCode: 0,
        topics: [
          {
            name: topic,
            partitions: [
              { partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, metadata: g1, errorCode: 0 },
            ],
          },
        ],
      },
      {
        groupId: g2,
        errorCode: 0,
        topics: [
          {
            name: topic,
            partitions: [
              { partitionIndex: 0, committedOffset: 9, committedLeaderEpoch: -1, metadata: g2, errorCode: 0 },
              {
                partitionIndex: 1,
                committedOffset: -1,
                committedLeaderEpoch: -1,
                metadata: '',
                errorCode: 0,
              },
            ],
          },
        ],
      },
      { groupId: '', errorCode: 24, topics: [] },
    ]);
  });
});

describe('admin views', () => {
  it('ListGroups v4 filters by state; DescribeGroups describes unknown groups as Dead; DeleteGroups', async () => {
    const topic = await createTopic(1);
    const [stable, empty] = [groupName(), groupName()];
    const a = await join(client, stable);
    await sync(client, stable, a, { [a.memberId]: 'all' });
    await client.request(API_KEYS.OffsetCommit, 2, {
      groupId: empty,
      topics: [
        { name: topic, partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: '' }] },
      ],
    });
    const listed = async (version: number, statesFilter: string[] = []) =>
      (await client.request(API_KEYS.ListGroups, version, { statesFilter })).groups.filter((x) =>
        [stable, empty].includes(x.groupId),
      );
    expect(await listed(2)).toEqual(
      expect.arrayContaining([
        { groupId: stable, protocolType: 'consumer', groupState: '', groupType: '' },
        { groupId: empty, protocolType: '', groupState: '', groupType: '' },
      ]),
    );
    expect(await listed(4, ['stable'])).toEqual([
      { groupId: stable, protocolType: 'consumer', groupState: 'Stable', groupType: '' },
    ]);
    expect(await listed(4, ['Empty'])).toEqual([
      { groupId: empty, protocolType: '', groupState: 'Empty', groupType: '' },
    ]);

    const described = await client.request(API_KEYS.DescribeGroups, 5, {
      groups: [stable, 'never-seen'],
      includeAuthorizedOperations: true,
    });
    expect(described.groups.map((x) => [x.groupId, x.errorCode, x.groupState, x.protocolData])).toEqual([
      [stable, 0, 'Stable', 'range'],
      ['never-seen', 0, 'Dead', ''],
    ]);

    const deleted = await client.request(API_KEYS.DeleteGroups, 1, {
      groupsNames: [stable, empty, 'never-seen'],
    });
    expect(deleted.results).toEqual([
      { groupId: stable, errorCode: 68 }, // NON_EMPTY_GROUP
      { groupId: empty, errorCode: 0 },
      { groupId: 'never-seen', errorCode: 69 }, // GROUP_ID_NOT_FOUND
    ]);
    const offsets = await client.request(API_KEYS.OffsetFetch, 7, { groupId: empty, topics: null });
    expect(offsets.topics).toEqual([]);
  });
});

describe('shutdown', () => {
  it('answers a parked JoinGroup with NOT_COORDINATOR at once on SIGTERM and exits cleanly', async () => {
    const own = await startBrokerProcess({ args: ARGS });
    try {
      const g = groupName();
      const a = await RawKafkaClient.connect(own.kafkaPort);
      const b = await RawKafkaClient.connect(own.kafkaPort);
      const first = await join(a, g, { rebalanceTimeoutMs: 60_000 });
      await sync(a, g, first, {});
      // B's join waits for A to rejoin, which A never does (for up to A's 60 s rebalance timeout).
      const id = b.send(API_KEYS.JoinGroup, 1, joinBody(g, { rebalanceTimeoutMs: 60_000 }));
      await expect.poll(async () => (await heartbeat(a, g, first)).errorCode).toBe(27);
      const started = Date.now();
      const exit = own.stop('SIGTERM');
      const answer = await within(b.response(API_KEYS.JoinGroup, 1, id), 5000, 'parked join at shutdown');
      expect(answer.body.errorCode).toBe(16); // NOT_COORDINATOR: the client looks for the coordinator again
      expect(await exit).toBe(0);
      expect(Date.now() - started).toBeLessThan(5000);
      a.close();
      b.close();
    } finally {
      await own.stop('SIGKILL');
      fs.rmSync(own.dataDir, { recursive: true, force: true });
    }
  });
});
