/**
 * kafkajs 2.2.4 consumers and group admin against the broker as a child process: `consumer.run` with
 * eachMessage and eachBatch, seeking to an offset and to a time, a three-member group with kafkajs's
 * default RoundRobinAssigner (disjoint assignments, every record once, a member leaving and its
 * partitions moving), two groups fanning out, committed offsets through admin.fetchOffsets, and the
 * group admin calls (listGroups, describeGroups, deleteGroups, setOffsets, resetOffsets).
 *
 * Waits are event-driven (kafkajs's GROUP_JOIN events, message counts) with generous bounds: the
 * machine is shared.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import { topicName } from '../unit/router/kafka/raw-kafka-client.ts';

const require = createRequire(import.meta.url);

interface Message {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers?: Record<string, Buffer | string | undefined>;
}
interface KafkaJsConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(options: { topics: string[]; fromBeginning?: boolean }): Promise<void>;
  run(options: {
    eachMessage?: (payload: { topic: string; partition: number; message: Message }) => Promise<void>;
    eachBatch?: (payload: {
      batch: { topic: string; partition: number; messages: Message[] };
      resolveOffset(offset: string): void;
      heartbeat(): Promise<void>;
    }) => Promise<void>;
  }): Promise<void>;
  seek(options: { topic: string; partition: number; offset: string }): void;
  on(event: string, listener: (e: { payload: GroupJoin }) => void): () => void;
  events: { GROUP_JOIN: string };
}
interface GroupJoin {
  memberId: string;
  leaderId: string;
  isLeader: boolean;
  groupProtocol: string;
  memberAssignment: Record<string, number[]>;
}
interface KafkaJsAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  createTopics(options: { topics: { topic: string; numPartitions: number }[] }): Promise<boolean>;
  fetchTopicOffsetsByTimestamp(
    topic: string,
    timestamp: number,
  ): Promise<{ partition: number; offset: string }[]>;
  fetchOffsets(options: {
    groupId: string;
    topics: string[];
  }): Promise<
    { topic: string; partitions: { partition: number; offset: string; metadata: string | null }[] }[]
  >;
  listGroups(): Promise<{ groups: { groupId: string; protocolType: string }[] }>;
  describeGroups(groupIds: string[]): Promise<{
    groups: {
      groupId: string;
      errorCode: number;
      state: string;
      protocol: string;
      protocolType: string;
      members: { memberId: string; clientId: string; clientHost: string; memberAssignment: Buffer }[];
    }[];
  }>;
  deleteGroups(groupIds: string[]): Promise<{ groupId: string; errorCode: number }[]>;
  setOffsets(options: {
    groupId: string;
    topic: string;
    partitions: { partition: number; offset: string }[];
  }): Promise<void>;
  resetOffsets(options: { groupId: string; topic: string; earliest?: boolean }): Promise<void>;
}
interface KafkaJsModule {
  Kafka: new (
    config: object,
  ) => {
    admin(): KafkaJsAdmin;
    producer(): {
      connect(): Promise<void>;
      disconnect(): Promise<void>;
      send(record: object): Promise<unknown>;
    };
    consumer(config: object): KafkaJsConsumer;
  };
  AssignerProtocol: {
    MemberAssignment: { decode(buffer: Buffer): { assignment: Record<string, number[]> } | null };
  };
  logLevel: { NOTHING: number };
}

const { Kafka, AssignerProtocol, logLevel } = require('kafkajs') as KafkaJsModule;

const ARGS = ['--group-min-session-timeout-ms', '1000', '--group-initial-rebalance-delay-ms', '0'];

let broker: RunningBroker;
let kafka: InstanceType<KafkaJsModule['Kafka']>;
let admin: KafkaJsAdmin;
const running = new Set<KafkaJsConsumer>();

beforeAll(async () => {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  broker = await startBrokerProcess({ args: ARGS });
  kafka = new Kafka({
    clientId: 'sluice-e2e',
    brokers: [`127.0.0.1:${broker.kafkaPort}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 100 },
  });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await Promise.allSettled([...running].map((c) => c.disconnect()));
  await admin?.disconnect();
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

const groupName = () => `kjs-${Math.random().toString(36).slice(2, 10)}`;

/** A consumer with short timers (heartbeats every 300 ms, fetches waiting at most 100 ms). */
function consumer(groupId: string): KafkaJsConsumer {
  const c = kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    rebalanceTimeout: 15_000,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 100,
    retry: { retries: 10, initialRetryTime: 100 },
  });
  running.add(c);
  return c;
}

