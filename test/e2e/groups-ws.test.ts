/**
 * The group coordinator through the WebSocket protocol, against the broker as a child process:
 * join/sync/heartbeat/leave, rebalances, fencing, session expiry, protocol votes, offsets (commit,
 * fetch, simple commits), admin views, and survival of offsets and groups across restarts and kill -9.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import { type RawResponse, RawWsClient } from '../helpers/ws-raw.ts';

const ARGS = [
  '--group-min-session-timeout-ms',
  '300',
  '--group-initial-rebalance-delay-ms',
  '0',
  '--num-partitions',
  '3',
];
let broker: RunningBroker;
let client: RawWsClient;

const meta = (s: string) => new TextEncoder().encode(s);
const text = (b: unknown) => Buffer.from(b as Uint8Array).toString();
const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

interface Joined {
  memberId: string;
  generationId: number;
  leader: string;
  protocolName: string;
  members: { memberId: string; metadata: Uint8Array }[];
  error?: { code: string };
}

/** Join the way a client does: first join gets MEMBER_ID_REQUIRED and an id, then join with it. */
async function join(
  c: RawWsClient,
  groupId: string,
  opts: { memberId?: string; protocols?: string[]; sessionTimeoutMs?: number; instance?: string } = {},
) {
  const body = (memberId: string) => ({
    groupId,
    memberId,
    sessionTimeoutMs: opts.sessionTimeoutMs ?? 10_000,
    rebalanceTimeoutMs: 5_000,
    protocolType: 'consumer',
    protocols: (opts.protocols ?? ['range']).map((name) => ({
      name,
      metadata: meta(`${name}:${memberId.slice(0, 4)}`),
    })),
    ...(opts.instance && { groupInstanceId: opts.instance }),
  });
  let r = (await c.request('joinGroup', body(opts.memberId ?? ''))) as unknown as Joined;
  if (r.error?.code === 'MEMBER_ID_REQUIRED')
    r = (await c.request('joinGroup', body(r.memberId))) as unknown as Joined;
  return r;
}

async function sync(c: RawWsClient, groupId: string, j: Joined, assignments: Record<string, string> = {}) {
  return c.request('syncGroup', {
    groupId,
    generationId: j.generationId,
    memberId: j.memberId,
    assignments: Object.entries(assignments).map(([memberId, a]) => ({ memberId, assignment: meta(a) })),
  });
}

async function createTopic(name: string, numPartitions = 3) {
  await client.request('createTopics', { topics: [{ name, numPartitions }] });
}

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ARGS });
  client = await RawWsClient.connect(broker.url);
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

