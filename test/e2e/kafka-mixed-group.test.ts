/**
 * One consumer group, two protocols: a kcat `-G` member (librdkafka 2.0.2, over the Kafka front door)
 * and a Sluice client Consumer (over WebSocket) share a group and a protocol name. The broker never
 * parses the ConsumerProtocol bytes: whichever member leads runs its own assignor over the other's
 * subscription and writes the other's assignment, so both directions are run — kcat leading with
 * `range`, the Sluice consumer leading with `roundrobin`. Either way the assignments are disjoint and
 * cover the topic, every record is read exactly once, by the member that owns its partition, and the
 * offsets both commit are the group's.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Admin, Consumer, Producer, type TopicPartition } from '../../src/client/index.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import { describeWithKcat, type KcatProcess, kcatAssignment, spawnKcat } from '../unit/router/kafka/kcat.ts';

const ARGS = ['--group-min-session-timeout-ms', '1000', '--group-initial-rebalance-delay-ms', '0'];
const PARTITIONS = 4;

let broker: RunningBroker;
let admin: Admin;
let producer: Producer;
const kcats = new Set<KcatProcess>();
const consumers = new Set<Consumer>();

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ARGS });
  admin = new Admin({ bootstrap: broker.url });
  producer = new Producer({ bootstrap: broker.url, lingerMs: 0 });
});

afterEach(async () => {
  await Promise.allSettled([...kcats].map((k) => k.stop('SIGKILL')));
  await Promise.allSettled([...consumers].map((c) => c.close()));
  kcats.clear();
  consumers.clear();
});

afterAll(async () => {
  await Promise.allSettled([admin?.close(), producer?.close()]);
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

const name = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Re-checks a condition whenever something happens (a record, a rebalance), with a deadline. */
class Changes {
  private readonly waiters = new Set<() => void>();

  notify = (): void => {
    for (const w of [...this.waiters]) w();
  };

  until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }
}

/** The kcat member: `partition|offset|key` per record, unbuffered; its output notifies `changes`. */
function kcatMember(changes: Changes, groupId: string, topic: string, strategy: string): KcatProcess {
  const k = spawnKcat([
    '-b',
    `127.0.0.1:${broker.kafkaPort}`,
    '-G',
    groupId,
    topic,
    '-X',
    'session.timeout.ms=6000',
    '-X',
    'heartbeat.interval.ms=300',
    '-X',
    'auto.offset.reset=earliest',
    '-X',
    'auto.commit.interval.ms=200',
    '-X',
    `partition.assignment.strategy=${strategy}`,
    '-f',
    '%p|%o|%k\n',
    '-u',
  ]);
  kcats.add(k);
  k.onOutput(changes.notify);
  return k;
}

function kcatRecords(k: KcatProcess): { partition: number; key: string }[] {
  const out = k.stdout().toString();
  // Only whole lines: kcat's output may be caught in the middle of one.
  return out
    .slice(0, out.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [partition, , key] = line.split('|');
      return { partition: Number(partition), key: key! };
    });
}

/** The Sluice client member; its records (partition and key) go to `seen`. */
function sluiceMember(
  changes: Changes,
  groupId: string,
  topic: string,
  assignor: 'range' | 'roundrobin',
  seen: { partition: number; key: string }[],
): Consumer {
  const consumer = new Consumer({
    bootstrap: broker.url,
    groupId,
    assignors: [assignor],
    sessionTimeoutMs: 8_000,
    rebalanceTimeoutMs: 8_000,
    heartbeatIntervalMs: 250,
    autoOffsetReset: 'earliest',
    maxWaitMs: 200,
  });
  consumers.add(consumer);
  consumer.subscribe([topic], {
    onPartitionsAssigned: changes.notify,
    onPartitionsRevoked: changes.notify,
    onPartitionsLost: changes.notify,
  });
  void (async () => {
    for await (const r of consumer) {
      seen.push({ partition: r.partition, key: r.keyString()! });
      changes.notify();
    }
  })();
  return consumer;
}

const partitionsOf = (tps: TopicPartition[], topic: string) =>
  tps
    .filter((tp) => tp.topic === topic)
    .map((tp) => tp.partition)
    .sort((a, b) => a - b);