async function stop(c: KafkaJsConsumer): Promise<void> {
  await c.disconnect();
  running.delete(c);
}

async function createTopic(partitions: number): Promise<string> {
  const topic = topicName('kjs-group');
  expect(await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] })).toBe(true);
  return topic;
}

/** Produce `values` round-robin over the partitions (value i goes to partition i % partitions). */
async function produce(topic: string, partitions: number, values: string[], timestamps?: number[]) {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: values.map((value, i) => ({
      key: `k${i}`,
      value,
      partition: i % partitions,
      headers: { n: String(i) },
      ...(timestamps && { timestamp: String(timestamps[i]) }),
    })),
  });
  await producer.disconnect();
}

/** Resolves once `predicate()` holds, re-checked whenever `poke` is called; rejects after `ms`. */
function until(predicate: () => boolean, ms: number, what: string): { done: Promise<void>; poke(): void } {
  let poke = () => {};
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not reached after ${ms} ms`)), ms);
    poke = () => {
      if (predicate()) {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  poke();
  return { done, poke: () => poke() };
}

interface Seen {
  consumer: number;
  partition: number;
  offset: number;
  value: string;
}

describe('kafkajs consumer.run', () => {
  it('eachMessage reads everything from the beginning: keys, values, headers, offsets, in order', async () => {
    const topic = await createTopic(3);
    const values = Array.from({ length: 60 }, (_, i) => `value-${i}`);
    await produce(topic, 3, values);
    const seen: Message[] = [];
    const wait = until(() => seen.length >= values.length, 30_000, 'all messages');
    const c = consumer(groupName());
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: true });
    const byPartition = new Map<number, number[]>();
    await c.run({
      eachMessage: async ({ partition, message }) => {
        seen.push(message);
        byPartition.set(partition, [...(byPartition.get(partition) ?? []), Number(message.offset)]);
        wait.poke();
      },
    });
    await wait.done;
    await stop(c);
    expect(seen.map((m) => m.value!.toString()).sort()).toEqual([...values].sort());
    for (const m of seen) {
      const i = Number(m.value!.toString().slice('value-'.length));
      expect(m.key!.toString()).toBe(`k${i}`);
      expect(m.headers!.n!.toString()).toBe(String(i));
    }
    // Each partition in offset order, from 0.
    expect([...byPartition.keys()].sort()).toEqual([0, 1, 2]);
    for (const offsets of byPartition.values()) expect(offsets).toEqual(offsets.map((_, i) => i));
  });

  it('eachBatch reads everything from the beginning, resolving offsets batch by batch', async () => {
    const topic = await createTopic(2);
    const values = Array.from({ length: 40 }, (_, i) => `b-${i}`);
    await produce(topic, 2, values.slice(0, 20));
    await produce(topic, 2, values.slice(20));
    const seen: string[] = [];
    const wait = until(() => seen.length >= values.length, 30_000, 'all batches');
    const groupId = groupName();
    const c = consumer(groupId);
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: true });
    await c.run({
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        for (const m of batch.messages) {
          seen.push(m.value!.toString());
          resolveOffset(m.offset);
        }
        await heartbeat();
        wait.poke();
      },
    });
    await wait.done;
    await stop(c);
    expect(seen.sort()).toEqual([...values].sort());
    // Disconnecting committed what was resolved.
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, '20'],
      [1, '20'],
    ]);
  });

  it('seek() starts from a given offset', async () => {
    const topic = await createTopic(1);
    const values = Array.from({ length: 20 }, (_, i) => `s-${i}`);
    await produce(topic, 1, values);
    const offsets: number[] = [];
    const wait = until(() => offsets.includes(19), 30_000, 'the last message');
    const c = consumer(groupName());
    await c.connect();
    // Not from the beginning: without the seek it would start at the end.
    await c.subscribe({ topics: [topic], fromBeginning: false });
    await c.run({
      eachMessage: async ({ message }) => {
        offsets.push(Number(message.offset));
        wait.poke();
      },
    });
    c.seek({ topic, partition: 0, offset: '12' });
    await wait.done;
    await stop(c);
    expect(offsets).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('seeks to a time found with admin.fetchTopicOffsetsByTimestamp', async () => {
    const topic = await createTopic(1);
    const base = 1_700_000_000_000;
    const values = Array.from({ length: 10 }, (_, i) => `t-${i}`);
    await produce(
      topic,
      1,
      values,
      values.map((_, i) => base + i * 1000),
    );
    const [at] = await admin.fetchTopicOffsetsByTimestamp(topic, base + 6500);
    expect(at).toEqual({ partition: 0, offset: '7' });
    const seen: Message[] = [];
    const wait = until(() => seen.length >= 3, 30_000, 'messages after the time');
    const c = consumer(groupName());
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: false });
    await c.run({
      eachMessage: async ({ message }) => {
        seen.push(message);
        wait.poke();
      },
    });
    c.seek({ topic, partition: 0, offset: at!.offset });
    await wait.done;
    await stop(c);
    expect(seen.map((m) => [m.offset, m.value!.toString(), m.timestamp])).toEqual([
      ['7', 't-7', String(base + 7000)],
      ['8', 't-8', String(base + 8000)],
      ['9', 't-9', String(base + 9000)],
    ]);
  });
});

describe('kafkajs consumer groups', () => {
  it('three members split the partitions (RoundRobinAssigner), read every record once, and take over from a leaver', async () => {
    const partitions = 6;
    const topic = await createTopic(partitions);
    const groupId = groupName();
    const members = [consumer(groupId), consumer(groupId), consumer(groupId)];
    const assignments = new Map<number, number[]>();
    const protocols = new Set<string>();
    const seen: Seen[] = [];
    let check = () => {};
    const split = (ids: number[]) => {
      const all = ids.flatMap((i) => assignments.get(i) ?? []);
      return (
        ids.every((i) => (assignments.get(i) ?? []).length > 0) &&
        all.length === partitions &&
        new Set(all).size === partitions
      );
    };
    for (const [i, c] of members.entries()) {
      c.on(c.events.GROUP_JOIN, ({ payload }) => {
        assignments.set(i, payload.memberAssignment[topic] ?? []);
        protocols.add(payload.groupProtocol);
        check();
      });
      await c.connect();
      await c.subscribe({ topics: [topic], fromBeginning: true });
      await c.run({
        eachMessage: async ({ partition, message }) => {
          seen.push({
            consumer: i,
            partition,
            offset: Number(message.offset),
            value: message.value!.toString(),
          });
          check();
        },
      });
    }
    const allThree = until(() => split([0, 1, 2]), 60_000, 'three-way split');
    check = allThree.poke;
    await allThree.done;
    expect(protocols).toEqual(new Set(['RoundRobinAssigner']));
    expect([0, 1, 2].map((i) => assignments.get(i)!.length)).toEqual([2, 2, 2]);

    // Every record once, by the member that owns its partition.
    const first = Array.from({ length: 120 }, (_, i) => `first-${i}`);
    const firstRead = until(() => seen.length >= first.length, 30_000, 'first records');
    check = firstRead.poke;
    await produce(topic, partitions, first);
    await firstRead.done;
    expect(seen.map((s) => s.value).sort()).toEqual([...first].sort());
    for (const s of seen) expect(assignments.get(s.consumer)).toContain(s.partition);

    // The third member leaves: its partitions move to the other two.
    const leaver = assignments.get(2)!;
    await stop(members[2]!);
    const twoWay = until(() => split([0, 1]), 60_000, 'two-way split');
    check = twoWay.poke;
    await twoWay.done;
    for (const p of leaver) expect([...assignments.get(0)!, ...assignments.get(1)!]).toContain(p);

    const second = Array.from({ length: 120 }, (_, i) => `second-${i}`);
    const total = first.length + second.length;
    const secondRead = until(() => seen.length >= total, 30_000, 'second records');
    check = secondRead.poke;
    await produce(topic, partitions, second);
    await secondRead.done;
    const late = seen.slice(first.length);
    expect(late.map((s) => s.value).sort()).toEqual([...second].sort());
    for (const s of late) expect([0, 1]).toContain(s.consumer);
    await Promise.all([stop(members[0]!), stop(members[1]!)]);
    expect(seen).toHaveLength(total);

    // Committed offsets: every partition read to its end (40 records each).
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual(
      Array.from({ length: partitions }, (_, p) => [p, '40']),
    );
  });

  it('fans out across groups: each group reads every record', async () => {
    const topic = await createTopic(2);
    const values = Array.from({ length: 30 }, (_, i) => `f-${i}`);
    await produce(topic, 2, values);
    const perGroup = [[], []] as string[][];
    const wait = until(() => perGroup.every((s) => s.length >= values.length), 30_000, 'both groups');
    const consumers = [consumer(groupName()), consumer(groupName())];
    for (const [i, c] of consumers.entries()) {
      await c.connect();
      await c.subscribe({ topics: [topic], fromBeginning: true });
      await c.run({
        eachMessage: async ({ message }) => {
          perGroup[i]!.push(message.value!.toString());
          wait.poke();
        },
      });
    }
    await wait.done;
    await Promise.all(consumers.map(stop));
    for (const s of perGroup) expect(s.sort()).toEqual([...values].sort());
  });
});

describe('kafkajs group admin', () => {
  it('lists, describes and deletes groups; sets and resets the offsets of an empty group', async () => {
    const topic = await createTopic(2);
    await produce(
      topic,
      2,
      Array.from({ length: 10 }, (_, i) => `a-${i}`),
    );
    const groupId = groupName();
    const c = consumer(groupId);
    let count = 0;
    const wait = until(() => count >= 10, 30_000, 'all messages');
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: true });
    await c.run({
      eachMessage: async () => {
        count++;
        wait.poke();
      },
    });
    await wait.done;

    expect((await admin.listGroups()).groups).toContainEqual({ groupId, protocolType: 'consumer' });
    const running = (await admin.describeGroups([groupId])).groups[0]!;
    expect(running).toMatchObject({ groupId, errorCode: 0, state: 'Stable', protocol: 'RoundRobinAssigner' });
    expect(running.protocolType).toBe('consumer');
    expect(running.members).toHaveLength(1);
    expect(running.members[0]!.clientId).toBe('sluice-e2e');
    expect(running.members[0]!.clientHost).toBe('127.0.0.1');
    // The assignment bytes kafkajs's leader wrote, handed back unchanged.
    expect(
      AssignerProtocol.MemberAssignment.decode(running.members[0]!.memberAssignment)!.assignment,
    ).toEqual({
      [topic]: [0, 1],
    });
    // A running group can be neither deleted nor have its offsets set.
    await expect(admin.deleteGroups([groupId])).rejects.toMatchObject({
      groups: [expect.objectContaining({ groupId, errorCode: 68 })], // NON_EMPTY_GROUP
    });
    await expect(
      admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }] }),
    ).rejects.toThrow(/no running instances/);

    await stop(c);
    expect((await admin.describeGroups([groupId])).groups[0]).toMatchObject({ state: 'Empty', members: [] });
    const offsets = async () =>
      (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions
        .map((p) => [p.partition, p.offset])
        .sort();
    expect(await offsets()).toEqual([
      [0, '5'],
      [1, '5'],
    ]);

    // kafkajs sets offsets by joining the empty group with a consumer of its own and seeking.
    await admin.setOffsets({
      groupId,
      topic,
      partitions: [
        { partition: 0, offset: '2' },
        { partition: 1, offset: '3' },
      ],
    });
    expect(await offsets()).toEqual([
      [0, '2'],
      [1, '3'],
    ]);
    // A consumer of the group starts there.
    const resumed: string[] = [];
    const again = consumer(groupId);
    const waitAgain = until(() => resumed.length >= 5, 30_000, 'resumed messages');
    await again.connect();
    await again.subscribe({ topics: [topic], fromBeginning: true });
    await again.run({
      eachMessage: async ({ partition, message }) => {
        resumed.push(`${partition}:${message.offset}`);
        waitAgain.poke();
      },
    });
    await waitAgain.done;
    await stop(again);
    expect(resumed.sort()).toEqual(['0:2', '0:3', '0:4', '1:3', '1:4']);

    // Resetting commits kafkajs's "earliest" marker (-2) as it is, as Kafka stores it. kafkajs reads a
    // negative committed offset as "none" and starts where its subscription says: here the beginning
    // (before the reset, this group would have resumed at 5 and read nothing).
    await admin.resetOffsets({ groupId, topic, earliest: true });
    expect(await offsets()).toEqual([
      [0, '-2'],
      [1, '-2'],
    ]);
    const fromStart: string[] = [];
    const third = consumer(groupId);
    const waitThird = until(() => fromStart.length >= 10, 30_000, 'messages after the reset');
    await third.connect();
    await third.subscribe({ topics: [topic], fromBeginning: true });
    await third.run({
      eachMessage: async ({ partition, message }) => {
        fromStart.push(`${partition}:${message.offset}`);
        waitThird.poke();
      },
    });
    await waitThird.done;
    await stop(third);
    expect(fromStart).toHaveLength(10);
    expect(await offsets()).toEqual([
      [0, '5'],
      [1, '5'],
    ]);

    expect(await admin.deleteGroups([groupId])).toEqual([{ groupId, errorCode: 0 }]);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain(groupId);
    expect(await offsets()).toEqual([
      [0, '-1'],
      [1, '-1'],
    ]);
  });
});
