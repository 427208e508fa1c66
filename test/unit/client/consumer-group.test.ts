/**
 * The consumer's group logic against a scripted coordinator (in process, on top of the fake broker's
 * logs): the MEMBER_ID_REQUIRED join, the leader's ConsumerProtocol bytes, starting offsets from
 * commits, the order of a revocation (commit, then onPartitionsRevoked, and no record of a revoked
 * partition after it), run() handlers finishing before their partition is revoked, a lost
 * membership (no commit, onPartitionsLost, rejoin without a member id), cooperative revocation of
 * moved partitions only, and close (commit, revoke, leave).
 */
import { describe, expect, it } from 'vitest';
import { Consumer } from '../../../src/client/consumer.ts';
import type { ConsumerOptions } from '../../../src/client/consumer-options.ts';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
} from '../../../src/client/consumer-protocol.ts';
import type { TopicPartition } from '../../../src/client/fetcher.ts';
import { Producer } from '../../../src/client/producer.ts';
import type { ClientTransport, RequestOptions } from '../../../src/client/transport.ts';
import type { OpBody, OpName, OpResponse } from '../../../src/protocol/wire/ops.ts';
import { FakeBroker } from './fake-broker.ts';

const wire = (code: string) => ({ code, message: code, retriable: false });
const tps = (list: TopicPartition[]) => list.map((tp) => `${tp.topic}-${tp.partition}`).sort();

/**
 * A one-member group coordinator: the first join gets MEMBER_ID_REQUIRED, every join completes at
 * once with this member leading; sync returns what the leader assigned (or `assignmentOverride`, as
 * if another member had taken partitions). `heartbeatError` is answered once. Other ops go to the
 * fake broker.
 */
class ScriptedCoordinator implements ClientTransport {
  readonly broker = new FakeBroker();
  readonly requests: { op: OpName; body: Record<string, unknown> }[] = [];
  readonly committed = new Map<string, number>();
  /** Commits in order, as "topic-partition@offset". */
  readonly commitLog: string[] = [];
  heartbeatError: string | undefined;
  assignmentOverride: TopicPartition[] | undefined;
  generation = 0;
  #memberIds = 0;
  #changed: (() => void)[] = [];
  readonly serverInfo = this.broker.serverInfo;

  /** Resolves once `condition` holds, re-checked after every request and `notify()`. */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.#changed.push(resolve));
  }

  notify = (): void => {
    for (const wake of this.#changed.splice(0)) wake();
  };

  ops(op: OpName): Record<string, unknown>[] {
    return this.requests.filter((r) => r.op === op).map((r) => r.body);
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return this.broker.close();
  }

  send<K extends OpName>(op: K, body: OpBody<K>): Promise<void> {
    return this.broker.send(op, body);
  }

  async request<K extends OpName>(op: K, body: OpBody<K>, options?: RequestOptions): Promise<OpResponse<K>> {
    const b = body as Record<string, unknown>;
    this.requests.push({ op, body: b });
    queueMicrotask(this.notify);
    const answer = this.#answer(op, b);
    if (answer === undefined) return this.broker.request(op, body, options);
    await Promise.resolve();
    return answer as OpResponse<K>;
  }

  #answer(op: OpName, b: Record<string, unknown>): unknown {
    switch (op) {
      case 'joinGroup': {
        const protocols = b.protocols as { name: string; metadata: Uint8Array }[];
        if (b.memberId === '') {
          return {
            error: wire('MEMBER_ID_REQUIRED'),
            memberId: `member-${++this.#memberIds}`,
            generationId: -1,
            protocolType: null,
            protocolName: null,
            leader: '',
            members: [],
          };
        }
        this.generation++;
        return {
          generationId: this.generation,
          protocolType: 'consumer',
          protocolName: protocols[0]!.name,
          leader: b.memberId,
          memberId: b.memberId,
          members: [{ memberId: b.memberId, groupInstanceId: null, metadata: protocols[0]!.metadata }],
        };
      }
      case 'syncGroup': {
        const assignments = b.assignments as { memberId: string; assignment: Uint8Array }[];
        const assignment = this.assignmentOverride
          ? encodeAssignment(this.assignmentOverride)
          : (assignments.find((a) => a.memberId === b.memberId)?.assignment ?? new Uint8Array(0));
        return { protocolType: 'consumer', protocolName: b.protocolName, assignment };
      }
      case 'heartbeat': {
        const error = this.heartbeatError;
        this.heartbeatError = undefined;
        return error ? { error: wire(error) } : {};
      }
      case 'offsetCommit': {
        const topics = b.topics as { topic: string; partitions: { partition: number; offset: number }[] }[];
        for (const t of topics) {
          for (const p of t.partitions) {
            this.committed.set(`${t.topic}-${p.partition}`, p.offset);
            this.commitLog.push(`${t.topic}-${p.partition}@${p.offset}`);
          }
        }
        return {
          topics: topics.map((t) => ({
            topic: t.topic,
            partitions: t.partitions.map((p) => ({ partition: p.partition })),
          })),
        };
      }
      case 'offsetFetch': {
        const topics = b.topics as { topic: string; partitions: number[] }[];
        return {
          topics: topics.map((t) => ({
            topic: t.topic,
            partitions: t.partitions.map((partition) => ({
              partition,
              offset: this.committed.get(`${t.topic}-${partition}`) ?? -1,
              leaderEpoch: -1,
              metadata: '',
            })),
          })),
        };
      }
      case 'leaveGroup':
        return {
          members: (b.members as { memberId: string }[]).map((m) => ({
            memberId: m.memberId,
            groupInstanceId: null,
          })),
        };
      default:
        return undefined;
    }
  }
}

