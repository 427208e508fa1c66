/**
 * The log cleaner's planning, on segment metadata only (see log-cleaner.ts for the vocabulary):
 *   - `cleanerStatus`: how dirty a log is and whether it needs a pass (Kafka's LogCleanerManager
 *     selection: dirty ratio, min.compaction.lag.ms, expired tombstones);
 *   - `planGroups`: which consecutive closed segments are rewritten into one (Kafka's
 *     groupSegmentsBySize);
 *   - `readBatches`: whole batches of a segment in bounded chunks (the unit of a cleaning step).
 *
 * Owned by the worker thread that owns the partition.
 */
import { BATCH_HEADER_SIZE, BatchField, LOG_OVERHEAD } from '../protocol/kafka/record-batch.ts';
import type { CleanerCheckpoint } from './checkpoint.ts';
import type { LogConfig } from './log-config.ts';
import type { LogSegment } from './log-segment.ts';

const INT32_MAX = 0x7fffffff;
/** Bytes read from a segment at once. */
const READ_BLOCK = 1024 * 1024;
/** Bytes per time-index entry (the larger of the two index entry sizes). */
const INDEX_ENTRY_BYTES = 12;

export interface CleanerStatus {
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
  cleanBytes: number;
  dirtyBytes: number;
  /** dirtyBytes / (cleanBytes + dirtyBytes), 0 when both are 0. */
  dirtyRatio: number;
  /** A retained tombstone's delete horizon has passed. */
  tombstonesDue: boolean;
  needsCleaning: boolean;
}

/**
 * Where the log is clean, dirty and not yet cleanable, and whether it needs a pass at `now`.
 * `segments` are sorted, the last one active (never cleanable).
 */
export function cleanerStatus(
  segments: readonly LogSegment[],
  config: LogConfig,
  logStartOffset: number,
  checkpoint: CleanerCheckpoint | undefined,
  now: number,
): CleanerStatus {
  const active = segments[segments.length - 1]!;
  // Clamped: DeleteRecords or retention may have moved the log start past it, truncation the end below it.
  const firstDirty = Math.min(Math.max(checkpoint?.firstDirtyOffset ?? 0, logStartOffset), active.nextOffset);
  let firstUncleanable = active.baseOffset;
  let cleanBytes = 0;
  let dirtyBytes = 0;
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i]!;
    if (segments[i + 1]!.baseOffset <= firstDirty) {
      cleanBytes += s.size;
      continue;
    }
    if (
      config.minCompactionLagMs > 0 &&
      s.maxTimestamp >= 0 &&
      now - s.maxTimestamp < config.minCompactionLagMs
    ) {
      firstUncleanable = s.baseOffset;
      break;
    }
    dirtyBytes += s.size;
  }
  const total = cleanBytes + dirtyBytes;
  const dirtyRatio = total === 0 ? 0 : dirtyBytes / total;
  const horizon = checkpoint?.nextDeleteHorizonMs ?? -1;
  const tombstonesDue = horizon >= 0 && now >= horizon && total > 0;
  const compacted = config.cleanupPolicy.includes('compact');
  return {
    firstDirtyOffset: firstDirty,
    firstUncleanableOffset: Math.max(firstUncleanable, firstDirty),
    cleanBytes,
    dirtyBytes,
    dirtyRatio,
    tombstonesDue,
    needsCleaning:
      compacted && ((dirtyBytes > 0 && dirtyRatio >= config.minCleanableDirtyRatio) || tombstonesDue),
  };
}

/**
 * Consecutive closed segments below `endOffset`, grouped so that each group's output fits one
 * segment: total size ≤ segment.bytes, offsets within 2^31 of the group's base (relative offsets
 * in the index are int32), index entries within segment.index.bytes. Sizes are the inputs', an upper
 * bound of the outputs', so small cleaned segments merge on the next pass.
 */
export function planGroups(
  segments: readonly LogSegment[],
  config: LogConfig,
  endOffset: number,
): LogSegment[][] {
  const maxIndexEntries = Math.floor(config.segmentIndexBytes / INDEX_ENTRY_BYTES);
  const interval = Math.max(config.indexIntervalBytes, 1);
  const groups: LogSegment[][] = [];
  let group: LogSegment[] = [];
  let bytes = 0;
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i]!;
    const end = segments[i + 1]!.baseOffset;
    if (end > endOffset) break;
    const base = group[0]?.baseOffset ?? s.baseOffset;
    const fits =
      bytes + s.size <= config.segmentBytes &&
      end - 1 - base <= INT32_MAX &&
      (bytes + s.size) / interval + 1 <= maxIndexEntries;
    if (group.length > 0 && !fits) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(s);
    bytes += s.size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** Whether one segment starting at `first` can hold the offsets up to the end of `group`. */
export function spanFits(segments: readonly LogSegment[], first: LogSegment, group: LogSegment[]): boolean {
  const after = segments[segments.indexOf(group[group.length - 1]!) + 1];
  return after !== undefined && after.baseOffset - 1 - first.baseOffset <= INT32_MAX;
}

/**
 * Whole batches of `segment` from `position`, reading about `budget` bytes (at least one whole
 * batch); `next` is the position after the last one returned. Data below the segment's size was
 * validated when written or recovered, so a bad length here is damage: it throws.
 */
export function readBatches(
  segment: LogSegment,
  position: number,
  budget: number,
): { batches: Buffer[]; next: number } {
  const remaining = segment.size - position;
  if (remaining <= 0) return { batches: [], next: segment.size };
  let block = segment.readAt(position, Math.min(remaining, Math.max(budget, READ_BLOCK)));
  const batches: Buffer[] = [];
  let at = 0;
  while (at + BATCH_HEADER_SIZE <= block.length) {
    const size = block.readInt32BE(at + BatchField.batchLength) + LOG_OVERHEAD;
    if (size < BATCH_HEADER_SIZE)
      throw new Error(`segment ${segment.baseOffset}: bad batch length at ${position + at}`);
    if (at + size > block.length) {
      if (batches.length > 0) break;
      // One batch larger than the block: read exactly it.
      if (size > remaining)
        throw new Error(`segment ${segment.baseOffset}: batch at ${position} runs past the end`);
      block = segment.readAt(position, size);
    }
    batches.push(block.subarray(at, at + size));
    at += size;
    if (at >= budget) break;
  }
  if (batches.length === 0) throw new Error(`segment ${segment.baseOffset}: no whole batch at ${position}`);
  return { batches, next: position + at };
}
