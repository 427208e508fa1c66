/**
 * kcat `-G` (librdkafka 2.0.2's balanced consumer) against the broker as a child process: two members
 * split a topic's partitions and read every record once; the offsets they commit are read back through
 * the WebSocket protocol's offsetFetch and through kafkajs's admin; a member killed outright is expelled
 * after its session timeout and the other takes its partitions over; cooperative-sticky members
 * (librdkafka's incremental rebalancing, over the classic protocol) split the partitions too.
 *
 * librdkafka talks to the group coordinator on a connection of its own (JoinGroup, SyncGroup,
 * Heartbeat, OffsetCommit, LeaveGroup) and fetches on another, so its heartbeats keep going while it
 * fetches. Waits follow kcat's own output (its rebalance lines and consumed records), with generous
 * bounds: the machine is shared.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/kafka/api-keys.ts';
import { makeBatch } from '../helpers/batches.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import { RawWsClient } from '../helpers/ws-raw.ts';
import {
  describeWithKcat,
  KCAT,
  type KcatProcess,
  kcatAssignment,
  kcatMemberId,
  spawnKcat,
} from '../unit/router/kafka/kcat.ts';
import { RawKafkaClient, topicName } from '../unit/router/kafka/raw-kafka-client.ts';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as {
  Kafka: new (
    config: object,
  ) => {
    admin(): {
      connect(): Promise<void>;
      disconnect(): Promise<void>;
      fetchOffsets(options: {
        groupId: string;
        topics: string[];
      }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
    };
  };
  logLevel: { NOTHING: number };
};

const SESSION_TIMEOUT_MS = 3000;
const ARGS = ['--group-min-session-timeout-ms', '1000', '--group-initial-rebalance-delay-ms', '0'];

let broker: RunningBroker;
let kafka: RawKafkaClient;
let ws: RawWsClient;
let bootstrap: string;
const members = new Set<KcatProcess>();

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ARGS });
  bootstrap = `127.0.0.1:${broker.kafkaPort}`;
  kafka = await RawKafkaClient.connect(broker.kafkaPort);
  ws = await RawWsClient.connect(broker.url);
});

afterEach(async () => {
  await Promise.all([...members].map((m) => m.stop('SIGKILL')));
  members.clear();
});

afterAll(async () => {
  kafka?.close();
  ws?.close();
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

const groupName = () => `kcat-${Math.random().toString(36).slice(2, 10)}`;

async function createTopic(partitions: number): Promise<string> {
  const name = topicName('kcatg');
  const r = await kafka.request(API_KEYS.CreateTopics, 4, {
    topics: [{ name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [] }],
    timeoutMs: 5000,
  });
  expect(r.topics[0]!.errorCode).toBe(0);
  return name;
}

/** `count` records into every partition, keys `<tag>-p<p>-k<i>`. */
async function produce(topic: string, partitions: number, count: number, tag: string): Promise<string[]> {
  const r = await kafka.request(API_KEYS.Produce, 7, {
    acks: -1,
    timeoutMs: 5000,
    topicData: [
      {
        name: topic,
        partitionData: Array.from({ length: partitions }, (_, p) => ({
          index: p,
          records: makeBatch({ count, valueSize: 20, tag: `${tag}-p${p}` }),
        })),
      },
    ],
  });
  expect(r.responses[0]!.partitionResponses.every((p) => p.errorCode === 0)).toBe(true);
  return Array.from({ length: partitions }, (_, p) =>
    Array.from({ length: count }, (_, i) => `${tag}-p${p}-k${i}`),
  ).flat();
}

/** A kcat balanced-consumer member, printing `partition|offset|key` per record. */
function member(groupId: string, topic: string, ...extra: string[]): KcatProcess {
  const m = spawnKcat([
    '-b',
    bootstrap,
    '-G',
    groupId,
    topic,
    '-X',
    `session.timeout.ms=${SESSION_TIMEOUT_MS}`,
    '-X',
    'heartbeat.interval.ms=300',
    '-X',
    'auto.offset.reset=earliest',
    '-X',
    'auto.commit.interval.ms=200',
    '-f',
    '%p|%o|%k\n',
    '-u', // unbuffered: records show up as they are consumed, not when a pipe buffer fills
    ...extra,
  ]);
  members.add(m);
  return m;
}