/** A coordinator over a topic `t` of 2 partitions holding 10 records each (values p<partition>-<i>). */
async function setUp(): Promise<ScriptedCoordinator> {
  const c = new ScriptedCoordinator();
  c.broker.createTopic('t', 2);
  const producer = new Producer({ connection: c.broker, lingerMs: 0, batchBytes: 200 });
  const records = [];
  for (let p = 0; p < 2; p++)
    for (let i = 0; i < 10; i++) records.push({ topic: 't', partition: p, value: `p${p}-${i}` });
  await producer.sendMany(records);
  await producer.close();
  return c;
}

function consumer(c: ScriptedCoordinator, options: ConsumerOptions = {}): Consumer {
  return new Consumer({
    connection: c,
    groupId: 'g',
    autoOffsetReset: 'earliest',
    heartbeatIntervalMs: 5,
    autoCommitIntervalMs: 60_000,
    maxWaitMs: 10,
    ...options,
  });
}

type Event = {
  kind: 'assigned' | 'revoked' | 'lost';
  partitions: string[];
  commits: number;
  delivered: number;
};

describe('joining', () => {
  it('joins again with the id from MEMBER_ID_REQUIRED, leads with ConsumerProtocol bytes, starts from commits', async () => {
    const c = await setUp();
    c.committed.set('t-0', 4);
    const cons = consumer(c, { autoCommit: false });
    cons.subscribe(['t']);
    const firsts = new Map<number, number>();
    let n = 0;
    for await (const r of cons) {
      if (!firsts.has(r.partition)) firsts.set(r.partition, r.offset);
      if (++n === 16) break;
    }
    // Committed offset for partition 0, autoOffsetReset (earliest) for partition 1.
    expect(Object.fromEntries(firsts)).toEqual({ 0: 4, 1: 0 });
    const joins = c.ops('joinGroup');
    expect(joins.map((j) => j.memberId)).toEqual(['', 'member-1']);
    const protocols = joins[1]!.protocols as { name: string; metadata: Uint8Array }[];
    expect(protocols.map((p) => p.name)).toEqual(['range', 'roundrobin']);
    expect(decodeSubscription(protocols[0]!.metadata)).toMatchObject({
      version: 1,
      topics: ['t'],
      ownedPartitions: [],
    });
    const [sync] = c.ops('syncGroup');
    const assignments = sync!.assignments as { memberId: string; assignment: Uint8Array }[];
    expect(assignments.map((a) => a.memberId)).toEqual(['member-1']);
    expect(tps(decodeAssignment(assignments[0]!.assignment))).toEqual(['t-0', 't-1']);
    expect(cons.groupMetadata()).toMatchObject({ groupId: 'g', memberId: 'member-1', generationId: 1 });
    await cons.close();
  });
});

