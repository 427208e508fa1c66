/**
 * Per-item errors of admin calls: a call that names several items (topics, resources, partitions,
 * groups) resolves only if all of them succeeded; otherwise it rejects with an AdminError listing every
 * failing item.
 */
import { type ErrorCode, SluiceError } from '../errors.ts';
import type { WireError } from '../protocol/wire/ops.ts';

/** One failing item of an admin call. */
export interface AdminFailure {
  /** Topic or resource name. */
  name: string;
  /** The partition, for per-partition calls. */
  partition?: number;
  error: SluiceError;
}

/** Some items of an admin call failed; `failures` says which and why, `code` is the first one's. */
export class AdminError extends SluiceError {
  readonly failures: readonly AdminFailure[];

  constructor(operation: string, failures: readonly AdminFailure[]) {
    const first = failures[0]!;
    const list = failures
      .map((f) => `${f.name}${f.partition === undefined ? '' : `-${f.partition}`}: ${f.error.code}`)
      .join(', ');
    super(first.error.code as ErrorCode, `${operation} failed for ${list} (first: ${first.error.message})`);
    this.name = 'AdminError';
    this.failures = failures;
  }
}

/** The failing items of a response, as AdminFailures. */
export function failuresOf<T extends { error?: WireError }>(
  items: readonly T[],
  name: (item: T) => string,
): AdminFailure[] {
  return items.filter((i) => i.error).map((i) => ({ name: name(i), error: SluiceError.from(i.error!) }));
}