describe('membership', () => {
  it('hands out a member id, completes a generation, and gives each member its assignment', async () => {
    const g = id('g');
    const first = await client.request('joinGroup', {
      groupId: g,
      memberId: '',
      sessionTimeoutMs: 10_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: meta('m') }],
    });
    expect(first).toMatchObject({
      error: { code: 'MEMBER_ID_REQUIRED' },
      memberId: expect.stringMatching(/-/),
    });
    const a = await join(client, g, { memberId: first.memberId as string });
    expect(a).toMatchObject({ generationId: 1, leader: a.memberId, protocolName: 'range' });
    expect(a.members).toHaveLength(1);
    expect(text((await sync(client, g, a, { [a.memberId]: 'p0,p1,p2' })).assignment)).toBe('p0,p1,p2');
    expect(
      (await client.request('heartbeat', { groupId: g, generationId: 1, memberId: a.memberId })).error,
    ).toBeUndefined();

    // A second member starts a rebalance; the first learns it from its heartbeat and rejoins.
    const other = await RawWsClient.connect(broker.url);
    const bJoin = join(other, g);
    await expect
      .poll(
        async () =>
          (await client.request('heartbeat', { groupId: g, generationId: 1, memberId: a.memberId })).error
            ?.code,
      )
      .toBe('REBALANCE_IN_PROGRESS');
    const [a2, b] = await Promise.all([join(client, g, { memberId: a.memberId }), bJoin]);
    expect(a2.generationId).toBe(2);
    expect(b.generationId).toBe(2);
    expect(a2.leader).toBe(a.memberId);
    expect(a2.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort());
    expect(b.members).toEqual([]);
    // The follower's SyncGroup waits for the leader's.
    const followerSync = sync(other, g, b);
    await new Promise((r) => setTimeout(r, 100));
    await sync(client, g, a2, { [a.memberId]: 'p0,p1', [b.memberId]: 'p2' });
    expect(text((await followerSync).assignment)).toBe('p2');

    // Fencing: stale generations and unknown members.
    expect(
      (await client.request('heartbeat', { groupId: g, generationId: 1, memberId: a.memberId })).error?.code,
    ).toBe('ILLEGAL_GENERATION');
    expect(
      (await client.request('heartbeat', { groupId: g, generationId: 2, memberId: 'nobody' })).error?.code,
    ).toBe('UNKNOWN_MEMBER_ID');
    const described = await client.request('describeGroups', { groupIds: [g] });
    expect((described.groups as { state: string; members: unknown[] }[])[0]).toMatchObject({
      state: 'Stable',
      protocolName: 'range',
    });
    expect(
      (described.groups as { members: { assignment: Uint8Array }[] }[])[0]!.members
        .map((m) => text(m.assignment))
        .sort(),
    ).toEqual(['p0,p1', 'p2']);

    // Leaving triggers a rebalance to one member.
    expect(
      (await other.request('leaveGroup', { groupId: g, members: [{ memberId: b.memberId }] })).members,
    ).toEqual([{ memberId: b.memberId, groupInstanceId: null }]);
    const a3 = await join(client, g, { memberId: a.memberId });
    expect(a3.generationId).toBe(3);
    expect(a3.members).toHaveLength(1);
    other.close();
  });

  it('expels a member that stops heartbeating after its session timeout', async () => {
    const g = id('g');
    const a = await join(client, g, { sessionTimeoutMs: 400 });
    await sync(client, g, a, { [a.memberId]: 'all' });
    const started = Date.now();
    await expect
      .poll(
        async () =>
          ((await client.request('describeGroups', { groupIds: [g] })).groups as { state: string }[])[0]!
            .state,
        {
          timeout: 5000,
        },
      )
      .toBe('Empty');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(
      (await client.request('heartbeat', { groupId: g, generationId: a.generationId, memberId: a.memberId }))
        .error?.code,
    ).toBe('UNKNOWN_MEMBER_ID');
  });

  it('chooses the protocol by vote and refuses members with nothing in common', async () => {
    const g = id('g');
    const c2 = await RawWsClient.connect(broker.url);
    const c3 = await RawWsClient.connect(broker.url);
    const a = await join(client, g, { protocols: ['roundrobin', 'range'] });
    expect(a.protocolName).toBe('roundrobin');
    await sync(client, g, a);
    // B prefers range: one vote each, the leader's preference breaks the tie.
    const [a2, b] = await Promise.all([
      (async () => {
        await expect
          .poll(
            async () =>
              (
                await client.request('heartbeat', {
                  groupId: g,
                  generationId: a.generationId,
                  memberId: a.memberId,
                })
              ).error?.code,
          )
          .toBe('REBALANCE_IN_PROGRESS');
        return join(client, g, { memberId: a.memberId, protocols: ['roundrobin', 'range'] });
      })(),
      join(c2, g, { protocols: ['range', 'roundrobin'] }),
    ]);
    expect([a2.protocolName, b.protocolName]).toEqual(['roundrobin', 'roundrobin']);
    await Promise.all([sync(client, g, a2), sync(c2, g, b)]);
    // C supports only range: range is the only protocol everyone supports now.
    const rejoin = (c: RawWsClient, j: Joined, protocols: string[]) =>
      (async () => {
        await expect
          .poll(
            async () =>
              (
                await c.request('heartbeat', {
                  groupId: g,
                  generationId: j.generationId,
                  memberId: j.memberId,
                })
              ).error?.code,
          )
          .toBe('REBALANCE_IN_PROGRESS');
        return join(c, g, { memberId: j.memberId, protocols });
      })();
    const gen3 = await Promise.all([
      rejoin(client, a2, ['roundrobin', 'range']),
      rejoin(c2, b, ['range', 'roundrobin']),
      join(c3, g, { protocols: ['range'] }),
    ]);
    expect(gen3.map((j) => j.protocolName)).toEqual(['range', 'range', 'range']);
    expect(new Set(gen3.map((j) => j.generationId))).toEqual(new Set([a2.generationId + 1]));
    const stranger = await join(await RawWsClient.connect(broker.url), g, { protocols: ['sticky'] });
    expect(stranger.error?.code).toBe('INCONSISTENT_GROUP_PROTOCOL');
    c2.close();
    c3.close();
  });

  it('lets a static member come back under a new member id without a rebalance', async () => {
    const g = id('g');
    const a = await join(client, g, { instance: 'host-1' });
    await sync(client, g, a, { [a.memberId]: 'everything' });
    const again = await join(await RawWsClient.connect(broker.url), g, { instance: 'host-1' });
    expect(again.memberId).not.toBe(a.memberId);
    expect(again.generationId).toBe(a.generationId);
    expect(
      (
        await client.request('heartbeat', {
          groupId: g,
          generationId: a.generationId,
          memberId: a.memberId,
          groupInstanceId: 'host-1',
        })
      ).error?.code,
    ).toBe('FENCED_INSTANCE_ID');
  });
});

