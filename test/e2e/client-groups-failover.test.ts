/**
 * Consumer groups through failures, against the broker as a child process: a member in another
 * process killed with SIGKILL (no LeaveGroup) loses its partitions to the others once its session
 * times out, and nothing is skipped; committed offsets survive broker restarts (graceful and kill -9):
 * a consumer resumes exactly at them; a member that stays up through a broker restart goes on reading
 * without missing anything.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Admin,
  Consumer,
  type ConsumerOptions,
  Producer,
  type TopicPartition,
} from '../../src/client/index.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ARGS = ['--group-min-session-timeout-ms', '300', '--group-initial-rebalance-delay-ms', '0'];
const FAST: ConsumerOptions = {
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 10_000,
  heartbeatIntervalMs: 250,
  autoOffsetReset: 'earliest',
  maxWaitMs: 200,
  reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
};

const brokers: RunningBroker[] = [];
const closers: (() => Promise<unknown>)[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await Promise.allSettled(closers.splice(0).map((close) => close()));
  for (const b of brokers.splice(0)) {
    await b.stop('SIGKILL');
    fs.rmSync(b.dataDir, { recursive: true, force: true });
  }
});

const name = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const tpString = (tp: TopicPartition) => `${tp.topic}-${tp.partition}`;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A broker on a fixed port, so that clients find it again after a restart. */
async function start(port: number, dataDir?: string): Promise<RunningBroker> {
  const broker = await startBrokerProcess({
    ...(dataDir ? { dataDir } : {}),
    args: [...ARGS, '--port', String(port)],
  });
  brokers.push(broker);
  return broker;
}

/** Re-checks a condition whenever something happens, with a deadline. */
class Changes {
  #waiters = new Set<() => void>();

