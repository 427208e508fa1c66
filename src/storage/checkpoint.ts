/**
 * `partition.checkpoint`: the two offsets a partition must remember across restarts besides its
 * segments, as JSON `{ "version": 1, "logStartOffset": n, "recoveryPoint": n }`.
 *   - logStartOffset: the first offset a reader may fetch (retention and DeleteRecords move it up).
 *   - recoveryPoint: every byte below this offset was fsynced; after an unclean stop only the
 *     segments from the one holding it onwards are scanned.
 * Written to a temporary file, fsynced and renamed, so it is either the old or the new content.
 *
 * Owned by the worker thread that owns the partition.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CHECKPOINT_FILE } from './segment-files.ts';

export interface PartitionCheckpoint {
  logStartOffset: number;
  recoveryPoint: number;
}

export function readCheckpoint(dir: string): PartitionCheckpoint | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, CHECKPOINT_FILE), 'utf8'));
    if (Number.isSafeInteger(parsed?.logStartOffset) && Number.isSafeInteger(parsed?.recoveryPoint)) {
      return { logStartOffset: parsed.logStartOffset, recoveryPoint: parsed.recoveryPoint };
    }
  } catch {
    // Missing or torn: the caller starts from offset 0 and scans everything.
  }
  return undefined;
}

export function writeCheckpoint(dir: string, checkpoint: PartitionCheckpoint): void {
  const file = path.join(dir, CHECKPOINT_FILE);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify({ version: 1, ...checkpoint }));
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
