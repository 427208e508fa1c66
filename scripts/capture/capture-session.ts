/**
 * What the frame-capture scripts share (scripts/capture-kafka-requests.ts, scripts/capture-group-requests.ts):
 * a broker child process listening on 127.0.0.2:P and advertising 127.0.0.1:P, where a small TCP proxy
 * listens, so clients bootstrap through the proxy and, following the metadata, come back to it for every
 * later connection (coordinator connections included). The proxy cuts each client's byte stream into
 * frames (the broker's own FrameReader) and keeps each distinct request, at most two per client, API,
 * version and shape; `write` stores them as test/fixtures/kafka-capture/<client><suffix>.json:
 * { client, frames: [{ api, apiKey, apiVersion, shape, hex }] }, frames without their size prefix.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { apiSpec } from '../../src/protocol/kafka/api-keys.ts';
import { peekRequestHeader } from '../../src/protocol/kafka/request-codec.ts';
import { FrameReader } from '../../src/router/kafka/frame-reader.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const OUT = path.join(ROOT, 'test', 'fixtures', 'kafka-capture');
const BROKER_HOST = '127.0.0.2';
const PROXY_HOST = '127.0.0.1';
/** Distinct frames kept per client, API, version and shape. */
const PER_SHAPE = 2;

export interface CapturedFrame {
  api: string;
  apiKey: number;
  apiVersion: number;
  /** What distinguishes this frame from others of its API and version. */
  shape: string;
  hex: string;
}

export type ClientName = 'kcat' | 'kafkajs';

export interface CaptureOptions {
  /** Shape of a frame (e.g. Produce: acks and codec; JoinGroup: first join or rejoin). */
  shapeOf: (frame: Uint8Array) => string;
  /** Which API keys to keep (default: all). */
  keep?: (apiKey: number) => boolean;
  /** Extra `sluice start` arguments. */
  brokerArgs?: string[];
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

export class CaptureSession {
  /** The client whose connections are opened from now on (a connection keeps its owner). */
  client: ClientName = 'kcat';
  readonly bootstrap: string;
  private readonly captured: Record<ClientName, CapturedFrame[]> = { kcat: [], kafkajs: [] };

  private constructor(
    private readonly options: CaptureOptions,
    private readonly port: number,
    private readonly dataDir: string,
    private proxy?: net.Server,
    private broker?: ChildProcess,
  ) {
    this.bootstrap = `${PROXY_HOST}:${port}`;
  }

  static async start(options: CaptureOptions): Promise<CaptureSession> {
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-capture-'));
    const session = new CaptureSession(options, port, dataDir);
    session.proxy = await session.startProxy();
    session.broker = await session.startBroker();
    return session;
  }

  async stop(): Promise<void> {
    const broker = this.broker;
    if (broker) {
      broker.kill('SIGTERM');
      await new Promise((r) => broker.once('exit', r));
    }
    this.proxy?.close();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Write each client's frames to `<client><suffix>.json` and print a summary. */
  write(suffix: string): void {
    const kcatVersion = /Version (\S+).*librdkafka (\S+)/s.exec(spawnSync('kcat', ['-V']).stdout.toString());
    const clients: Record<ClientName, string> = {
      kcat: kcatVersion ? `kcat ${kcatVersion[1]} (librdkafka ${kcatVersion[2]})` : 'kcat',
      kafkajs: `kafkajs ${createRequire(import.meta.url)('kafkajs/package.json').version}`,
    };
    fs.mkdirSync(OUT, { recursive: true });
    for (const client of ['kcat', 'kafkajs'] as const) {
      const frames = this.captured[client].sort((a, b) => a.apiKey - b.apiKey || a.apiVersion - b.apiVersion);
      fs.writeFileSync(
        path.join(OUT, `${client}${suffix}.json`),
        `${JSON.stringify({ client: clients[client], frames }, null, 1)}\n`,
      );
      const kinds = new Set(frames.map((f) => `${f.api} v${f.apiVersion} ${f.shape}`.trim()));
      console.log(`${client}: ${frames.length} frames (${[...kinds].join(', ')})`);
    }
  }

  private record(client: ClientName, frame: Uint8Array): void {
    const { apiKey, apiVersion } = peekRequestHeader(frame);
    if (this.options.keep && !this.options.keep(apiKey)) return;
    const hex = Buffer.from(frame).toString('hex');
    const shape = this.options.shapeOf(frame);
    const list = this.captured[client];
    if (list.some((f) => f.hex === hex)) return;
    const same = list.filter((f) => f.apiKey === apiKey && f.apiVersion === apiVersion && f.shape === shape);
    if (same.length >= PER_SHAPE) return;
    list.push({ api: apiSpec(apiKey)?.name ?? `key${apiKey}`, apiKey, apiVersion, shape, hex });
  }

  private startProxy(): Promise<net.Server> {
    const server = net.createServer((client) => {
      const owner = this.client;
      const upstream = net.connect({ host: BROKER_HOST, port: this.port });
      const frames = new FrameReader(1 << 30);
      client.on('data', (chunk) => {
        upstream.write(chunk);
        frames.push(chunk);
        for (let f = frames.next(); f; f = frames.next()) this.record(owner, f);
      });
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('error', () => {});
      upstream.on('error', () => {});
    });
    return new Promise((resolve) => server.listen(this.port, PROXY_HOST, () => resolve(server)));
  }

  private async startBroker(): Promise<ChildProcess> {
    const args = ['bin/sluice.js', 'start', '--data-dir', this.dataDir, '--host', BROKER_HOST, '--port', '0'];
    args.push(
      '--kafka-port',
      String(this.port),
      '--advertised-host',
      PROXY_HOST,
      ...(this.options.brokerArgs ?? []),
    );
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('sluice ready')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`broker exited with ${code}`)));
    });
    return child;
  }
}

/**
 * Run kcat asynchronously (the proxy lives on this event loop) until it exits, or until `stopAfterMs`
 * (then SIGTERM: a group member commits and leaves).
 */
export function kcat(bootstrap: string, args: string[], input?: string, stopAfterMs?: number): Promise<void> {
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
