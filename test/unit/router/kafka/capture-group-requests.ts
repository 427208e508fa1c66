/**
 * Captures the golden consumer-group request frames in test/fixtures/kafka-capture/{kcat,kafkajs}-groups.json:
 * what kcat (librdkafka) and kafkajs put on the wire when they run consumer groups against Sluice.
 *
 *   node --import tsx test/unit/router/kafka/capture-group-requests.ts
 *
 * Same method as scripts/capture-kafka-requests.ts (which captures the produce/fetch/admin traffic): the
 * broker listens on 127.0.0.2:P and advertises 127.0.0.1:P, where a small TCP proxy listens and records
 * every request frame on its way through, so the clients' coordinator connections pass it too. Only the
 * group APIs are kept (FindCoordinator, JoinGroup … DeleteGroups), at most two per API, version and
 * shape (for JoinGroup: first join or rejoin). Scenarios: two kcat `-G` members sharing a topic and
 * leaving; a kafkajs consumer group with commits, then the kafkajs group admin calls.
 *
 * Frames carry member ids, generations and offsets of one run, so a new capture differs in bytes; the
 * tests only need decode → encode to give the same bytes, and the broker to answer each frame.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { API_KEYS, apiSpec } from '../../../../src/protocol/kafka/api-keys.ts';
import { decodeRequest, peekRequestHeader } from '../../../../src/protocol/kafka/request-codec.ts';
import { FrameReader } from '../../../../src/router/kafka/frame-reader.ts';

const ROOT = path.resolve(import.meta.dirname, '../../../..');
const OUT = path.join(ROOT, 'test', 'fixtures', 'kafka-capture');
const BROKER_HOST = '127.0.0.2';
const PROXY_HOST = '127.0.0.1';
const PER_SHAPE = 2;
const GROUP_APIS = new Set<number>([
  API_KEYS.FindCoordinator,
  API_KEYS.JoinGroup,
  API_KEYS.SyncGroup,
  API_KEYS.Heartbeat,
  API_KEYS.LeaveGroup,
  API_KEYS.OffsetCommit,
  API_KEYS.OffsetFetch,
  API_KEYS.DescribeGroups,
  API_KEYS.ListGroups,
  API_KEYS.DeleteGroups,
]);

interface CapturedFrame {
  api: string;
  apiKey: number;
  apiVersion: number;
  shape: string;
  hex: string;
}

type ClientName = 'kcat' | 'kafkajs';
const captured: Record<ClientName, CapturedFrame[]> = { kcat: [], kafkajs: [] };
let current: ClientName = 'kcat';

function shapeOf(frame: Uint8Array): string {
  const request = decodeRequest(frame);
  if (request.apiKey === API_KEYS.JoinGroup) return request.body.memberId === '' ? 'first join' : 'rejoin';
  if (request.apiKey === API_KEYS.SyncGroup)
    return request.body.assignments.length > 0 ? 'leader' : 'follower';
  if (request.apiKey === API_KEYS.OffsetCommit)
    return (request.body.generationIdOrMemberEpoch ?? -1) < 0 ? 'simple' : 'member';
  return '';
}

function record(client: ClientName, frame: Uint8Array): void {
  const { apiKey, apiVersion } = peekRequestHeader(frame);
  if (!GROUP_APIS.has(apiKey)) return;
  const hex = Buffer.from(frame).toString('hex');
  const shape = shapeOf(frame);
  const list = captured[client];
  if (list.some((f) => f.hex === hex)) return;
  const same = list.filter((f) => f.apiKey === apiKey && f.apiVersion === apiVersion && f.shape === shape);
  if (same.length >= PER_SHAPE) return;
  list.push({ api: apiSpec(apiKey)?.name ?? `key${apiKey}`, apiKey, apiVersion, shape, hex });
}

function startProxy(port: number): Promise<net.Server> {
  const server = net.createServer((client) => {
    const owner = current;
    const upstream = net.connect({ host: BROKER_HOST, port });
    const frames = new FrameReader(1 << 30);
    client.on('data', (chunk) => {
      upstream.write(chunk);
      frames.push(chunk);
      for (let f = frames.next(); f; f = frames.next()) record(owner, f);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(port, PROXY_HOST, () => resolve(server)));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, PROXY_HOST, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function startBroker(port: number, dataDir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      'bin/sluice.js',
      'start',
      '--data-dir',
      dataDir,
      '--host',
      BROKER_HOST,
      '--port',
      '0',
      '--kafka-port',
      String(port),
      '--advertised-host',
      PROXY_HOST,
      '--group-initial-rebalance-delay-ms',
      '0',
      '--group-min-session-timeout-ms',
      '1000',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('sluice ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`broker exited with ${code}`)));
  });
  return child;
}

/** Runs kcat until it exits, or until `stopAfterMs` (then SIGTERM: it commits and leaves). */
function kcat(bootstrap: string, args: string[], input?: string, stopAfterMs?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-b', bootstrap, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const stopper =
      stopAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), stopAfterMs);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(stopper);
      if (code === 0) resolve();
      else reject(new Error(`kcat ${args.join(' ')} failed (${code}): ${stderr}`));
    });
    child.stdin.end(input);
  });
}

