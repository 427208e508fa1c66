/**
 * The small JSON files a partition keeps besides its segments.
 *
 * `partition.checkpoint`: `{ "version": 1, "logStartOffset": n, "recoveryPoint": n }`
 *   - logStartOffset: the first offset a reader may fetch (retention and DeleteRecords move it up).
 *   - recoveryPoint: every byte below this offset was fsynced; after an unclean stop only the
 *     segments from the one holding it onwards are scanned.
 *
 * `cleaner.checkpoint` (log compaction, see log-cleaner.ts):
 *   `{ "version": 1, "firstDirtyOffset": n, "nextDeleteHorizonMs": n }`
 *   - firstDirtyOffset: every offset below it has been cleaned (its key is in no newer record below
 *     it); the next pass maps keys from here. Always a segment boundary when the cleaner wrote it.
 *   - nextDeleteHorizonMs: the earliest time a retained tombstone may be removed (-1: none), so an
 *     idle log is cleaned again once its tombstones expire.
 *   Its own file (not part of partition.checkpoint) because the two are written by different
 *   duties at different times; its presence also tells recovery that batches may have gaps.
 *
 * Each is written to a temporary file, fsynced and renamed, so it is either the old or the new
 * content. Owned by the worker thread that owns the partition.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeJsonAtomically } from './atomic-file.ts';
import { CHECKPOINT_FILE, CLEANER_CHECKPOINT_FILE } from './segment-files.ts';

export interface PartitionCheckpoint {
  logStartOffset: number;
  recoveryPoint: number;
}

export interface CleanerCheckpoint {
  firstDirtyOffset: number;
  nextDeleteHorizonMs: number;
}

export function readCheckpoint(dir: string): PartitionCheckpoint | undefined {
  const parsed = readJson(path.join(dir, CHECKPOINT_FILE));
  if (Number.isSafeInteger(parsed?.logStartOffset) && Number.isSafeInteger(parsed?.recoveryPoint)) {
    return { logStartOffset: parsed.logStartOffset, recoveryPoint: parsed.recoveryPoint };
  }
  // Missing or torn: the caller starts from offset 0 and scans everything.
  return undefined;
}

export function writeCheckpoint(dir: string, checkpoint: PartitionCheckpoint): void {
  writeJsonAtomically(path.join(dir, CHECKPOINT_FILE), { version: 1, ...checkpoint });
}

export function readCleanerCheckpoint(dir: string): CleanerCheckpoint | undefined {
  const parsed = readJson(path.join(dir, CLEANER_CHECKPOINT_FILE));
  if (Number.isSafeInteger(parsed?.firstDirtyOffset) && Number.isSafeInteger(parsed?.nextDeleteHorizonMs)) {
    return { firstDirtyOffset: parsed.firstDirtyOffset, nextDeleteHorizonMs: parsed.nextDeleteHorizonMs };
  }
  // Missing or torn: the next pass treats the whole log as dirty (cleaning is idempotent).
  return undefined;
}

export function hasCleanerCheckpoint(dir: string): boolean {
  return fs.existsSync(path.join(dir, CLEANER_CHECKPOINT_FILE));
}

export function writeCleanerCheckpoint(dir: string, checkpoint: CleanerCheckpoint): void {
  writeJsonAtomically(path.join(dir, CLEANER_CHECKPOINT_FILE), { version: 1, ...checkpoint });
}

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON is checked field by field by the callers
function readJson(file: string): any {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}
