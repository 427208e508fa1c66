/**
 * Options shared by the client commands: where the broker is, and small parsers for flag values.
 */
import { type Command, Option } from 'commander';
import { UsageError } from './output.ts';

export const DEFAULT_BOOTSTRAP = 'ws://127.0.0.1:7070';

export function addBootstrap(cmd: Command): Command {
  return cmd.addOption(
    new Option('--bootstrap <url>', 'broker WebSocket URL')
      .env('SLUICE_BOOTSTRAP')
      .default(DEFAULT_BOOTSTRAP),
  );
}

/** Collect a repeatable flag into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `key=value` pairs (repeatable --config / --header) into a map. */
export function keyValues(pairs: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} expects key=value, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export function parseInteger(value: string, flag: string, min = Number.MIN_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(value)) throw new UsageError(`${flag} expects an integer, got "${value}"`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`${flag} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

/** --acks all|-1|1|0 */
export function parseAcks(value: string): -1 | 0 | 1 {
  if (value === 'all' || value === '-1') return -1;
  if (value === '1') return 1;
  if (value === '0') return 0;
  throw new UsageError(`--acks must be all, -1, 1 or 0, got "${value}"`);
}

/** A time given as epoch milliseconds or an ISO-8601 date. */
export function parseTime(value: string, flag: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new UsageError(`${flag} expects epoch milliseconds or an ISO-8601 date, got "${value}"`);
  return t;
}

/** Turn `\t`, `\n`, `\\` in a separator given on the command line into the characters. */
export function unescapeSeparator(sep: string): string {
  return sep.replace(/\\(t|n|\\)/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : '\\'));
}

/** A progress line on stderr for long operations, at most every `everyMs`. */
export class Progress {
  private last = performance.now();
  private readonly started = performance.now();

  constructor(
    private readonly verb: string,
    private readonly enabled: boolean,
    private readonly everyMs = 2000,
  ) {}

  tick(count: number, bytes: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < this.everyMs) return;
    this.last = now;
    process.stderr.write(`${this.summary(count, bytes)}\n`);
  }

  summary(count: number, bytes: number): string {
    const seconds = Math.max((performance.now() - this.started) / 1000, 1e-6);
    return (
      `${this.verb} ${count.toLocaleString('en-US')} records, ${(bytes / 1e6).toFixed(2)} MB in ${seconds.toFixed(2)} s ` +
      `(${Math.round(count / seconds).toLocaleString('en-US')} records/s, ${(bytes / 1e6 / seconds).toFixed(2)} MB/s)`
    );
  }
}