/** Both hold partitions, none twice, all of them. */
function split(kcatPartitions: number[] | undefined, sluicePartitions: number[]): boolean {
  const all = [...(kcatPartitions ?? []), ...sluicePartitions];
  return (
    (kcatPartitions ?? []).length > 0 &&
    sluicePartitions.length > 0 &&
    all.length === PARTITIONS &&
    new Set(all).size === PARTITIONS
  );
}

async function produce(topic: string, perPartition: number, tag: string): Promise<string[]> {
  const records = Array.from({ length: PARTITIONS }, (_, partition) =>
    Array.from({ length: perPartition }, (_, i) => ({
      topic,
      partition,
      key: `${tag}-p${partition}-${i}`,
      value: `v${i}`,
    })),
  ).flat();
  await producer.sendBatch(records);
  return records.map((r) => r.key);
}

async function runMixedGroup(leader: 'kcat' | 'sluice', protocol: 'range' | 'roundrobin') {
  const topic = name('mixed');
  const groupId = name('g-mixed');
  await admin.createTopics([{ name: topic, numPartitions: PARTITIONS }]);
  const changes = new Changes();
  const bySluice: { partition: number; key: string }[] = [];
  // The first member to join leads the group for as long as it stays.
  let k: KcatProcess;
  let c: Consumer;
  if (leader === 'kcat') {
    k = kcatMember(changes, groupId, topic, protocol === 'range' ? 'range,roundrobin' : protocol);
    await changes.until(() => kcatAssignment(k.stderr(), topic)?.length === PARTITIONS, 'kcat alone');
    c = sluiceMember(changes, groupId, topic, protocol, bySluice);
  } else {
    c = sluiceMember(changes, groupId, topic, protocol, bySluice);
    await changes.until(() => partitionsOf(c.assignment(), topic).length === PARTITIONS, 'Sluice alone');
    k = kcatMember(changes, groupId, topic, protocol);
  }
  await changes.until(
    () => split(kcatAssignment(k.stderr(), topic), partitionsOf(c.assignment(), topic)),
    'kcat and the Sluice consumer splitting the partitions',
  );
  const [group] = await admin.describeGroups([groupId]);
  expect(group).toMatchObject({ state: 'Stable', protocolType: 'consumer', protocolName: protocol });
  expect(group!.members).toHaveLength(2);
  const kcatIsLeader = group!.members.find((m) => m.memberId === group!.leader)?.clientId === 'rdkafka';
  expect(kcatIsLeader).toBe(leader === 'kcat');
  const ofKcat = kcatAssignment(k.stderr(), topic)!;
  const ofSluice = partitionsOf(c.assignment(), topic);
  expect([ofKcat.length, ofSluice.length]).toEqual([2, 2]);
  // The Sluice admin reads librdkafka's ConsumerProtocol bytes and its own the same way.
  for (const m of group!.members) {
    expect(m.subscription).toEqual([topic]);
    expect(partitionsOf(m.assignment, topic)).toEqual(m.clientId === 'rdkafka' ? ofKcat : ofSluice);
  }

  const keys = await produce(topic, 25, 'r');
  await changes.until(() => kcatRecords(k).length + bySluice.length >= keys.length, 'every record');
  const byKcat = kcatRecords(k);
  expect([...byKcat, ...bySluice].map((r) => r.key).sort()).toEqual([...keys].sort());
  for (const r of byKcat) expect(ofKcat).toContain(r.partition);
  for (const r of bySluice) expect(ofSluice).toContain(r.partition);

  // Both leave, committing what they read: the group's offsets are at the end of every partition.
  expect(await k.stop('SIGTERM')).toBe(0);
  kcats.delete(k);
  await c.close();
  consumers.delete(c);
  expect((await admin.fetchOffsets(groupId, [topic])).map((o) => [o.partition, o.offset])).toEqual(
    Array.from({ length: PARTITIONS }, (_, p) => [p, 25]),
  );
}

describeWithKcat('a consumer group of kcat and a Sluice consumer', () => {
  it('kcat leads with range: librdkafka assigns the Sluice consumer its partitions', async () => {
    await runMixedGroup('kcat', 'range');
  });

  it('the Sluice consumer leads with roundrobin: it assigns kcat its partitions', async () => {
    await runMixedGroup('sluice', 'roundrobin');
  });
});
