/**
 * The `sluice` consumer-group commands against the broker as a child process: `consume --group`
 * (commits, resumes, --max-messages commits exactly what was printed, SIGINT leaves the group),
 * `groups list|describe|delete|reset-offsets` (lag = log end − committed, dry run vs --execute), JSON
 * output, and exit codes 0 / 1 / 2 with errors on stderr.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '../../src/client/index.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/sluice.js');
const ARGS = ['--group-min-session-timeout-ms', '300', '--group-initial-rebalance-delay-ms', '0'];
let broker: RunningBroker;
let admin: Admin;
let producer: Producer;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, SLUICE_BOOTSTRAP: broker.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function sluice(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = start(args);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice ${args.join(' ')} did not finish; stderr: ${stderr}`));
    }, 40_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const name = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const lines = (s: string) => s.split('\n').filter((l) => l !== '');

/** A topic with `n` records spread by key over `partitions` partitions; values v0…v(n-1). */
async function topicWith(partitions: number, n: number): Promise<string> {
  const topic = name('cli-g');
  await admin.createTopics([{ name: topic, numPartitions: partitions }]);
  await producer.sendBatch(Array.from({ length: n }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}` })));
  return topic;
}

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ARGS });
  admin = new Admin({ bootstrap: broker.url });
  producer = new Producer({ bootstrap: broker.url, lingerMs: 0 });
});

afterAll(async () => {
  await Promise.allSettled([admin?.close(), producer?.close()]);
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

describe('sluice consume --group', () => {
  it('commits what it printed and the next run resumes there', async () => {
    const topic = await topicWith(3, 60);
    const group = name('g');
    const first = await sluice([
      'consume',
      topic,
      '--group',
      group,
      '--from-beginning',
      '--max-messages',
      '25',
      '-q',
    ]);
    expect(first.code).toBe(0);
    expect(lines(first.stdout)).toHaveLength(25);
    // Exactly the printed records are committed, even though they end inside a fetched batch.
    const committed = await admin.fetchOffsets(group, [topic]);
    expect(committed.reduce((n, c) => n + Math.max(0, c.offset), 0)).toBe(25);

    const rest = await sluice(['consume', topic, '--group', group, '--exit-at-end', '--json', '-q']);
    expect(rest.code).toBe(0);
    const values = lines(rest.stdout).map((l) => (JSON.parse(l) as { value: string }).value);
    expect(values).toHaveLength(35);
    expect(new Set([...lines(first.stdout), ...values]).size).toBe(60);
    const ends = await admin.fetchTopicOffsets(topic);
    expect((await admin.fetchOffsets(group, [topic])).map((c) => c.offset)).toEqual(ends.map((e) => e.high));

    // Nothing left: --exit-at-end exits at once.
    const none = await sluice(['consume', topic, '--group', group, '--exit-at-end', '-q']);
    expect(none).toMatchObject({ code: 0, stdout: '' });
  });

  it('leaves the group on SIGINT, committing what it printed', async () => {
    const topic = await topicWith(2, 0);
    const group = name('g');
    const child = start([
      'consume',
      topic,
      '--group',
      group,
      '--from-beginning',
      '--print-offset',
      '-q',
      '--consumer-property',
      'session.timeout.ms=30000',
    ]);
    const printed: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const ten = new Promise<void>((resolve) => {
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        printed.push(line);
        if (printed.length === 10) resolve();
      });
    });
    await producer.sendBatch(Array.from({ length: 10 }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}` })));
    await ten;
    const [live] = await admin.describeGroups([group]);
    expect(live!.members).toHaveLength(1);
    expect(live!.members[0]!.clientId).toBe('sluice-console-consumer');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // Left at once (no 30 s session timeout), with its positions committed.
    const [after] = await admin.describeGroups([group]);
    expect(after).toMatchObject({ state: 'Empty', members: [] });
    const committed = await admin.fetchOffsets(group, [topic]);
    expect(committed.reduce((n, c) => n + Math.max(0, c.offset), 0)).toBe(10);
  });

  it('refuses --partition and --offset with --group (exit 2)', async () => {
    const r = await sluice(['consume', 'any', '--group', 'g', '--partition', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--group/);
    const p = await sluice(['consume', 'any', '--group', 'g', '--consumer-property', 'nope=1']);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/nope is not supported/);
  });
});

