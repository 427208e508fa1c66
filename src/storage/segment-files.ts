/**
 * Names of the files in a partition directory, as Kafka names them:
 *   <20-digit baseOffset>.log        record batches, back to back (RecordBatch v2 bytes, as on the wire)
 *   <20-digit baseOffset>.index      sparse offset → position index (offset-index.ts)
 *   <20-digit baseOffset>.timeindex  sparse timestamp → offset index (time-index.ts)
 *   <20-digit offset>.snapshot       idempotent-producer state at that offset (producer-state.ts)
 *   partition.checkpoint             logStartOffset and recovery point (checkpoint.ts)
 *   .clean_shutdown                  present only while the partition is closed cleanly
 */
import path from 'node:path';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const SNAPSHOT_SUFFIX = '.snapshot';
export const CHECKPOINT_FILE = 'partition.checkpoint';
export const CLEAN_SHUTDOWN_FILE = '.clean_shutdown';

export function offsetFileName(offset: number, suffix: string): string {
  return String(offset).padStart(20, '0') + suffix;
}

export function segmentPaths(
  dir: string,
  baseOffset: number,
): { log: string; index: string; timeIndex: string } {
  return {
    log: path.join(dir, offsetFileName(baseOffset, LOG_SUFFIX)),
    index: path.join(dir, offsetFileName(baseOffset, INDEX_SUFFIX)),
    timeIndex: path.join(dir, offsetFileName(baseOffset, TIME_INDEX_SUFFIX)),
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
