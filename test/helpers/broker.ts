/**
 * Test harness: run the real broker (`bin/sluice.js start`) as a child process on 127.0.0.1 with
 * port 0, wait for its ready line, and stop (SIGTERM) or kill (SIGKILL) it. Restart keeps the data
 * directory. Broker stderr is kept for failure messages.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/sluice.js');

export interface BrokerOptions {
  dataDir?: string;
  /** Extra `sluice start` arguments, e.g. ['--num-partitions', '3']. */
  args?: string[];
  env?: Record<string, string>;
}

export interface RunningBroker {
  /** ws://127.0.0.1:PORT */
  url: string;
  httpUrl: string;
  kafkaPort: number;
  dataDir: string;
  pid: number;
  process: ChildProcess;
  /** Everything the broker wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM (graceful, waits for exit) or SIGKILL. Resolves with the exit code (null when killed). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
  /** Stop (SIGTERM unless already stopped) and start again on the same data directory. */
  restart(): Promise<RunningBroker>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export async function startBrokerProcess(options: BrokerOptions = {}): Promise<RunningBroker> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-e2e-'));
  const args = [
    BIN,
    'start',
    '--data-dir',
    dataDir,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--kafka-port',
    '0',
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    });
  });
  const ready = await new Promise<{ url: string; httpUrl: string; kafkaPort: number }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`broker not ready after 30 s; stderr:\n${stderr}`)),
      30_000,
    );
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = /^sluice ready ws=(\S+) http=(\S+) kafka=\S+:(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, httpUrl: m[2]!, kafkaPort: Number(m[3]) });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before it was ready; stderr:\n${stderr}`));
    });
  });
  let stopped = false;
  const broker: RunningBroker = {
    ...ready,
    dataDir,
    pid: child.pid!,
    process: child,
    stderr: () => stderr,
    async stop(signal = 'SIGTERM') {
      if (!stopped) {
        stopped = true;
        child.kill(signal);
      }
      return exited;
    },
    async restart() {
      await broker.stop('SIGTERM');
      return startBrokerProcess({ ...options, dataDir });
    },
  };
  return broker;
}
