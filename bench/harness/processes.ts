/**
 * What the side-by-side benchmark scripts share: starting the systems under test as processes of
 * their own on loopback (the Sluice broker, the bare pipeline), running a load generator as another
 * process and reading its JSON summary, medians, and a Markdown table on stdout.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { type RunningBroker, startBrokerProcess } from '../../test/helpers/broker.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = ['--import', 'tsx'];

export type { RunningBroker };

/** A fresh temp directory under `SLUICE_BENCH_DIR` (default: the OS temp dir, i.e. the same disk as /tmp). */
export function tempDir(prefix: string): string {
  const base = process.env.SLUICE_BENCH_DIR ?? os.tmpdir();
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, prefix));
}

/** The Sluice broker on 127.0.0.1, ports chosen by the OS, a fresh data directory. */
export async function startSluice(args: string[] = []): Promise<RunningBroker> {
  return startBrokerProcess({ dataDir: tempDir('sluice-bench-'), args });
}

export async function stopSluice(broker: RunningBroker): Promise<void> {
  await broker.stop('SIGTERM');
  fs.rmSync(broker.dataDir, { recursive: true, force: true });
}

/** A long-running process that prints a ready line; resolves with the line's match once it did. */
export async function startServer(
  command: string,
  args: string[],
  ready: RegExp,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ match: RegExpExecArray; stop: () => Promise<void>; pid: number }> {
  const child = spawn(command, args, { cwd: options.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command} not ready; output:\n${output}`)),
      options.timeoutMs ?? 20_000,
    );
    for (const stream of [child.stdout!, child.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        output += `${line}\n`;
        const m = ready.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      });
    }
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    match,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Run a command to completion; resolves with the JSON object on the last line of its stdout. */
export async function runJson<T = Record<string, unknown>>(
  command: string,
  args: string[],
  timeoutMs = 300_000,
): Promise<T> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  const last = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !last.startsWith('{'))
    throw new Error(
      `${command} ${args.join(' ')} failed (exit ${code}):\n${stderr.slice(-4000)}${stdout.slice(-2000)}`,
    );
  return JSON.parse(last) as T;
}

/** `sluice bench …` as its own process; resolves with its JSON summary. */
export function sluiceBench<T = BenchJson>(args: string[]): Promise<T> {
  return runJson<T>(process.execPath, [
    path.join(ROOT, 'bin/sluice.js'),
    'bench',
    ...args,
    '--json',
    '--quiet',
  ]);
}

/** A TypeScript script of bench/ as its own process. */
export function tsScript<T = Record<string, unknown>>(script: string, args: string[]): Promise<T> {
  return runJson<T>(process.execPath, [...TSX, path.join(ROOT, script), ...args]);
}

/** The fields of a `sluice bench --json` summary that the tables use. */
export interface BenchJson {
  records: number;
  seconds: number;
  records_per_sec: number;
  mb_per_sec: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  p999_ms: number | null;
  max_ms: number | null;
  [key: string]: unknown;
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const fmtInt = (x: number): string =>
  Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–';
export const fmtMs = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1);
export const fmtRatio = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');

/** A Markdown table on stdout (and returned, for files). */
export function markdownTable(headers: string[], rows: string[][]): string {
  const lines = [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(text);
  return text;
}

export function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** One line about the machine, for the results. */
export function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node.js ${process.version}, ${os.type()} ${os.release()}`;
}

/** The bare pipeline's server (bench/limits/bare-server.ts) on a fresh directory. */
export async function startBare(): Promise<{ url: string; dir: string; stop: () => Promise<void> }> {
  const dir = tempDir('sluice-bare-');
  const server = await startServer(
    process.execPath,
    [...TSX, path.join(ROOT, 'bench/limits/bare-server.ts'), '--dir', dir],
    /bare ready (ws:\/\/\S+)/,
  );
  return {
    url: server.match[1]!,
    dir,
    stop: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
