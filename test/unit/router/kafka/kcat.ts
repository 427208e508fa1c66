/**
 * kcat (librdkafka) for end-to-end tests: find it, run it with bounded time, parse its consumer
 * output byte-exactly. In CI (CI=true) a missing kcat fails the tests that need it; elsewhere they
 * are skipped with a message saying why.
 */
import { spawn, spawnSync } from 'node:child_process';
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
