/**
 * Consumer groups through the client library, against the broker as a child process: a group as a
 * queue (disjoint assignments, every record once, partitions moving when a member closes), several
 * groups as publish/subscribe, each assignor in a live group (cooperative-sticky keeping partitions
 * across a rebalance), commits with metadata, a stale generation's commit refused, REBALANCE_IN_PROGRESS
 * during the sync phase, a member that stops heartbeating being expelled, regex subscriptions, and
 * the admin views (describe, offsets, lag, reset, delete).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Admin,
  CommitFailedError,
  Connection,
  Consumer,
  type ConsumerOptions,
  Producer,
  type RebalanceListener,
  type TopicPartition,
} from '../../src/client/index.ts';
import { SluiceError } from '../../src/errors.ts';
import type { OpBody, OpName, OpResponse } from '../../src/protocol/wire/ops.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';

const ARGS = ['--group-min-session-timeout-ms', '300', '--group-initial-rebalance-delay-ms', '0'];
/** Settings that keep rebalances fast but survive a loaded 2-core machine. */
const FAST: ConsumerOptions = {
  sessionTimeoutMs: 8_000,
  rebalanceTimeoutMs: 8_000,
  heartbeatIntervalMs: 250,
  autoOffsetReset: 'earliest',
  maxWaitMs: 200,
};

let broker: RunningBroker;
let admin: Admin;
let producer: Producer;
const consumers: Consumer[] = [];

const name = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const tpString = (tp: TopicPartition) => `${tp.topic}-${tp.partition}`;

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ARGS });
  admin = new Admin({ bootstrap: broker.url });
  producer = new Producer({ bootstrap: broker.url, lingerMs: 0 });
});

