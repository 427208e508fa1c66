/**
 * The `sluice` command line against the broker as a child process: topic admin, produce from stdin,
 * consume, offsets; JSON output; exit codes and error messages.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/client/index.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/sluice.js');
let broker: RunningBroker;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sluice(args: string[], input?: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, SLUICE_BOOTSTRAP: broker.url, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice ${args.join(' ')} did not finish; stderr: ${stderr}`));
    }, 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

const topicName = () => `cli-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  broker = await startBrokerProcess();
});

afterAll(async () => {
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
});

describe('sluice topics', () => {
  it('creates, lists, describes, alters and deletes topics', async () => {
    const t = topicName();
    const created = await sluice([
      'topics',
      'create',
      t,
      '--partitions',
      '3',
      '--config',
      'retention.ms=60000',
    ]);
    expect(created).toMatchObject({ code: 0, stdout: `Created topic ${t} with 3 partitions.\n` });
    expect((await sluice(['topics', 'create', t, '--if-not-exists'])).code).toBe(0);
    const again = await sluice(['topics', 'create', t]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/TOPIC_ALREADY_EXISTS/);
    expect(JSON.parse((await sluice(['topics', 'list', '--json'])).stdout)).toContain(t);
    const described = JSON.parse((await sluice(['topics', 'describe', t, '--json'])).stdout);
    expect(described[0]).toMatchObject({ name: t, configs: { 'retention.ms': '60000' } });
    expect(described[0].partitions).toHaveLength(3);
    expect(
      (await sluice(['topics', 'alter', t, '--partitions', '5', '--delete-config', 'retention.ms'])).code,
    ).toBe(0);
    const altered = JSON.parse((await sluice(['topics', 'describe', t, '--json'])).stdout)[0];
    expect(altered.partitions).toHaveLength(5);
    expect(altered.configs).toEqual({});
    const text = await sluice(['topics', 'describe', t]);
    expect(text.stdout).toMatch(new RegExp(`^Topic: ${t}\\tTopicId: [0-9a-f-]{36}\\tPartitionCount: 5`));
    expect((await sluice(['topics', 'delete', t])).stdout).toBe(`Deleted topic ${t}.\n`);
    expect(JSON.parse((await sluice(['topics', 'list', '--json'])).stdout)).not.toContain(t);
  });

  it('answers usage errors with exit code 2 and failures with exit code 1, on stderr', async () => {
    const usage = await sluice(['topics', 'create', 'x', '--partitions', 'many']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--partitions expects an integer/);
    expect((await sluice(['no-such-command'])).code).toBe(2);
    const help = await sluice(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: sluice/);
    const badName = await sluice(['topics', 'create', 'bad name']);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/INVALID_TOPIC_EXCEPTION/);
    const noBroker = await sluice(['topics', 'list'], undefined, { SLUICE_BOOTSTRAP: 'ws://127.0.0.1:1' });
    expect(noBroker.code).toBe(1);
    expect(noBroker.stderr).toMatch(/^sluice: /);
  });
});

describe('sluice produce and consume', () => {
  it('round-trips keyed lines through murmur2 partitions, with every print option', async () => {
    const t = topicName();
    await sluice(['topics', 'create', t, '--partitions', '4']);
    const lines = Array.from({ length: 200 }, (_, i) => `key-${i % 17}|value ${i} ✓`);
    const produced = await sluice(
      ['produce', t, '--key-separator', '|', '--compression', 'lz4', '--header', 'source=cli'],
      `${lines.join('\n')}\n`,
    );
    expect(produced.code).toBe(0);
    expect(produced.stderr).toMatch(/produced 200 records/);
    const consumed = await sluice(['consume', t, '--from-beginning', '--exit-at-end', '--json', '-q']);
    expect(consumed.code).toBe(0);
    const records = consumed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(200);
    for (const r of records) {
      expect(r.partition).toBe(partitionForKey(r.key, 4));
      expect(r.headers).toEqual({ source: 'cli' });
    }
    // Within a partition, lines keep their order.
    for (let p = 0; p < 4; p++) {
      const mine = records.filter((r) => r.partition === p).map((r) => `${r.key}|${r.value}`);
      expect(mine).toEqual(lines.filter((l) => partitionForKey(l.split('|')[0]!, 4) === p));
    }
    const one = await sluice([
      'consume',
      t,
      '--partition',
      '0',
      '--offset',
      '2',
      '--max-messages',
      '1',
      '--print-key',
      '--print-offset',
      '--key-separator',
      ' ',
      '-q',
    ]);
    const first = records.filter((r) => r.partition === 0)[2];
    expect(one.stdout).toBe(`0:2 ${first.key} ${first.value}\n`);
  });

  it('prints earliest and latest offsets, and offsets for a time', async () => {
    const t = topicName();
    await sluice(['topics', 'create', t, '--partitions', '2']);
    await sluice(['produce', t, '--partition', '1', '-q'], 'a\nb\nc\n');
    const offsets = JSON.parse((await sluice(['offsets', t, '--json'])).stdout);
    expect(offsets).toEqual([
      { partition: 0, earliest: 0, latest: 0 },
      { partition: 1, earliest: 0, latest: 3 },
    ]);
    const atTime = JSON.parse((await sluice(['offsets', t, '--time', '0', '--json'])).stdout);
    expect(atTime).toEqual([
      { partition: 0, offset: -1, timestamp: -1 },
      { partition: 1, offset: 0, timestamp: expect.any(Number) },
    ]);
  });
});