  notify = (): void => {
    for (const w of [...this.#waiters]) w();
  };

  until(condition: () => boolean, what: string, timeoutMs = 40_000): Promise<void> {
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

function clients(url: string) {
  const admin = new Admin({ bootstrap: url });
  const producer = new Producer({ bootstrap: url, lingerMs: 0, reconnect: FAST.reconnect! });
  closers.push(
    () => admin.close(),
    () => producer.close(),
  );
  const produce = (topic: string, n: number, from = 0) =>
    producer.sendBatch(
      Array.from({ length: n }, (_, i) => ({ topic, key: `k${from + i}`, value: `v${from + i}` })),
    );
  return { admin, produce };
}

/**
 * A subscribed consumer whose record values go to `seen` (value → count); `first` has the first
 * offset read per partition. It stops reading after `limit` records.
 */
function reader(
  changes: Changes,
  url: string,
  groupId: string,
  topic: string,
  seen: Map<string, number>,
  options: ConsumerOptions = {},
  limit = Number.POSITIVE_INFINITY,
): { consumer: Consumer; first: Map<number, number> } {
  const consumer = new Consumer({ bootstrap: url, groupId, ...FAST, ...options });
  closers.push(() => consumer.close());
  const first = new Map<number, number>();
  consumer.subscribe([topic], { onPartitionsAssigned: changes.notify, onPartitionsRevoked: changes.notify });
  void (async () => {
    let n = 0;
    for await (const r of consumer) {
      if (!first.has(r.partition)) first.set(r.partition, r.offset);
      const value = r.valueString()!;
      seen.set(value, (seen.get(value) ?? 0) + 1);
      changes.notify();
      if (++n >= limit) break;
    }
  })();
  return { consumer, first };
}

/** The child-process member: prints its assignment after each rebalance and every record, as JSON lines. */
const CHILD = `
const { Consumer } = await import(process.env.SLUICE_CLIENT);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const c = new Consumer({
  bootstrap: process.env.SLUICE_URL, groupId: process.env.SLUICE_GROUP, autoOffsetReset: 'earliest',
  sessionTimeoutMs: Number(process.env.SLUICE_SESSION_MS), heartbeatIntervalMs: 250, rebalanceTimeoutMs: 10000,
  autoCommitIntervalMs: 100, maxWaitMs: 200,
});
c.subscribe([process.env.SLUICE_TOPIC], {
  onPartitionsAssigned: () => out({ assignment: c.assignment().map((tp) => tp.topic + '-' + tp.partition) }),
});
for await (const r of c) out({ value: r.valueString() });
`;

function childMember(url: string, groupId: string, topic: string, sessionTimeoutMs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    env: {
      ...process.env,
      SLUICE_CLIENT: pathToFileURL(path.join(ROOT, 'src/client/index.ts')).href,
      SLUICE_URL: url,
      SLUICE_GROUP: groupId,
      SLUICE_TOPIC: topic,
      SLUICE_SESSION_MS: String(sessionTimeoutMs),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const state = { assignment: [] as string[], stderr: () => stderr };
  const lines = readline.createInterface({ input: child.stdout! });
  return { child, state, lines };
}

describe('a member killed with SIGKILL', () => {
  it('loses its partitions after its session timeout; the others take them and skip nothing', async () => {
    const port = await freePort();
    const broker = await start(port);
    const { admin, produce } = clients(broker.url);
    const topic = name('kill');
    const groupId = name('g');
    await admin.createTopics([{ name: topic, numPartitions: 6 }]);
    await produce(topic, 600);
    const changes = new Changes();
    const seen = new Map<string, number>();
    const sessionTimeoutMs = 2_000;
    const remote = childMember(broker.url, groupId, topic, sessionTimeoutMs);
    remote.lines.on('line', (line) => {
      const message = JSON.parse(line) as { assignment?: string[]; value?: string };
      if (message.assignment) remote.state.assignment = message.assignment;
      if (message.value) seen.set(message.value, (seen.get(message.value) ?? 0) + 1);
      changes.notify();
    });
    remote.child.on('exit', changes.notify);
    await changes.until(
      () => remote.state.assignment.length === 6,
      `the child to join (${remote.state.stderr()})`,
    );
    const local = [1, 2].map(() => reader(changes, broker.url, groupId, topic, seen));
    const assignments = () => [
      ...local.map((l) => l.consumer.assignment().map(tpString)),
      remote.state.assignment,
    ];
    const split = () => {
      const all = assignments();
      const keys = new Set(all.flat());
      return all.every((a) => a.length === 2) && keys.size === 6;
    };
    await changes.until(split, 'a 2/2/2 split with the child');
    await changes.until(() => seen.size >= 600, '600 records');

    const killedAt = Date.now();
    remote.child.kill('SIGKILL');
    await produce(topic, 600, 600);
    await changes.until(
      () => local.every((l) => l.consumer.assignment().length === 3),
      "the child's partitions to move to the others",
    );
    const movedAfter = Date.now() - killedAt;
    // No LeaveGroup: the coordinator waits for the session timeout (the last heartbeat may be 250 ms old).
    expect(movedAfter).toBeGreaterThanOrEqual(sessionTimeoutMs - 300);
    const [group] = await admin.describeGroups([groupId]);
    expect(group!.members).toHaveLength(2);
    await changes.until(() => seen.size >= 1200, 'all 1200 records');
    // At least once: records the child read after its last commit may be read again, none is skipped.
    for (let i = 0; i < 1200; i++) expect(seen.get(`v${i}`) ?? 0).toBeGreaterThanOrEqual(1);
  });
});

describe('committed offsets across broker restarts', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`a consumer resumes exactly at the committed offsets after a ${signal} restart`, async () => {
      const port = await freePort();
      let broker = await start(port);
      const topic = name('resume');
      const groupId = name('g');
      let { admin, produce } = clients(broker.url);
      await admin.createTopics([{ name: topic, numPartitions: 3 }]);
      await produce(topic, 300);
      const changes = new Changes();
      const seen = new Map<string, number>();
      // Read about half, commit what was read, and stop without committing more.
      const { consumer } = reader(changes, broker.url, groupId, topic, seen, { autoCommit: false }, 150);
      await changes.until(() => seen.size >= 150, '150 records');
      await consumer.commit();
      const committed = await consumer.committed();
      await consumer.close();
      const before = new Set(seen.keys());
      expect(committed.reduce((n, c) => n + c.offset, 0)).toBe(before.size);

      await broker.stop(signal);
      broker = await start(port, broker.dataDir);
      ({ admin, produce } = clients(broker.url));
      expect(await admin.fetchOffsets(groupId)).toEqual(committed);
      await produce(topic, 60, 300);
      const after = new Map<string, number>();
      const resumed = reader(changes, broker.url, groupId, topic, after);
      await changes.until(() => after.size >= 360 - before.size, 'the rest of the records');
      // Nothing before the committed offsets again, nothing after them missed, nothing twice.
      for (const c of committed) expect(resumed.first.get(c.partition) ?? c.offset).toBe(c.offset);
      expect([...after.keys()].filter((v) => before.has(v))).toEqual([]);
      expect([...after.values()].every((n) => n === 1)).toBe(true);
      expect(before.size + after.size).toBe(360);
    });
  }

  it('a member that stays up through a kill -9 of the broker goes on reading and misses nothing', async () => {
    const port = await freePort();
    let broker = await start(port);
    const topic = name('live');
    const groupId = name('g');
    let { admin, produce } = clients(broker.url);
    await admin.createTopics([{ name: topic, numPartitions: 3 }]);
    await produce(topic, 100);
    const changes = new Changes();
    const seen = new Map<string, number>();
    const { consumer } = reader(changes, broker.url, groupId, topic, seen, { autoCommitIntervalMs: 100 });
    await changes.until(() => seen.size >= 100, '100 records');
    await consumer.commit();
    await broker.stop('SIGKILL');
    broker = await start(port, broker.dataDir);
    ({ admin, produce } = clients(broker.url));
    await produce(topic, 100, 100);
    await changes.until(() => seen.size >= 200, 'the records produced after the restart');
    for (let i = 0; i < 200; i++) expect(seen.get(`v${i}`)).toBeGreaterThanOrEqual(1);
    // Commits work again with the membership it kept or rejoined: they reach the log end.
    await consumer.commit();
    const ends = (await admin.fetchTopicOffsets(topic)).map((p) => p.high);
    const committed = (await admin.fetchOffsets(groupId, [topic])).map((c) => c.offset);
    expect(committed).toEqual(ends);
  });
});
