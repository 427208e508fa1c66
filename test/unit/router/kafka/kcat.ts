/**
 * kcat (librdkafka) for end-to-end tests: find it, run it with bounded time, parse its consumer
 * output byte-exactly. In CI (CI=true) a missing kcat fails the tests that need it; elsewhere they
 * are skipped with a message saying why.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { describe } from 'vitest';

function findKcat(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v kcat || command -v kafkacat'], { encoding: 'utf8' });
  const path = found.stdout.trim().split('\n')[0];
  return found.status === 0 && path ? path : undefined;
}

export const KCAT = findKcat();
const inCi = process.env.CI === 'true' || process.env.CI === '1';

if (KCAT === undefined && !inCi) {
  console.warn(
    'kcat is not installed: skipping the kcat tests (apt-get install kcat; in CI they fail instead)',
  );
}

/** `describe` when kcat is installed or we are in CI (where its absence must fail), else skipped. */
export function describeWithKcat(name: string, tests: () => void): void {
  describe.skipIf(KCAT === undefined && !inCi)(name, tests);
}

export interface KcatResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Run kcat with `args`, feeding `input` on stdin; rejects after `timeoutMs` (killing it). */
export function kcat(args: string[], input?: Uint8Array | string, timeoutMs = 30_000): Promise<KcatResult> {
  if (KCAT === undefined) return Promise.reject(new Error('kcat is not installed (apt-get install kcat)'));
  return new Promise((resolve, reject) => {
    const child = spawn(KCAT, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kcat ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.on('error', () => {}); // kcat may exit before reading everything
    child.stdin.end(input === undefined ? undefined : Buffer.from(input));
  });
}

/** kcat, expecting exit code 0 and (unless allowed) no error lines on stderr. */
export async function kcatOk(
  args: string[],
  input?: Uint8Array | string,
  timeoutMs?: number,
): Promise<Buffer> {
  const r = await kcat(args, input, timeoutMs);
  if (r.code !== 0 || /error|fail/i.test(r.stderr)) {
    throw new Error(`kcat ${args.join(' ')} exited with ${r.code}; stderr:\n${r.stderr || '(empty)'}`);
  }
  return r.stdout;
}

/** The consumer output format `parseConsumed` reads: lengths first, so binary keys and values survive. */
export const CONSUME_FORMAT = '%p|%o|%T|%K|%S|%h|%k%s\n';

export interface ConsumedRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /** kcat's `n=v,n=v` rendering ('' when none). */
  headers: string;
}

/** Parse kcat -C -f CONSUME_FORMAT output (header values must not contain '|'). */
export function parseConsumed(out: Buffer): ConsumedRecord[] {
  const records: ConsumedRecord[] = [];
  let pos = 0;
  const field = (): string => {
    const end = out.indexOf(0x7c, pos); // '|'
    if (end < 0) throw new Error(`bad kcat output at ${pos}: ${out.subarray(pos, pos + 80).toString()}`);
    const text = out.subarray(pos, end).toString('latin1');
    pos = end + 1;
    return text;
  };
  while (pos < out.length) {
    const partition = Number(field());
    const offset = Number(field());
    const timestamp = Number(field());
    const keyLength = Number(field());
    const valueLength = Number(field());
    const headers = field();
    const key = keyLength < 0 ? null : out.subarray(pos, pos + keyLength);
    pos += Math.max(0, keyLength);
    const value = valueLength < 0 ? null : out.subarray(pos, pos + valueLength);
    pos += Math.max(0, valueLength);
    if (out[pos] !== 0x0a) throw new Error(`bad kcat output: no newline after record at offset ${offset}`);
    pos++;
    records.push({ partition, offset, timestamp, key, value, headers });
  }
  return records;
}

/** A kcat that keeps running (a `-G` group member): its output so far, and waits on it. */
export interface KcatProcess {
  readonly pid: number;
  /** stdout so far. */
  stdout(): Buffer;
  /** stderr so far. */
  stderr(): string;
  /** Resolves when `predicate` holds (checked on every output); rejects after `ms` or if kcat exits. */
  waitFor(predicate: () => boolean, ms: number, what: string): Promise<void>;
  /** Call `listener` on every output (stdout or stderr) and on exit. */
  onOutput(listener: () => void): void;
  /** Send `signal` (SIGTERM lets kcat leave its group and commit) and wait for the exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
}

/** Start kcat with `args` and leave it running (killed at the latest when the test process exits). */
export function spawnKcat(args: string[]): KcatProcess {
  if (KCAT === undefined) throw new Error('kcat is not installed (apt-get install kcat)');
  const child = spawn(KCAT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const out: Buffer[] = [];
  let stderr = '';
  let exitCode: number | null | undefined;
  const watchers = new Set<() => void>();
  const changed = () => {
    for (const w of [...watchers]) w();
  };
  child.stdout.on('data', (d: Buffer) => {
    out.push(d);
    changed();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    changed();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      running.delete(child);
      exitCode = code;
      changed();
      resolve(code);
    }),
  );
  return {
    pid: child.pid!,
    stdout: () => Buffer.concat(out),
    stderr: () => stderr,
    waitFor(predicate, ms, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate()) {
            finish();
            resolve();
          } else if (exitCode !== undefined) {
            finish();
            reject(new Error(`${what}: kcat exited (${exitCode}) first; stderr:\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${what}: not reached after ${ms} ms; kcat stderr:\n${stderr}`));
        }, ms);
        const finish = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
    onOutput(listener) {
      watchers.add(listener);
    },
    stop(signal = 'SIGTERM') {
      if (exitCode === undefined) child.kill(signal);
      return exited;
    },
  };
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/**
 * The partitions a kcat `-G` member holds now (undefined before its first assignment), from its
 * rebalance lines on stderr: with the eager protocols (range, roundrobin) "% Group … rebalanced
 * (memberid …): assigned: t [0], t [2]" / "revoked: …" replace the assignment; with cooperative-sticky
 * "rebalanced: incremental assignment of N partition(s) (…): t [1]" / "incremental revoke …" add and
 * remove partitions.
 */
export function kcatAssignment(stderr: string, topic: string): number[] | undefined {
  let current: Set<number> | undefined;
  const partitionsOf = (list: string) =>
    [...list.matchAll(/(\S+) \[(\d+)\]/g)].filter((p) => p[1] === topic).map((p) => Number(p[2]));
  for (const line of stderr.split('\n')) {
    const eager = /rebalanced \(memberid [^)]*\): (assigned|revoked): (.*)/.exec(line);
    if (eager) {
      current = new Set(eager[1] === 'assigned' ? partitionsOf(eager[2]!) : []);
      continue;
    }
    const incremental =
      /rebalanced: incremental (assignment|revoke) of \d+ partition\(s\) \([^)]*\): (.*)/.exec(line);
    if (incremental) {
      current ??= new Set();
      for (const p of partitionsOf(incremental[2]!)) {
        if (incremental[1] === 'assignment') current.add(p);
        else current.delete(p);
      }
    }
  }
  return current && [...current].sort((a, b) => a - b);
}

/** kcat's member id in its group (from its last rebalance line). */
export function kcatMemberId(stderr: string): string | undefined {
  return [...stderr.matchAll(/\(memberid ([^,)]*)[,)]/g)].at(-1)?.[1];
}