describe('revocation', () => {
  function listen(c: ScriptedCoordinator, events: Event[], delivered: () => number) {
    const on = (kind: Event['kind']) => (partitions: TopicPartition[]) => {
      events.push({ kind, partitions: tps(partitions), commits: c.commitLog.length, delivered: delivered() });
      c.notify();
    };
    return {
      onPartitionsAssigned: on('assigned'),
      onPartitionsRevoked: on('revoked'),
      onPartitionsLost: on('lost'),
    };
  }

  it('commits positions, then calls onPartitionsRevoked; nothing revoked is delivered after it', async () => {
    const c = await setUp();
    const events: Event[] = [];
    const seen: string[] = [];
    const cons = consumer(c);
    cons.subscribe(
      ['t'],
      listen(c, events, () => seen.length),
    );
    const reading = (async () => {
      for await (const r of cons) {
        seen.push(`${r.partition}:${r.offset}`);
        if (seen.length === 5) {
          // Another member takes partition 0 in the next rebalance.
          c.assignmentOverride = [{ topic: 't', partition: 1 }];
          c.heartbeatError = 'REBALANCE_IN_PROGRESS';
        }
        c.notify();
      }
    })();
    await c.until(() => events.filter((e) => e.kind === 'assigned').length === 2);
    const revoked = events.find((e) => e.kind === 'revoked')!;
    expect(revoked.partitions).toEqual(['t-0', 't-1']); // eager: everything
    // The commit came before the callback, and covered exactly what was delivered.
    expect(revoked.commits).toBeGreaterThan(0);
    const delivered = seen.slice(0, revoked.delivered);
    const count = (p: number) => delivered.filter((s) => s.startsWith(`${p}:`)).length;
    expect(c.committed.get('t-0') ?? 0).toBe(count(0));
    expect(c.committed.get('t-1') ?? 0).toBe(count(1));
    await c.until(() => seen.filter((s) => s.startsWith('1:')).length === 10);
    const after = seen.slice(revoked.delivered);
    expect(after.filter((s) => s.startsWith('0:'))).toEqual([]);
    // Partition 1 resumed from its commit: every record once.
    expect(new Set(seen).size).toBe(seen.length);
    await cons.close();
    await reading;
  });

  it('waits for a busy run() handler before committing and revoking its partition', async () => {
    const c = await setUp();
    const events: Event[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let handled = 0;
    let inHandler = false;
    const cons = consumer(c);
    cons.subscribe(
      ['t'],
      listen(c, events, () => handled),
    );
    const running = cons.run({
      eachBatch: async (batch) => {
        if (handled === 0) {
          inHandler = true;
          c.heartbeatError = 'REBALANCE_IN_PROGRESS';
          c.notify();
          await gate;
        }
        handled += batch.lastOffset + 1 - batch.firstOffset;
        inHandler = false;
      },
    });
    // The heartbeat has told the member to rebalance (the error was answered).
    await c.until(() => inHandler && c.heartbeatError === undefined);
    // Give the rebalance every chance to run: it must stay parked behind the handler.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(events.filter((e) => e.kind === 'revoked')).toEqual([]);
    expect(c.ops('joinGroup')).toHaveLength(2);
    release();
    await c.until(() => events.some((e) => e.kind === 'revoked'));
    const revoked = events.find((e) => e.kind === 'revoked')!;
    expect(revoked.delivered).toBeGreaterThan(0);
    // The handled batch counts in the commit made before the callback.
    const total = [...c.committed.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(revoked.delivered);
    await cons.close();
    await running;
  });

  it('a lost membership calls onPartitionsLost without committing, and rejoins without a member id', async () => {
    const c = await setUp();
    const events: Event[] = [];
    const cons = consumer(c);
    cons.subscribe(
      ['t'],
      listen(c, events, () => 0),
    );
    await c.until(() => events.some((e) => e.kind === 'assigned'));
    const commitsBefore = c.commitLog.length;
    c.heartbeatError = 'UNKNOWN_MEMBER_ID';
    await c.until(() => events.filter((e) => e.kind === 'assigned').length === 2);
    expect(events.map((e) => e.kind)).toEqual(['assigned', 'lost', 'assigned']);
    expect(events[1]).toMatchObject({ partitions: ['t-0', 't-1'], commits: commitsBefore });
    expect(c.ops('joinGroup').map((j) => j.memberId)).toEqual(['', 'member-1', '', 'member-2']);
    expect(cons.groupMetadata()!.memberId).toBe('member-2');
    await cons.close();
  });

  it('cooperative: revokes only the partitions that moved, keeps the rest, and rejoins at once', async () => {
    const c = await setUp();
    const events: Event[] = [];
    const seen: string[] = [];
    const cons = consumer(c, { assignors: ['cooperative-sticky'] });
    cons.subscribe(
      ['t'],
      listen(c, events, () => seen.length),
    );
    const reading = (async () => {
      for await (const r of cons) {
        seen.push(`${r.partition}:${r.offset}`);
        c.notify();
      }
    })();
    await c.until(() => seen.length >= 20);
    c.assignmentOverride = [{ topic: 't', partition: 0 }];
    c.heartbeatError = 'REBALANCE_IN_PROGRESS';
    await c.until(() => c.ops('joinGroup').length >= 4);
    await c.until(() => events.filter((e) => e.kind === 'assigned').length >= 3);
    expect(events.filter((e) => e.kind === 'revoked').map((e) => e.partitions)).toEqual([['t-1']]);
    expect(events.filter((e) => e.kind === 'assigned').map((e) => e.partitions)).toEqual([
      ['t-0', 't-1'],
      [],
      [],
    ]);
    expect(tps(cons.assignment())).toEqual(['t-0']);
    // The rejoin after the revocation claims what the member kept, with its generation.
    const joins = c.ops('joinGroup');
    const claim = decodeSubscription(
      (joins[joins.length - 1]!.protocols as { metadata: Uint8Array }[])[0]!.metadata,
    );
    expect(tps(claim.ownedPartitions)).toEqual(['t-0']);
    expect(claim.generationId).toBe(c.generation - 1);
    expect(c.committed.get('t-1')).toBe(10);
    await cons.close();
    await reading;
  });
});

describe('close', () => {
  it('commits, calls onPartitionsRevoked, then leaves the group', async () => {
    const c = await setUp();
    const order: string[] = [];
    const cons = consumer(c);
    let n = 0;
    cons.subscribe(['t'], {
      onPartitionsRevoked: (p) =>
        void order.push(`revoked ${tps(p).join(',')} after ${c.commitLog.length} commits`),
    });
    for await (const _ of cons) if (++n === 7) break;
    await cons.close();
    expect(order).toEqual(['revoked t-0,t-1 after 2 commits']);
    expect([...c.committed.values()].reduce((a, b) => a + b, 0)).toBe(7);
    expect(c.requests.at(-1)).toMatchObject({
      op: 'leaveGroup',
      body: { groupId: 'g', members: [{ memberId: 'member-1' }] },
    });
  });

  it('commit() without a group, and assign() while subscribed, are errors', async () => {
    const c = await setUp();
    const plain = new Consumer({ connection: c });
    await expect(plain.commit()).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    expect(() => plain.subscribe(['t'])).toThrow(/groupId/);
    const cons = consumer(c);
    cons.subscribe(['t']);
    expect(() => cons.assign([{ topic: 't', partition: 0 }])).toThrow(/unsubscribe/);
    await cons.close();
  });
});
