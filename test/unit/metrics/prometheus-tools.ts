/**
 * Prometheus and promtool (Debian's `prometheus` package) for the metrics tests: find them, run
 * promtool with bounded time, and start a private Prometheus server on 127.0.0.1 (a free port,
 * temporary storage, our own config) as a plain child process, never the system service.
 *
 * In CI (CI=true) a missing binary fails the tests that need it; elsewhere they are skipped with a
 * message saying why.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';

function which(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const p = found.stdout.trim().split('\n')[0];
  return found.status === 0 && p ? p : undefined;
}

export const PROMETHEUS = which('prometheus');
export const PROMTOOL = which('promtool');
const inCi = process.env.CI === 'true' || process.env.CI === '1';

/** `describe` when the tool is installed or we are in CI (where its absence must fail), else skipped. */
export function describeWith(tool: 'promtool' | 'prometheus', name: string, tests: () => void): void {
  const missing = (tool === 'promtool' ? PROMTOOL : PROMETHEUS) === undefined;
  if (missing && !inCi) {
    console.warn(
      `${tool} is not installed: skipping "${name}" (apt-get install prometheus; CI fails instead)`,
    );
  }
  describe.skipIf(missing && !inCi)(name, tests);
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run promtool with `args` (in `cwd`), feeding `input` on stdin; rejects after `timeoutMs`. */
export function promtool(
  args: string[],
  options: { input?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<ToolResult> {
  if (PROMTOOL === undefined)
    return Promise.reject(new Error('promtool is not installed (apt-get install prometheus)'));
  const { input, cwd, timeoutMs = 30_000 } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`promtool ${args.join(' ')} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface PrometheusServer {
  url: string;
  /** Instant query; rejects unless Prometheus answers status "success". */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** GET an API path (e.g. /api/v1/rules) and return its `data`. */
  api<T>(pathAndQuery: string): Promise<T>;
  stderr(): string;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** host:port of the targets of job `sluice`. */
  targets: string[];
  scrapeIntervalSeconds?: number;
  /** Rule files to load (absolute paths). */
  ruleFiles?: string[];
}

/** Start Prometheus on 127.0.0.1 with temporary storage; resolves once /-/ready answers. */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  if (PROMETHEUS === undefined) throw new Error('prometheus is not installed (apt-get install prometheus)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-prometheus-'));
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    ...(options.ruleFiles?.length
      ? ['rule_files:', ...options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)]
      : []),
    'scrape_configs:',
    '  - job_name: sluice',
    `    scrape_timeout: ${interval}`,
    '    static_configs:',
    `      - targets: ${JSON.stringify(options.targets)}`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);

  // A port taken between freePort() and Prometheus binding it makes Prometheus exit: try again.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const url = `http://127.0.0.1:${port}`;
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const ready = await waitReady(url, child, 30_000);
    if (!ready) {
      child.kill('SIGKILL');
      await exited;
      if (attempt < 3 && /address already in use/.test(stderr)) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`prometheus did not become ready; stderr:\n${stderr}`);
    }
    const api = async <T>(pathAndQuery: string): Promise<T> => {
      const res = await fetch(`${url}${pathAndQuery}`);
      const body = (await res.json()) as { status: string; data: T; error?: string };
      if (body.status !== 'success') throw new Error(`${pathAndQuery}: ${body.error ?? res.status}`);
      return body.data;
    };
    return {
      url,
      api,
      async query(expr) {
        const data = await api<{ resultType: string; result: unknown }>(
          `/api/v1/query?query=${encodeURIComponent(expr)}`,
        );
        if (data.resultType !== 'vector') throw new Error(`${expr}: result type ${data.resultType}`);
        return data.result as { metric: Record<string, string>; value: [number, string] }[];
      },
      stderr: () => stderr,
      async stop() {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