async function kcatScenarios(bootstrap: string): Promise<void> {
  const lines = `${Array.from({ length: 40 }, (_, i) => `line-${i}`).join('\n')}\n`;
  await kcat(bootstrap, ['-P', '-t', 'capture-kcat-groups'], lines);
  const member = ['-G', 'capture-kcat', 'capture-kcat-groups', '-X', 'session.timeout.ms=6000'];
  const more = ['-X', 'heartbeat.interval.ms=500', '-X', 'auto.offset.reset=earliest', '-q'];
  // Two members at once (a rebalance, a leader and a follower), then each leaves.
  await Promise.all([
    kcat(bootstrap, [...member, ...more], undefined, 6000),
    kcat(bootstrap, [...member, ...more], undefined, 4000),
  ]);
  // A member of a group with commits: resumes from them and exits at the end (-e).
  await kcat(bootstrap, [...member, ...more, '-e']);
}

async function kafkajsScenarios(bootstrap: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const { Kafka, logLevel } = require('kafkajs');
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const kafka = new Kafka({ clientId: 'capture', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topic = 'capture-kafkajs-groups';
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })) });
  await producer.disconnect();
  const groupId = 'capture-kafkajs';
  const consumers = [0, 1].map(() =>
    kafka.consumer({ groupId, heartbeatInterval: 300, maxWaitTimeInMs: 100, sessionTimeout: 6000 }),
  );
  let seen = 0;
  await new Promise<void>((resolve) => {
    void (async () => {
      for (const c of consumers) {
        await c.connect();
        await c.subscribe({ topics: [topic], fromBeginning: true });
        await c.run({
          eachMessage: async () => {
            if (++seen === 10) setTimeout(resolve, 1500); // some heartbeats and commits
          },
        });
      }
    })();
  });
  for (const c of consumers) await c.disconnect();
  await admin.listGroups();
  await admin.describeGroups([groupId]);
  await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }] });
  await admin.resetOffsets({ groupId, topic, earliest: true });
  await admin.deleteGroups([groupId]);
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
}

async function main(): Promise<void> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-capture-'));
  const proxy = await startProxy(port);
  const broker = await startBroker(port, dataDir);
  const bootstrap = `${PROXY_HOST}:${port}`;
  try {
    current = 'kcat';
    await kcatScenarios(bootstrap);
    current = 'kafkajs';
    await kafkajsScenarios(bootstrap);
  } finally {
    broker.kill('SIGTERM');
    await new Promise((r) => broker.once('exit', r));
    proxy.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const kcatVersion = /Version (\S+).*librdkafka (\S+)/s.exec(spawnSync('kcat', ['-V']).stdout.toString());
  const clients: Record<ClientName, string> = {
    kcat: kcatVersion ? `kcat ${kcatVersion[1]} (librdkafka ${kcatVersion[2]})` : 'kcat',
    kafkajs: `kafkajs ${createRequire(import.meta.url)('kafkajs/package.json').version}`,
  };
  fs.mkdirSync(OUT, { recursive: true });
  for (const client of ['kcat', 'kafkajs'] as const) {
    const frames = captured[client].sort((a, b) => a.apiKey - b.apiKey || a.apiVersion - b.apiVersion);
    fs.writeFileSync(
      path.join(OUT, `${client}-groups.json`),
      `${JSON.stringify({ client: clients[client], frames }, null, 1)}\n`,
    );
    console.log(
      `${client}: ${frames.length} frames (${[...new Set(frames.map((f) => `${f.api} v${f.apiVersion} ${f.shape}`.trim()))].join(', ')})`,
    );
  }
}

await main();