afterEach(async () => {
  await Promise.allSettled(consumers.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await Promise.allSettled([admin?.close(), producer?.close()]);
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

/** Re-checks a condition whenever something happens (a record, a rebalance), with a deadline. */
class Changes {
  #waiters = new Set<() => void>();

  notify = (): void => {
    for (const w of [...this.#waiters]) w();
  };

  until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    if (condition()) return Promise.resolve();
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
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }
}

interface Member {
  consumer: Consumer;
  /** Rebalance callbacks as they happened. */
  events: { kind: 'assigned' | 'revoked' | 'lost'; partitions: string[] }[];
}

/** A consumer in `groupId` subscribed to `topics`, whose records (as "partition:offset:value") go to `seen`. */
function member(
  changes: Changes,
  groupId: string,
  topics: string[] | RegExp,
  seen: Map<string, number> | undefined,
  options: ConsumerOptions = {},
): Member {
  const consumer = new Consumer({ bootstrap: broker.url, groupId, ...FAST, ...options });
  consumers.push(consumer);
  const events: Member['events'] = [];
  const record =
    (kind: Member['events'][number]['kind']) =>
    (partitions: TopicPartition[]): void => {
      events.push({ kind, partitions: partitions.map(tpString).sort() });
      changes.notify();
    };
  const listener: RebalanceListener = {
    onPartitionsAssigned: record('assigned'),
    onPartitionsRevoked: record('revoked'),
    onPartitionsLost: record('lost'),
  };
  consumer.subscribe(topics, listener);
  if (seen) {
    void (async () => {
      for await (const r of consumer) {
        const key = `${r.topic}:${r.partition}:${r.offset}:${r.valueString()}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        changes.notify();
      }
    })();
  }
  return { consumer, events };
}

async function produce(topic: string, n: number, from = 0): Promise<void> {
  await producer.sendBatch(
    Array.from({ length: n }, (_, i) => ({ topic, key: `k${from + i}`, value: `v${from + i}` })),
  );
}

/** The members' assignments are disjoint, none is empty, and together they cover `partitions`. */
function balanced(members: readonly Member[], topic: string, partitions: number): boolean {
  const all = members.flatMap((m) => m.consumer.assignment());
  if (members.some((m) => m.consumer.assignment().length === 0)) return false;
  const keys = new Set(all.map(tpString));
  if (keys.size !== all.length || keys.size !== partitions) return false;
  return Array.from({ length: partitions }, (_, p) => `${topic}-${p}`).every((k) => keys.has(k));
}

function expectEachOnce(seen: Map<string, number>, n: number): void {
  const duplicates = [...seen].filter(([, count]) => count !== 1);
  expect(duplicates).toEqual([]);
  expect(seen.size).toBe(n);
  const values = new Set([...seen.keys()].map((k) => k.split(':')[3]));
  expect(values.size).toBe(n);
}

describe('a group is a queue', () => {
  it('splits 6 partitions among 3 consumers, reads each record once, and moves partitions on close', async () => {
    const topic = name('queue');
    const groupId = name('g');
    await admin.createTopics([{ name: topic, numPartitions: 6 }]);
    await produce(topic, 600);
    const changes = new Changes();
    const seen = new Map<string, number>();
    const members = [1, 2, 3].map(() => member(changes, groupId, [topic], seen));
    await changes.until(
      () => balanced(members, topic, 6),
      'three disjoint assignments covering 6 partitions',
    );
    await changes.until(() => seen.size >= 600, '600 records');
    expectEachOnce(seen, 600);

    const [group] = await admin.describeGroups([groupId]);
    expect(group).toMatchObject({ state: 'Stable', protocolType: 'consumer', protocolName: 'range' });
    expect(group!.members.map((m) => m.assignment.length).sort()).toEqual([2, 2, 2]);

    // One member closes: it commits and leaves; its partitions move at once (well within the session timeout).
    const started = Date.now();
    await members[2]!.consumer.close();
    const rest = members.slice(0, 2);
    await changes.until(() => balanced(rest, topic, 6), 'two members covering 6 partitions');
    expect(Date.now() - started).toBeLessThan(FAST.sessionTimeoutMs!);
    await produce(topic, 600, 600);
    await changes.until(() => seen.size >= 1200, '1200 records');
    expectEachOnce(seen, 1200);
    expect(members[2]!.events.at(-1)).toMatchObject({ kind: 'revoked' });
  });

  it('with one member, a group reads every partition as a plain queue', async () => {
    const topic = name('single');
    await admin.createTopics([{ name: topic, numPartitions: 3 }]);
    await produce(topic, 90);
    const changes = new Changes();
    const seen = new Map<string, number>();
    const only = member(changes, name('g'), [topic], seen);
    await changes.until(() => seen.size >= 90, '90 records');
    expectEachOnce(seen, 90);
    expect(only.consumer.assignment().map(tpString).sort()).toEqual([0, 1, 2].map((p) => `${topic}-${p}`));
  });
});

describe('groups are publish/subscribe', () => {
  it('every group reads every record', async () => {
    const topic = name('pubsub');
    await admin.createTopics([{ name: topic, numPartitions: 4 }]);
    await produce(topic, 200);
    const changes = new Changes();
    const groups = [name('ga'), name('gb')];
    const seen = groups.map(() => new Map<string, number>());
    groups.forEach((g, i) => {
      member(changes, g, [topic], seen[i]);
      member(changes, g, [topic], seen[i]);
    });
    await changes.until(() => seen.every((s) => s.size >= 200), 'both groups to read 200 records');
    for (const s of seen) expectEachOnce(s, 200);
  });
});

describe('assignors in a live group', () => {
  async function twoMembers(assignor: 'range' | 'roundrobin') {
    const [t0, t1] = [name('a'), name('b')].sort();
    await admin.createTopics([
      { name: t0!, numPartitions: 3 },
      { name: t1!, numPartitions: 3 },
    ]);
    const groupId = name('g');
    const changes = new Changes();
    const members = [
      member(changes, groupId, [t0!, t1!], undefined, { assignors: [assignor] }),
      member(changes, groupId, [t0!, t1!], undefined, { assignors: [assignor] }),
    ];
    const total = () => members.reduce((n, m) => n + m.consumer.assignment().length, 0);
    await changes.until(
      () => members.every((m) => m.consumer.assignment().length > 0) && total() === 6,
      'two members holding 6 partitions',
    );
    // Kafka orders members by member id.
    const sorted = [...members].sort((a, b) =>
      a.consumer.groupMetadata()!.memberId < b.consumer.groupMetadata()!.memberId ? -1 : 1,
    );
    return { t0: t0!, t1: t1!, sorted, groupId };
  }

  it('range: each member a contiguous range of each topic, the first member the extra partitions', async () => {
    const { t0, t1, sorted, groupId } = await twoMembers('range');
    expect(sorted[0]!.consumer.assignment().map(tpString).sort()).toEqual(
      [`${t0}-0`, `${t0}-1`, `${t1}-0`, `${t1}-1`].sort(),
    );
    expect(sorted[1]!.consumer.assignment().map(tpString).sort()).toEqual([`${t0}-2`, `${t1}-2`].sort());
    expect((await admin.describeGroups([groupId]))[0]!.protocolName).toBe('range');
  });

  it('roundrobin: all partitions sorted, dealt alternately', async () => {
    const { t0, t1, sorted, groupId } = await twoMembers('roundrobin');
    expect(sorted[0]!.consumer.assignment().map(tpString).sort()).toEqual(
      [`${t0}-0`, `${t0}-2`, `${t1}-1`].sort(),
    );
    expect(sorted[1]!.consumer.assignment().map(tpString).sort()).toEqual(
      [`${t0}-1`, `${t1}-0`, `${t1}-2`].sort(),
    );
    expect((await admin.describeGroups([groupId]))[0]!.protocolName).toBe('roundrobin');
  });

  it('cooperative-sticky: a joining member takes half; the first keeps the rest without revoking it', async () => {
    const topic = name('coop');
    const groupId = name('g');
    await admin.createTopics([{ name: topic, numPartitions: 6 }]);
    await produce(topic, 300);
    const changes = new Changes();
    const seen = new Map<string, number>();
    const opts: ConsumerOptions = { assignors: ['cooperative-sticky'] };
    const first = member(changes, groupId, [topic], seen, opts);
    await changes.until(() => first.consumer.assignment().length === 6, 'the first member to hold 6');
    const all = first.consumer.assignment().map(tpString).sort();
    const second = member(changes, groupId, [topic], seen, opts);
    await changes.until(() => balanced([first, second], topic, 6), 'a 3/3 split');
    const kept = first.consumer.assignment().map(tpString).sort();
    const moved = second.consumer.assignment().map(tpString).sort();
    expect(kept).toHaveLength(3);
    // The first member revoked exactly the moved partitions, never everything (not eager).
    const revoked = first.events.filter((e) => e.kind === 'revoked').flatMap((e) => e.partitions);
    expect(revoked.sort()).toEqual(moved);
    expect(first.events.filter((e) => e.kind === 'lost')).toEqual([]);
    expect([...kept, ...moved].sort()).toEqual(all);
    await changes.until(() => seen.size >= 300, '300 records');
    expectEachOnce(seen, 300);
    expect((await admin.describeGroups([groupId]))[0]!.protocolName).toBe('cooperative-sticky');
  });
});

describe('subscriptions and membership', () => {
  it('a pattern subscription picks up topics created later; unsubscribe leaves the group', async () => {
    const prefix = name('re');
    await admin.createTopics([{ name: `${prefix}-a`, numPartitions: 2 }]);
    await produce(`${prefix}-a`, 10);
    const changes = new Changes();
    const seen = new Map<string, number>();
    const groupId = name('g');
    const m = member(changes, groupId, new RegExp(`^${prefix}-`), seen, { metadataMaxAgeMs: 300 });
    await changes.until(() => seen.size >= 10, 'the records of the first matching topic');
    expect(m.consumer.subscription()).toEqual([`${prefix}-a`]);
    await admin.createTopics([
      { name: `${prefix}-b`, numPartitions: 1 },
      { name: `other-${prefix}`, numPartitions: 1 },
    ]);
    await produce(`${prefix}-b`, 5, 100);
    await produce(`other-${prefix}`, 5, 200);
    await changes.until(() => seen.size >= 15, 'the records of the new matching topic');
    expect(m.consumer.subscription()).toEqual([`${prefix}-a`, `${prefix}-b`]);
    expect([...seen.keys()].filter((k) => k.startsWith('other-'))).toEqual([]);
    await m.consumer.unsubscribe();
    expect(m.consumer.assignment()).toEqual([]);
    expect(m.consumer.subscription()).toEqual([]);
    expect((await admin.describeGroups([groupId]))[0]).toMatchObject({ state: 'Empty', members: [] });
  });

  it('a static member (groupInstanceId) that restarts gets its partitions back without a rebalance', async () => {
    const topic = name('static');
    const groupId = name('g');
    await admin.createTopics([{ name: topic, numPartitions: 4 }]);
    const changes = new Changes();
    const first = member(changes, groupId, [topic], undefined, { groupInstanceId: 'instance-a' });
    const other = member(changes, groupId, [topic], undefined);
    await changes.until(() => balanced([first, other], topic, 4), 'a 2/2 split');
    const held = first.consumer.assignment().map(tpString).sort();
    const generation = (await admin.describeGroups([groupId]))[0]!.generationId;
    // A static member does not leave on close: the group keeps its place for the session timeout.
    await first.consumer.close();
    const [kept] = await admin.describeGroups([groupId]);
    expect(kept!.members).toHaveLength(2);
    expect(kept!.members.find((m) => m.groupInstanceId === 'instance-a')).toBeDefined();
    const restarted = member(changes, groupId, [topic], undefined, { groupInstanceId: 'instance-a' });
    await changes.until(
      () => restarted.consumer.assignment().length === 2,
      'the restarted member to be assigned',
    );
    expect(restarted.consumer.assignment().map(tpString).sort()).toEqual(held);
    const [after] = await admin.describeGroups([groupId]);
    expect(after!.generationId).toBe(generation);
    // The other member was never asked to give anything up.
    expect(other.events.filter((e) => e.kind !== 'assigned')).toEqual([]);
  });
});

describe('commits', () => {
  it('keeps commit metadata exactly and commits positions on close', async () => {
    const topic = name('commit');
    const groupId = name('g');
    await admin.createTopics([{ name: topic, numPartitions: 2 }]);
    await produce(topic, 20);
    const changes = new Changes();
    const seen = new Map<string, number>();
    const m = member(changes, groupId, [topic], seen, { autoCommit: false });
    await changes.until(() => seen.size >= 20, '20 records');
    const metadata = 'état ✓ {"k":[1,2]}\u0000 end';
    await m.consumer.commit([
      { topic, partition: 0, offset: 3, metadata },
      { topic, partition: 1, offset: 4, metadata: '' },
    ]);
    expect(await m.consumer.committed()).toEqual([
      { topic, partition: 0, offset: 3, metadata },
      { topic, partition: 1, offset: 4, metadata: '' },
    ]);
    expect(await admin.fetchOffsets(groupId, [topic])).toEqual([
      { topic, partition: 0, offset: 3, metadata },
      { topic, partition: 1, offset: 4, metadata: '' },
    ]);
    // commit() with no argument commits the positions (the ends: everything was read).
    await m.consumer.commit();
    const ends = await admin.fetchTopicOffsets(topic);
    expect((await admin.fetchOffsets(groupId)).map((c) => c.offset)).toEqual(ends.map((e) => e.high));
  });

  it('auto-commits on close, and a new member resumes where the old one stopped', async () => {
    const topic = name('resume');
    const groupId = name('g');
    await admin.createTopics([{ name: topic, numPartitions: 2 }]);
    await produce(topic, 40);
    const changes = new Changes();
    const seen = new Map<string, number>();
    const m = member(changes, groupId, [topic], seen, { autoCommitIntervalMs: 60_000 });
    await changes.until(() => seen.size >= 40, '40 records');
    await m.consumer.close();
    await produce(topic, 40, 40);
    member(changes, groupId, [topic], seen);
    await changes.until(() => seen.size >= 80, '80 records');
    expectEachOnce(seen, 80);
  });
});

/** A connection whose requests can be held back or failed, to put a member in a chosen state. */
class Steerable extends Connection {
  /** Ops whose requests wait for release() before they are sent. */
  holdRequests = new Set<OpName>();
  /** Ops whose answers wait for release() (the request is sent). */
  holdResponses = new Set<OpName>();
  /** Ops failed at once with CLIENT_TIMEOUT, never sent: a frozen member. */
  drop = new Set<OpName>();
  readonly held = new Changes();
  heldCount = 0;
  #parked: (() => void)[] = [];

  override request<K extends OpName>(
    op: K,
    body: OpBody<K>,
    options?: { timeoutMs?: number },
  ): Promise<OpResponse<K>> {
    if (this.drop.has(op)) return Promise.reject(new SluiceError('CLIENT_TIMEOUT', 'dropped by the test'));
    if (this.holdRequests.has(op)) {
      return this.#park().then(() => super.request(op, body, options));
    }
    const response = super.request(op, body, options);
    if (!this.holdResponses.has(op)) return response;
    return response.then(async (r) => {
      await this.#park();
      return r;
    });
  }

  #park(): Promise<void> {
    return new Promise((resolve) => {
      this.#parked.push(resolve);
      this.heldCount++;
      this.held.notify();
    });
  }

  release(): void {
    this.holdRequests.clear();
    this.holdResponses.clear();
    for (const resume of this.#parked.splice(0)) resume();
  }
}

describe('generations', () => {
  /** Rebalances here wait for a member that never comes back, so keep their timeout short. */
  const SHORT: ConsumerOptions = { rebalanceTimeoutMs: 3_000, autoCommit: false };

  it("refuses a stale generation's commit with ILLEGAL_GENERATION, then the member rejoins", async () => {
    const topic = name('stale');
    const groupId = name('g');
    await admin.createTopics([{ name: topic, numPartitions: 2 }]);
    const changes = new Changes();
    const connection = new Steerable({ bootstrap: broker.url });
    const a = member(changes, groupId, [topic], undefined, { ...SHORT, connection });
    await changes.until(() => a.consumer.assignment().length === 2, 'A to hold both partitions');
    const before = a.consumer.groupMetadata()!;
    // B joins; A hears REBALANCE_IN_PROGRESS and rejoins. The coordinator moves to the next generation
    // but A's join answer is held back, so A still holds the old generation.
    connection.holdResponses.add('joinGroup');
    const b = member(changes, groupId, [topic], undefined, SHORT);
    await connection.held.until(() => connection.heldCount > 0, "A's join answer");
    expect(a.consumer.groupMetadata()!.generationId).toBe(before.generationId);
    const error = await a.consumer.commit([{ topic, partition: 0, offset: 0 }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitFailedError);
    expect((error as CommitFailedError).code).toBe('ILLEGAL_GENERATION');
    // The refusal reset A's membership: A drops the held answer, joins as a new member, the group settles.
    connection.release();
    await changes.until(() => balanced([a, b], topic, 2), 'A and B holding one partition each');
    expect(a.consumer.groupMetadata()!.memberId).not.toBe(before.memberId);
    expect(a.consumer.groupMetadata()!.generationId).toBeGreaterThan(before.generationId);
    await a.consumer.commit([{ topic, partition: a.consumer.assignment()[0]!.partition, offset: 0 }]);
    await connection.close();
  });

  it("refuses commits while the group waits for the leader's assignment (REBALANCE_IN_PROGRESS)", async () => {
    const topic = name('sync');
    const groupId = name('g');
    await admin.createTopics([{ name: topic, numPartitions: 2 }]);
    const changes = new Changes();
    const connection = new Steerable({ bootstrap: broker.url });
    const a = member(changes, groupId, [topic], undefined, { ...SHORT, connection });
    await changes.until(() => a.consumer.assignment().length === 2, 'A (the leader) to hold both');
    // A's SyncGroup (the leader's, with everyone's assignment) is held back: the new generation
    // exists, A is in it, and the group waits in CompletingRebalance.
    connection.holdRequests.add('syncGroup');
    const b = member(changes, groupId, [topic], undefined, SHORT);
    await connection.held.until(() => connection.heldCount > 0, "A's SyncGroup");
    const [group] = await admin.describeGroups([groupId]);
    expect(group!.state).toBe('CompletingRebalance');
    expect(a.consumer.groupMetadata()!.generationId).toBe(group!.generationId);
    const error = await a.consumer.commit([{ topic, partition: 0, offset: 0 }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitFailedError);
    expect((error as CommitFailedError).code).toBe('REBALANCE_IN_PROGRESS');
    connection.release();
    await changes.until(() => balanced([a, b], topic, 2), 'A and B holding one partition each');
    await connection.close();
  });

  it('expels a member that stops heartbeating; it sees its partitions lost and its commit refused', async () => {
    const topic = name('expel');
    const groupId = name('g');
    await admin.createTopics([{ name: topic, numPartitions: 2 }]);
    const changes = new Changes();
    const connection = new Steerable({ bootstrap: broker.url });
    const sessionTimeoutMs = 1_500;
    // No auto-commit: a commit counts as a sign of life to the coordinator.
    const frozen = member(changes, groupId, [topic], undefined, {
      connection,
      autoCommit: false,
      sessionTimeoutMs,
      heartbeatIntervalMs: 200,
    });
    const alive = member(changes, groupId, [topic], undefined);
    await changes.until(() => balanced([frozen, alive], topic, 2), 'one partition each');
    const frozenAt = Date.now();
    connection.drop.add('heartbeat');
    await changes.until(() => alive.consumer.assignment().length === 2, 'the live member to take both');
    expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(sessionTimeoutMs - 250);
    const [group] = await admin.describeGroups([groupId]);
    expect(group!.members.map((m) => m.memberId)).toEqual([alive.consumer.groupMetadata()!.memberId]);
    // The frozen member still holds its partition until it hears from the coordinator.
    expect(frozen.consumer.assignment()).toHaveLength(1);
    const error = await frozen.consumer.commit([{ topic, partition: 0, offset: 0 }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitFailedError);
    expect((error as CommitFailedError).code).toBe('UNKNOWN_MEMBER_ID');
    connection.drop.clear();
    await changes.until(() => frozen.events.some((e) => e.kind === 'lost'), 'onPartitionsLost');
    expect(frozen.events.filter((e) => e.kind === 'revoked')).toEqual([]);
    await changes.until(() => balanced([frozen, alive], topic, 2), 'the member back with one partition');
    await connection.close();
  });
});
