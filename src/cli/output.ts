/**
 * CLI conventions in one place: results on stdout (or one JSON document with --json), diagnostics
 * on stderr, exit codes 0 ok / 1 failure / 2 usage error.
 */
import { SluiceError } from '../errors.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override name = 'UsageError';
}

export function printError(err: unknown): void {
  if (err instanceof SluiceError) process.stderr.write(`sluice: ${err.code}: ${err.message}\n`);
  else if (err instanceof Error) process.stderr.write(`sluice: ${err.message}\n`);
  else process.stderr.write(`sluice: ${String(err)}\n`);
}

export function exitCodeFor(err: unknown): number {
  return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}

/** Log line for long-running commands (stderr, with a timestamp). */
export function logLine(level: 'INFO' | 'WARN' | 'ERROR', message: string): void {
  process.stderr.write(`[${new Date().toISOString()}] ${level} ${message}\n`);
}

/** Print rows as an aligned table (Kafka-tool style) on stdout. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells)
    process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`);
}
