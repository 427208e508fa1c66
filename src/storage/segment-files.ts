/**
 * Names of the files in a partition directory, as Kafka names them:
 *   <20-digit baseOffset>.log        record batches, back to back (RecordBatch v2 bytes, as on the wire)
 *   <20-digit baseOffset>.index      sparse offset → position index (offset-index.ts)
 *   <20-digit baseOffset>.timeindex  sparse timestamp → offset index (time-index.ts)
 *   <20-digit offset>.snapshot       idempotent-producer state at that offset (producer-state.ts)
 *   partition.checkpoint             logStartOffset and recovery point (checkpoint.ts)
 *   cleaner.checkpoint               log compaction progress (checkpoint.ts); present once the log has
 *                                    been cleaned, which also means batches may have offset gaps
 *   .clean_shutdown                  present only while the partition is closed cleanly
 * and, only while the cleaner swaps a group of segments for its cleaned copy (cleaner-swap.ts):
 *   <base>.log.cleaned, .index.cleaned, .timeindex.cleaned, .group.cleaned   output being written
 *   <base>.log.swap,    .index.swap,    .timeindex.swap,    .group.swap      output committed
 */
import path from 'node:path';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const SNAPSHOT_SUFFIX = '.snapshot';
export const CHECKPOINT_FILE = 'partition.checkpoint';
export const CLEAN_SHUTDOWN_FILE = '.clean_shutdown';
export const CLEANER_CHECKPOINT_FILE = 'cleaner.checkpoint';
/** The cleaner's manifest of a swap: which original segments the cleaned one replaces. */
export const GROUP_SUFFIX = '.group';
/** Cleaner output still being written (deleted on open: the swap never happened). */
export const CLEANED_SUFFIX = '.cleaned';
/** Cleaner output committed to replace its originals (completed on open). */
export const SWAP_SUFFIX = '.swap';

export function offsetFileName(offset: number, suffix: string): string {
  return String(offset).padStart(20, '0') + suffix;
}

/** A segment's three files; `extra` (`.cleaned`, `.swap`) names the cleaner's temporary copies. */
export function segmentPaths(
  dir: string,
  baseOffset: number,
  extra = '',
): { log: string; index: string; timeIndex: string } {
  return {
    log: path.join(dir, offsetFileName(baseOffset, LOG_SUFFIX) + extra),
    index: path.join(dir, offsetFileName(baseOffset, INDEX_SUFFIX) + extra),
    timeIndex: path.join(dir, offsetFileName(baseOffset, TIME_INDEX_SUFFIX) + extra),
  };
}

/** The offset in a file name such as `00000000000000001234.log`, or undefined for other names. */
export function parseOffsetFileName(name: string, suffix: string): number | undefined {
  if (!name.endsWith(suffix)) return undefined;
  const digits = name.slice(0, -suffix.length);
  if (!/^\d{20}$/.test(digits)) return undefined;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : undefined;
}