async function stopMember(m: KcatProcess, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') {
  const code = await m.stop(signal);
  members.delete(m);
  return code;
}

interface Consumed {
  partition: number;
  offset: number;
  key: string;
}

function consumed(m: KcatProcess): Consumed[] {
  const out = m.stdout().toString();
  // Only whole lines: kcat's output may be caught in the middle of one.
  return out
    .slice(0, out.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [partition, offset, key] = line.split('|');
      return { partition: Number(partition), offset: Number(offset), key: key! };
    });
}

/** The members' current assignments are disjoint, non-empty, and cover `partitions`. */
function split(ms: KcatProcess[], topic: string, partitions: number): boolean {
  const assigned = ms.map((m) => kcatAssignment(m.stderr(), topic) ?? []);
  const all = assigned.flat();
  return assigned.every((a) => a.length > 0) && all.length === partitions && new Set(all).size === partitions;
}

/** Resolves when `predicate` holds, checking on every output of any of `ms`. */
function whenAll(ms: KcatProcess[], predicate: () => boolean, timeoutMs: number, what: string) {
  return Promise.race(ms.map((m) => m.waitFor(predicate, timeoutMs, what)));
}

async function wsCommitted(groupId: string, topic: string): Promise<[number, number][]> {
  const r = await ws.request('offsetFetch', { groupId, topics: null });
  expect(r.error).toBeUndefined();
  const topics = r.topics as { topic: string; partitions: { partition: number; offset: number }[] }[];
  return (topics.find((t) => t.topic === topic)?.partitions ?? [])
    .map((p): [number, number] => [p.partition, p.offset])
    .sort((a, b) => a[0] - b[0]);
}