describe('sluice groups', () => {
  it('describes state, members and lag = log end − committed offset', async () => {
    const topic = await topicWith(3, 90);
    const group = name('g');
    // A live member that commits chosen offsets.
    const consumer = new Consumer({
      bootstrap: broker.url,
      groupId: group,
      clientId: 'lag-test',
      autoCommit: false,
      sessionTimeoutMs: 20_000,
      heartbeatIntervalMs: 250,
    });
    try {
      const assigned = new Promise<void>((resolve) =>
        consumer.subscribe([topic], { onPartitionsAssigned: () => resolve() }),
      );
      await assigned;
      await consumer.commit([
        { topic, partition: 0, offset: 5 },
        { topic, partition: 1, offset: 0 },
      ]);
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
      const json = await sluice(['groups', 'describe', group, '--json']);
      expect(json.code).toBe(0);
      const described = JSON.parse(json.stdout);
      expect(described).toMatchObject({ groupId: group, state: 'Stable', assignor: 'range' });
      expect(described.members).toHaveLength(1);
      expect(described.members[0]).toMatchObject({
        clientId: 'lag-test',
        host: expect.stringMatching(/127\.0\.0\.1/),
      });
      expect(described.members[0].assignment).toHaveLength(3);
      expect(described.offsets).toEqual([
        {
          topic,
          partition: 0,
          currentOffset: 5,
          logEndOffset: ends.get(0),
          lag: ends.get(0)! - 5,
          consumerId: consumer.groupMetadata()!.memberId,
          host: expect.any(String),
          clientId: 'lag-test',
        },
        {
          topic,
          partition: 1,
          currentOffset: 0,
          logEndOffset: ends.get(1),
          lag: ends.get(1),
          consumerId: consumer.groupMetadata()!.memberId,
          host: expect.any(String),
          clientId: 'lag-test',
        },
        {
          topic,
          partition: 2,
          currentOffset: null,
          logEndOffset: ends.get(2),
          lag: null,
          consumerId: consumer.groupMetadata()!.memberId,
          host: expect.any(String),
          clientId: 'lag-test',
        },
      ]);

      const text = await sluice(['groups', 'describe', group]);
      expect(text.code).toBe(0);
      const row0 = lines(text.stdout).find((l) => l.startsWith(`${group}  ${topic}  0 `));
      expect(row0?.split(/\s+/).slice(3, 6)).toEqual(['5', String(ends.get(0)), String(ends.get(0)! - 5)]);
      const row2 = lines(text.stdout).find((l) => l.startsWith(`${group}  ${topic}  2 `));
      expect(row2?.split(/\s+/).slice(3, 6)).toEqual(['-', String(ends.get(2)), '-']);
      expect(text.stdout).toMatch(/GROUP\s+STATE\s+ASSIGNMENT-STRATEGY/);
      expect(text.stdout).toMatch(new RegExp(`${topic}\\(0,1,2\\)`));

      const listed = JSON.parse((await sluice(['groups', 'list', '--json'])).stdout) as {
        groupId: string;
        state: string;
      }[];
      expect(listed).toContainEqual({ groupId: group, protocolType: 'consumer', state: 'Stable' });
      const stable = JSON.parse((await sluice(['groups', 'list', '--state', 'Empty', '--json'])).stdout) as {
        groupId: string;
      }[];
      expect(stable.map((g) => g.groupId)).not.toContain(group);

      // A group with members cannot be reset or deleted.
      const busy = await sluice([
        'groups',
        'reset-offsets',
        group,
        '--all-topics',
        '--to-earliest',
        '--execute',
      ]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/NON_EMPTY_GROUP.*inactive/);
      const notEmpty = await sluice(['groups', 'delete', group]);
      expect(notEmpty.code).toBe(1);
      expect(notEmpty.stderr).toMatch(/NON_EMPTY_GROUP/);
    } finally {
      await consumer.close();
    }
  });

  it('reset-offsets prints the plan without --execute and commits it with --execute', async () => {
    const topic = await topicWith(2, 40);
    const group = name('g');
    const ends = (await admin.fetchTopicOffsets(topic)).map((p) => p.high);
    const consumed = await sluice([
      'consume',
      topic,
      '--group',
      group,
      '--from-beginning',
      '--exit-at-end',
      '-q',
    ]);
    expect(consumed.code).toBe(0);
    const offsets = async () => (await admin.fetchOffsets(group, [topic])).map((c) => c.offset);
    expect(await offsets()).toEqual(ends);

    const plan = await sluice(['groups', 'reset-offsets', group, '--topic', topic, '--shift-by', '-3']);
    expect(plan.code).toBe(0);
    expect(plan.stderr).toMatch(/WARN: No action will be performed as the --execute option is missing/);
    expect(lines(plan.stdout)).toEqual([
      expect.stringMatching(/^GROUP\s+TOPIC\s+PARTITION\s+NEW-OFFSET$/),
      ...ends.map((end, p) =>
        expect.stringMatching(new RegExp(`^${group}\\s+${topic}\\s+${p}\\s+${Math.max(0, end - 3)}$`)),
      ),
    ]);
    expect(await offsets()).toEqual(ends);
    const dry = await sluice([
      'groups',
      'reset-offsets',
      group,
      '--all-topics',
      '--to-earliest',
      '--dry-run',
      '--json',
    ]);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toBe('');
    expect(JSON.parse(dry.stdout)).toMatchObject({
      executed: false,
      partitions: [{ newOffset: 0 }, { newOffset: 0 }],
    });
    expect(await offsets()).toEqual(ends);

    const done = await sluice([
      'groups',
      'reset-offsets',
      group,
      '--topic',
      `${topic}:1`,
      '--to-offset',
      '2',
      '--execute',
    ]);
    expect(done.code).toBe(0);
    expect(await offsets()).toEqual([ends[0], 2]);
    const earliest = await sluice([
      'groups',
      'reset-offsets',
      group,
      '--all-topics',
      '--to-earliest',
      '--execute',
    ]);
    expect(earliest.code).toBe(0);
    expect(await offsets()).toEqual([0, 0]);
    const beyond = await sluice([
      'groups',
      'reset-offsets',
      group,
      '--all-topics',
      '--to-offset',
      '100000',
      '--execute',
    ]);
    expect(beyond.code).toBe(0);
    expect(await offsets()).toEqual(ends); // clamped to the log end
    const future = await sluice([
      'groups',
      'reset-offsets',
      group,
      '--all-topics',
      '--to-datetime',
      '2999-01-01T00:00:00Z',
      '--execute',
      '--json',
    ]);
    expect(JSON.parse(future.stdout).partitions.map((p: { newOffset: number }) => p.newOffset)).toEqual(ends);
    await sluice([
      'groups',
      'reset-offsets',
      group,
      '--all-topics',
      '--to-datetime',
      '2000-01-01T00:00:00Z',
      '--execute',
    ]);
    expect(await offsets()).toEqual([0, 0]);

    // The reset takes effect: the group reads everything again.
    const again = await sluice(['consume', topic, '--group', group, '--exit-at-end', '-q']);
    expect(lines(again.stdout)).toHaveLength(40);

    const deleted = await sluice(['groups', 'delete', group]);
    expect(deleted).toMatchObject({
      code: 0,
      stdout: `Deletion of requested consumer groups ('${group}') was successful.\n`,
    });
    expect(await admin.fetchOffsets(group)).toEqual([]);
  });

  it('answers usage errors with 2 and failures with 1, on stderr', async () => {
    const usage = [
      ['groups', 'reset-offsets', 'g', '--to-earliest'],
      ['groups', 'reset-offsets', 'g', '--all-topics'],
      ['groups', 'reset-offsets', 'g', '--all-topics', '--to-earliest', '--to-latest'],
      ['groups', 'reset-offsets', 'g', '--all-topics', '--to-earliest', '--dry-run', '--execute'],
      ['groups', 'reset-offsets', 'g', '--all-topics', '--to-offset', 'x'],
      ['groups', 'describe'],
      ['groups', 'nope'],
    ];
    for (const args of usage) {
      const r = await sluice(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).not.toBe('');
      expect(r.stdout, args.join(' ')).toBe('');
    }
    const missing = await sluice(['groups', 'describe', name('missing')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^sluice: GROUP_ID_NOT_FOUND: consumer group '.*' does not exist/);
    const deleteMissing = await sluice(['groups', 'delete', name('missing')]);
    expect(deleteMissing.code).toBe(1);
    expect(deleteMissing.stderr).toMatch(/GROUP_ID_NOT_FOUND/);
    const noShift = await sluice([
      'groups',
      'reset-offsets',
      name('fresh'),
      '--topic',
      await topicWith(1, 1),
      '--shift-by',
      '1',
    ]);
    expect(noShift.code).toBe(1);
    expect(noShift.stderr).toMatch(/no committed offset/);
  });
});
