/**
 * Captures the golden Kafka request frames in test/fixtures/kafka-capture/: what kcat (librdkafka)
 * and kafkajs actually put on the wire when they talk to Sluice, recorded by a small TCP proxy on
 * loopback.
 *
 *   node --import tsx scripts/capture-kafka-requests.ts
 *
 * The broker (bin/sluice.js, a child process) listens on 127.0.0.2:P and advertises 127.0.0.1:P,
 * where the proxy listens: clients bootstrap through the proxy and, following the metadata, come
 * back to it for every later connection, so every request passes it. The proxy cuts the client's
 * byte stream into frames (the same FrameReader the broker uses) and keeps each distinct request,
 * at most two per API, version and shape (for Produce: acks, codec, idempotence). Each client runs
 * the scenarios its users run: metadata, topic admin, produce with every codec, acks setting and
 * idempotence, consume from several offsets, offsets for times.
 *
 * Writes `kcat.json` and `kafkajs.json`: { client, frames: [{ api, apiKey, apiVersion, shape, hex }] },
 * frames without their size prefix. Requests carry timestamps, producer ids and client ids, so a
 * new capture differs in bytes; the test only needs decode → encode to give back the same bytes.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { API_KEYS, apiSpec } from '../src/protocol/kafka/api-keys.ts';
import { readBatchHeader } from '../src/protocol/kafka/record-batch.ts';
import { decodeRequest, peekRequestHeader } from '../src/protocol/kafka/request-codec.ts';
import { FrameReader } from '../src/router/kafka/frame-reader.ts';
// Registers kafkajs's snappy, lz4 and zstd codecs.
import '../test/unit/protocol/kafka/kafkajs-glue.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'test', 'fixtures', 'kafka-capture');
const BROKER_HOST = '127.0.0.2';
const PROXY_HOST = '127.0.0.1';
/** Distinct frames kept per client, API, version and shape. */
const PER_SHAPE = 2;

interface CapturedFrame {
  api: string;
  apiKey: number;
  apiVersion: number;
  /** What distinguishes this frame from others of its API and version. */
  shape: string;
  hex: string;
}

type ClientName = 'kcat' | 'kafkajs';
const captured: Record<ClientName, CapturedFrame[]> = { kcat: [], kafkajs: [] };
let current: ClientName = 'kcat';

/** Produce frames differ by acks, codec and idempotence: keep one of each. */
function shapeOf(frame: Uint8Array): string {
  const request = decodeRequest(frame);
  if (request.apiKey !== API_KEYS.Produce) return '';
  const records = request.body.topicData[0]?.partitionData[0]?.records;
  const header = records && records.byteLength >= 61 ? readBatchHeader(records) : undefined;
  return `acks=${request.body.acks} ${header?.compression ?? '-'}${(header?.producerId ?? -1) >= 0 ? ' idempotent' : ''}`;
}

function record(client: ClientName, frame: Uint8Array): void {
  const { apiKey, apiVersion } = peekRequestHeader(frame);
  const hex = Buffer.from(frame).toString('hex');
  const shape = shapeOf(frame);
  const list = captured[client];
  if (list.some((f) => f.hex === hex)) return;
  const same = list.filter((f) => f.apiKey === apiKey && f.apiVersion === apiVersion && f.shape === shape);
  if (same.length >= PER_SHAPE) return;
  list.push({ api: apiSpec(apiKey)?.name ?? `key${apiKey}`, apiKey, apiVersion, shape, hex });
}

function startProxy(port: number, brokerPort: () => number): Promise<net.Server> {
  const server = net.createServer((client) => {
    const owner = current;
    const upstream = net.connect({ host: BROKER_HOST, port: brokerPort() });
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

/** Runs kcat asynchronously: the proxy lives on this event loop. */
function kcat(bootstrap: string, args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-b', bootstrap, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`kcat ${args.join(' ')} failed (${code}): ${stderr}`));
    });
    child.stdin.end(input);
  });
}

async function kcatScenarios(bootstrap: string): Promise<void> {
  const lines = (tag: string) =>
    `${Array.from({ length: 10 }, (_, i) => `${tag}-${i}-${'x'.repeat(50)}`).join('\n')}\n`;
  await kcat(bootstrap, ['-L']);
  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    await kcat(bootstrap, ['-P', '-t', 'capture-kcat', '-z', codec], lines(codec));
  }
  for (const acks of ['0', '1', 'all'])
    await kcat(bootstrap, ['-P', '-t', 'capture-kcat', '-X', `acks=${acks}`], lines(acks));
  await kcat(
    bootstrap,
    ['-P', '-t', 'capture-kcat', '-X', 'enable.idempotence=true', '-K:', '-H', 'h=1'],
    'k:v\n',
  );
  await kcat(bootstrap, ['-C', '-t', 'capture-kcat', '-o', 'beginning', '-e', '-q']);
  await kcat(bootstrap, ['-C', '-t', 'capture-kcat', '-o', '-2', '-e', '-q']);
  await kcat(bootstrap, ['-C', '-t', 'capture-kcat', '-o', `s@${Date.now() - 60_000}`, '-e', '-q']);
  await kcat(bootstrap, ['-Q', '-t', `capture-kcat:0:${Date.now() - 60_000}`]);
}

async function kafkajsScenarios(bootstrap: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const { Kafka, CompressionTypes, logLevel } = require('kafkajs');
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const kafka = new Kafka({ clientId: 'capture', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'capture-kafkajs', numPartitions: 2 }] });
  await admin.listTopics();
  await admin.fetchTopicMetadata({ topics: ['capture-kafkajs'] });
  await admin.describeConfigs({ resources: [{ type: 2, name: 'capture-kafkajs' }], includeSynonyms: false });
  const producer = kafka.producer();
  await producer.connect();
  for (const codec of ['None', 'GZIP', 'Snappy', 'LZ4', 'ZSTD']) {
    await producer.send({
      topic: 'capture-kafkajs',
      compression: CompressionTypes[codec],
      messages: [
        { key: 'k1', value: `v1-${codec}`, headers: { h: 'x' } },
        { key: null, value: `v2-${codec}` },
      ],
    });
  }
  await producer.disconnect();
  const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await idempotent.connect();
  await idempotent.send({ topic: 'capture-kafkajs', messages: [{ value: 'once' }] });
  await idempotent.disconnect();
  await admin.fetchTopicOffsets('capture-kafkajs');
  await admin.fetchTopicOffsetsByTimestamp('capture-kafkajs', Date.now() - 60_000);
  await admin.createPartitions({ topicPartitions: [{ topic: 'capture-kafkajs', count: 3 }] });
  await admin.deleteTopics({ topics: ['capture-kafkajs'] });
  await admin.disconnect();
}

async function main(): Promise<void> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-capture-'));
  const proxy = await startProxy(port, () => port);
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
      path.join(OUT, `${client}.json`),
      `${JSON.stringify({ client: clients[client], frames }, null, 1)}\n`,
    );
    console.log(
      `${client}: ${frames.length} frames (${[...new Set(frames.map((f) => `${f.api} v${f.apiVersion}`))].join(', ')})`,
    );
  }
}

await main();
