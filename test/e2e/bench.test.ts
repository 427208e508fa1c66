/**
 * `sluice bench` against the broker as a child process: a small, fast run of each workload over both
 * front doors, checking the JSON summary (the last line of stdout) and the HTML report. No
 * performance assertions: the figures come from bench/ on a quiet machine.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import { describeWithKcat } from '../unit/router/kafka/kcat.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/sluice.js');
let broker: RunningBroker;
let tmp: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bench(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'bench',
        ...args,
        '--bootstrap',
        broker.url,
        '--kafka-bootstrap',
        `127.0.0.1:${broker.kafkaPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice bench ${args.join(' ')} did not finish; stderr: ${stderr}`));
    }, 45_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The JSON summary on the last line of stdout, with the fields the issue asks for. */
function summaryOf(run: Run): Record<string, unknown> {
  expect(run.code, run.stderr).toBe(0);
  const last = run.stdout.trim().split('\n').pop()!;
  const summary = JSON.parse(last) as Record<string, unknown>;
  for (const field of ['records', 'records_per_sec', 'mb_per_sec', 'p50_ms', 'p99_ms', 'p999_ms'])
    expect(summary, field).toHaveProperty(field);
  return summary;
}

const topicName = () => `bench-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  broker = await startBrokerProcess();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-test-'));
});

afterAll(async () => {
  await broker?.stop();
  if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('sluice bench over WebSocket', () => {
  const topic = topicName();

  it('produces, with a JSON summary and a self-contained HTML report', async () => {
    const report = path.join(tmp, 'produce.html');
    const s = summaryOf(
      await bench([
        'produce',
        '--topic',
        topic,
        '--records',
        '20000',
        '--record-size',
        '50',
        '--key-size',
        '8',
        '--acks',
        '1',
        '--json',
        '--report',
        report,
      ]),
    );
    expect(s.records).toBe(20_000);
    expect(s.bytes).toBe(20_000 * 58);
    expect(s.records_per_sec).toBeGreaterThan(0);
    expect(s.p50_ms).toBeGreaterThan(0);
    expect(s.p999_ms as number).toBeGreaterThanOrEqual(s.p50_ms as number);
    const html = fs.readFileSync(report, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).toContain('Throughput over time');
    expect(html).toContain('Latency distribution');
    // Self-contained: nothing fetched from anywhere (the only URL is SVG's namespace).
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
  });

  it('consumes the topic from the beginning, every record', async () => {
    const s = summaryOf(await bench(['consume', '--topic', topic, '--json']));
    expect(s.records).toBe(20_000);
    expect(s.bytes).toBe(20_000 * 58);
  });

  it('consumes with several consumers sharing the partitions, and stops after --records', async () => {
    const t = topicName();
    summaryOf(
      await bench([
        'produce',
        '--topic',
        t,
        '--partitions',
        '3',
        '--records',
        '3000',
        '--producers',
        '2',
        '--json',
      ]),
    );
    expect(summaryOf(await bench(['consume', '--topic', t, '--consumers', '3', '--json'])).records).toBe(
      3000,
    );
    expect(
      summaryOf(await bench(['consume', '--topic', t, '--records', '1000', '--json'])).records,
    ).toBeGreaterThanOrEqual(1000);
  });

  it('consumes as a consumer group, two members sharing the partitions', async () => {
    const t = topicName();
    summaryOf(await bench(['produce', '--topic', t, '--partitions', '2', '--records', '4000', '--json']));
    const run = await bench(['consume', '--topic', t, '--group', `g-${t}`, '--consumers', '2', '--json']);
    expect(summaryOf(run).records).toBe(4000);
    expect(run.stderr).toMatch(/first batch \d+ ms after joining/);
  });

  it('produces at a fixed rate for a duration', async () => {
    const s = summaryOf(
      await bench(['produce', '--topic', topicName(), '--rate', '2000', '--duration', '1', '--json']),
    );
    expect(s.records as number).toBeGreaterThan(1000);
    expect(s.records as number).toBeLessThanOrEqual(2100);
  });

  it('measures produce-to-consume latency at a fixed rate (e2e)', async () => {
    const report = path.join(tmp, 'e2e.html');
    const s = summaryOf(
      await bench([
        'e2e',
        '--topic',
        topicName(),
        '--rate',
        '1000',
        '--duration',
        '1',
        '--warmup',
        '0.2',
        '--json',
        '--report',
        report,
      ]),
    );
    expect(s.records as number).toBeGreaterThan(500);
    expect(s.p50_ms).toBeGreaterThan(0);
    expect(fs.existsSync(report)).toBe(true);
  });

  it('prints a readable summary without --json, progress on stderr', async () => {
    const run = await bench([
      'produce',
      '--topic',
      topicName(),
      '--records',
      '1000',
      '--progress-interval',
      '0.5',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/records\/s, .* MB\/s/);
    expect(run.stdout).toMatch(/p99\.9/);
  });

  it('rejects bad usage with exit code 2', async () => {
    const both = await bench(['produce', '--records', '10', '--duration', '1']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--records or --duration/);
    expect((await bench(['produce', '--protocol', 'mqtt'])).code).toBe(2);
  });
});

describeWithKcat('sluice bench over the Kafka front door', () => {
  const topic = topicName();

  it('produces with kcat (no per-record latency: kcat reports none)', async () => {
    const s = summaryOf(
      await bench([
        'produce',
        '--protocol',
        'kafka',
        '--topic',
        topic,
        '--records',
        '5000',
        '--acks',
        '1',
        '--json',
      ]),
    );
    expect(s.records).toBe(5000);
    expect(s.p50_ms).toBeNull();
  });

  it('consumes with kcat', async () => {
    const s = summaryOf(await bench(['consume', '--protocol', 'kafka', '--topic', topic, '--json']));
    expect(s.records).toBe(5000);
    expect(s.bytes).toBe(5000 * 100);
  });

  it('produces with kafkajs, with latencies', async () => {
    const s = summaryOf(
      await bench([
        'produce',
        '--protocol',
        'kafka',
        '--kafka-client',
        'kafkajs',
        '--topic',
        topicName(),
        '--records',
        '3000',
        '--acks',
        '1',
        '--json',
      ]),
    );
    expect(s.records).toBe(3000);
    expect(s.p50_ms).toBeGreaterThan(0);
  });

  it('consumes with kafkajs in a consumer group, and with kcat -G', async () => {
    const kafkajs = summaryOf(
      await bench([
        'consume',
        '--protocol',
        'kafka',
        '--kafka-client',
        'kafkajs',
        '--topic',
        topic,
        '--json',
      ]),
    );
    expect(kafkajs.records).toBe(5000);
    const kcatGroup = summaryOf(
      await bench([
        'consume',
        '--protocol',
        'kafka',
        '--topic',
        topic,
        '--group',
        `kg-${topic}`,
        '--records',
        '5000',
        '--json',
      ]),
    );
    expect(kcatGroup.records).toBe(5000);
  });

  it('measures e2e latency with kcat on both sides', async () => {
    const s = summaryOf(
      await bench([
        'e2e',
        '--protocol',
        'kafka',
        '--topic',
        topicName(),
        '--rate',
        '500',
        '--duration',
        '1',
        '--warmup',
        '0.2',
        '--json',
      ]),
    );
    expect(s.records as number).toBeGreaterThan(200);
  });
});