describeWithKcat('kcat -G (balanced consumer group)', () => {
  it('is installed', () => {
    expect(KCAT).toBeDefined();
  });

  it('two members split the partitions and read every record once; their commits are read back over WebSocket and by kafkajs', async () => {
    const partitions = 4;
    const topic = await createTopic(partitions);
    const groupId = groupName();
    const a = member(groupId, topic);
    await a.waitFor(() => kcatAssignment(a.stderr(), topic)?.length === partitions, 30_000, 'A alone');
    const b = member(groupId, topic);
    await whenAll([a, b], () => split([a, b], topic, partitions), 30_000, 'A and B split');
    const [assignedA, assignedB] = [a, b].map((m) => kcatAssignment(m.stderr(), topic)!);
    expect([assignedA!.length, assignedB!.length]).toEqual([2, 2]);
    // librdkafka offers range first and roundrobin second; both members vote range.
    const described = await ws.request('describeGroups', { groupIds: [groupId] });
    expect((described.groups as { state: string; protocolName: string }[])[0]).toMatchObject({
      state: 'Stable',
      protocolName: 'range',
    });

    const keys = await produce(topic, partitions, 25, 'r1');
    await whenAll(
      [a, b],
      () => consumed(a).length + consumed(b).length >= keys.length,
      30_000,
      'every record',
    );
    const [byA, byB] = [consumed(a), consumed(b)];
    expect([...byA, ...byB].map((r) => r.key).sort()).toEqual([...keys].sort());
    for (const r of byA) expect(assignedA).toContain(r.partition);
    for (const r of byB) expect(assignedB).toContain(r.partition);

    // SIGTERM: each member commits what it consumed and leaves the group.
    expect(await stopMember(a)).toBe(0);
    expect(await stopMember(b)).toBe(0);
    const everyPartitionAt25 = Array.from({ length: partitions }, (_, p): [number, number] => [p, 25]);
    expect(await wsCommitted(groupId, topic)).toEqual(everyPartitionAt25);
    const admin = new Kafka({
      brokers: [bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3, initialRetryTime: 100 },
    }).admin();
    await admin.connect();
    try {
      const [fetched] = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(fetched!.partitions.map((p) => [p.partition, Number(p.offset)]).sort()).toEqual(
        everyPartitionAt25,
      );
    } finally {
      await admin.disconnect();
    }
    const after = await ws.request('describeGroups', { groupIds: [groupId] });
    expect((after.groups as { state: string }[])[0]!.state).toBe('Empty');

    // A new member resumes from the commits: it reads only what comes next.
    const c = member(groupId, topic);
    await c.waitFor(() => kcatAssignment(c.stderr(), topic)?.length === partitions, 30_000, 'C alone');
    const next = await produce(topic, partitions, 5, 'r2');
    await c.waitFor(() => consumed(c).length >= next.length, 30_000, 'the next records');
    expect(
      consumed(c)
        .map((r) => r.key)
        .sort(),
    ).toEqual([...next].sort());
    expect(consumed(c).every((r) => r.offset >= 25)).toBe(true);
  });

  it('a member killed outright is expelled after its session timeout; the other takes its partitions over', async () => {
    const partitions = 4;
    const topic = await createTopic(partitions);
    const groupId = groupName();
    const a = member(groupId, topic, '-X', 'partition.assignment.strategy=roundrobin');
    await a.waitFor(() => kcatAssignment(a.stderr(), topic)?.length === partitions, 30_000, 'A alone');
    const b = member(groupId, topic, '-X', 'partition.assignment.strategy=roundrobin');
    await whenAll([a, b], () => split([a, b], topic, partitions), 30_000, 'A and B split');
    const ofB = kcatAssignment(b.stderr(), topic)!;
    const bId = kcatMemberId(b.stderr());
    const before = await ws.request('describeGroups', { groupIds: [groupId] });
    const group = (before.groups as { protocolName: string; members: { memberId: string }[] }[])[0]!;
    expect(group.protocolName).toBe('roundrobin');
    expect(group.members.map((m) => m.memberId)).toContain(bId);

    // No LeaveGroup, no commit: B just disappears.
    const killedAt = Date.now();
    await stopMember(b, 'SIGKILL');
    await a.waitFor(
      () => kcatAssignment(a.stderr(), topic)?.length === partitions,
      SESSION_TIMEOUT_MS + 30_000,
      'A takes over',
    );
    // Expelled by its session timeout (heartbeat timers are not exact: allow some slack).
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - 500);
    const after = await ws.request('describeGroups', { groupIds: [groupId] });
    expect(
      (after.groups as { members: { memberId: string }[] }[])[0]!.members.map((m) => m.memberId),
    ).not.toContain(bId);

    // A now reads B's partitions too.
    const keys = await produce(topic, partitions, 10, 'late');
    await a.waitFor(() => consumed(a).length >= keys.length, 30_000, 'every record by A');
    expect(
      consumed(a)
        .map((r) => r.key)
        .sort(),
    ).toEqual([...keys].sort());
    for (const p of ofB) expect(consumed(a).some((r) => r.partition === p)).toBe(true);
  });

  it('cooperative-sticky members split the partitions by incremental rebalances and read every record once', async () => {
    const partitions = 4;
    const topic = await createTopic(partitions);
    const groupId = groupName();
    const strategy = ['-X', 'partition.assignment.strategy=cooperative-sticky'];
    const a = member(groupId, topic, ...strategy);
    await a.waitFor(() => kcatAssignment(a.stderr(), topic)?.length === partitions, 30_000, 'A alone');
    const b = member(groupId, topic, ...strategy);
    await whenAll([a, b], () => split([a, b], topic, partitions), 30_000, 'A and B split');
    expect(a.stderr()).toMatch(/incremental revoke/); // A gave up partitions without losing the others
    const described = await ws.request('describeGroups', { groupIds: [groupId] });
    expect((described.groups as { protocolName: string }[])[0]!.protocolName).toBe('cooperative-sticky');
    const [assignedA, assignedB] = [a, b].map((m) => kcatAssignment(m.stderr(), topic)!);
    const keys = await produce(topic, partitions, 10, 'coop');
    await whenAll(
      [a, b],
      () => consumed(a).length + consumed(b).length >= keys.length,
      30_000,
      'every record',
    );
    expect([...consumed(a), ...consumed(b)].map((r) => r.key).sort()).toEqual([...keys].sort());
    for (const r of consumed(a)) expect(assignedA).toContain(r.partition);
    for (const r of consumed(b)) expect(assignedB).toContain(r.partition);
  });
});