describe('offsets', () => {
  it('commits and fetches offsets with their metadata, and refuses stale generations', async () => {
    const t = id('t');
    const g = id('g');
    await createTopic(t);
    const a = await join(client, g);
    await sync(client, g, a, { [a.memberId]: 'x' });
    const committed = await client.request('offsetCommit', {
      groupId: g,
      generationId: a.generationId,
      memberId: a.memberId,
      topics: [
        {
          topic: t,
          partitions: [
            { partition: 0, offset: 42, metadata: 'ünïcode ✓ {"k":1}' },
            { partition: 7, offset: 1 },
          ],
        },
      ],
    });
    expect((committed.topics as { partitions: unknown[] }[])[0]!.partitions).toEqual([
      { partition: 0 },
      { partition: 7, error: expect.objectContaining({ code: 'UNKNOWN_TOPIC_OR_PARTITION' }) },
    ]);
    const stale = await client.request('offsetCommit', {
      groupId: g,
      generationId: a.generationId + 5,
      memberId: a.memberId,
      topics: [{ topic: t, partitions: [{ partition: 0, offset: 99 }] }],
    });
    expect(
      (stale.topics as { partitions: { error: { code: string } }[] }[])[0]!.partitions[0]!.error.code,
    ).toBe('ILLEGAL_GENERATION');
    const simpleWhileActive = await client.request('offsetCommit', {
      groupId: g,
      generationId: -1,
      memberId: '',
      topics: [{ topic: t, partitions: [{ partition: 0, offset: 5 }] }],
    });
    expect(
      (simpleWhileActive.topics as { partitions: { error: { code: string } }[] }[])[0]!.partitions[0]!.error
        .code,
    ).toBe('UNKNOWN_MEMBER_ID');
    const fetched = await client.request('offsetFetch', {
      groupId: g,
      topics: [{ topic: t, partitions: [0, 1] }],
    });
    expect((fetched.topics as { partitions: unknown[] }[])[0]!.partitions).toEqual([
      { partition: 0, offset: 42, leaderEpoch: -1, metadata: 'ünïcode ✓ {"k":1}' },
      { partition: 1, offset: -1, leaderEpoch: -1, metadata: '' },
    ]);
    // Leave; the group is empty: a simple commit (an offset reset) is now allowed.
    await client.request('leaveGroup', { groupId: g, members: [{ memberId: a.memberId }] });
    const simple = await client.request('offsetCommit', {
      groupId: g,
      generationId: -1,
      memberId: '',
      topics: [{ topic: t, partitions: [{ partition: 1, offset: 7 }] }],
    });
    expect((simple.topics as { partitions: unknown[] }[])[0]!.partitions).toEqual([{ partition: 1 }]);
    const all = await client.request('offsetFetch', { groupId: g });
    expect(all.topics).toEqual([
      {
        topic: t,
        partitions: [
          { partition: 0, offset: 42, leaderEpoch: -1, metadata: 'ünïcode ✓ {"k":1}' },
          { partition: 1, offset: 7, leaderEpoch: -1, metadata: '' },
        ],
      },
    ]);
  });

  it('lists, describes and deletes groups; a deleted topic loses its offsets', async () => {
    const t = id('t');
    const g = id('g');
    await createTopic(t, 1);
    await client.request('offsetCommit', {
      groupId: g,
      generationId: -1,
      memberId: '',
      topics: [{ topic: t, partitions: [{ partition: 0, offset: 3 }] }],
    });
    const listed = (await client.request('listGroups', {})).groups as { groupId: string; state: string }[];
    expect(listed.find((x) => x.groupId === g)).toMatchObject({ state: 'Empty' });
    const unknown = await client.request('describeGroups', { groupIds: ['no-such-group'] });
    expect((unknown.groups as { state: string }[])[0]!.state).toBe('Dead');
    await client.request('deleteTopics', { topics: [t] });
    await expect.poll(async () => (await client.request('offsetFetch', { groupId: g })).topics).toEqual([]);
    const busy = id('g');
    const m = await join(client, busy);
    const deleted = await client.request('deleteGroups', { groupIds: [g, busy, 'never-existed'] });
    expect(deleted.groups).toEqual([
      { groupId: g },
      { groupId: busy, error: expect.objectContaining({ code: 'NON_EMPTY_GROUP' }) },
      { groupId: 'never-existed', error: expect.objectContaining({ code: 'GROUP_ID_NOT_FOUND' }) },
    ]);
    await client.request('leaveGroup', { groupId: busy, members: [{ memberId: m.memberId }] });
  });

  it('keeps committed offsets and group membership across a restart and a kill -9', async () => {
    const t = id('t');
    const g = id('g');
    await createTopic(t, 2);
    const a = await join(client, g, { sessionTimeoutMs: 20_000 });
    await sync(client, g, a, { [a.memberId]: 'both' });
    const commit = (offset: number) =>
      client.request('offsetCommit', {
        groupId: g,
        generationId: a.generationId,
        memberId: a.memberId,
        topics: [
          {
            topic: t,
            partitions: [
              { partition: 0, offset, metadata: `m${offset}` },
              { partition: 1, offset: offset * 2 },
            ],
          },
        ],
      });
    for (let i = 1; i <= 50; i++) await commit(i);
    client.close();
    broker = await broker.restart();
    client = await RawWsClient.connect(broker.url);
    const afterRestart = (await client.request('offsetFetch', { groupId: g })) as RawResponse;
    expect((afterRestart.topics as { partitions: unknown[] }[])[0]!.partitions).toEqual([
      { partition: 0, offset: 50, leaderEpoch: -1, metadata: 'm50' },
      { partition: 1, offset: 100, leaderEpoch: -1, metadata: '' },
    ]);
    // The member is still in its generation: it heartbeats and commits on.
    expect(
      (await client.request('heartbeat', { groupId: g, generationId: a.generationId, memberId: a.memberId }))
        .error,
    ).toBeUndefined();
    const described = await client.request('describeGroups', { groupIds: [g] });
    expect((described.groups as { state: string; members: unknown[] }[])[0]).toMatchObject({
      state: 'Stable',
      members: [expect.anything()],
    });
    for (let i = 51; i <= 60; i++) await commit(i);
    await broker.stop('SIGKILL');
    broker = await startBrokerProcess({ dataDir: broker.dataDir, args: ARGS });
    client = await RawWsClient.connect(broker.url);
    const afterKill = await client.request('offsetFetch', {
      groupId: g,
      topics: [{ topic: t, partitions: [0, 1] }],
    });
    expect((afterKill.topics as { partitions: unknown[] }[])[0]!.partitions).toEqual([
      { partition: 0, offset: 60, leaderEpoch: -1, metadata: 'm60' },
      { partition: 1, offset: 120, leaderEpoch: -1, metadata: '' },
    ]);
  });
});
