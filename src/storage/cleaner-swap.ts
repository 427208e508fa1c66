/**
 * Crash-safe replacement of a group of segments by the log cleaner's output (Kafka's
 * `.cleaned` → `.swap` protocol, with an explicit manifest).
 *
 * Files, for a group whose first segment has base offset B (names as in segment-files.ts):
 *   B.log.cleaned, B.index.cleaned, B.timeindex.cleaned   the cleaned segment, written and fsynced
 *   B.group.cleaned   JSON `{ "version": 1, "baseOffset": B, "replaced": [B, …] }`: the base offsets
 *                     of the original segments the cleaned one replaces (the group, in order)
 * Commit, in this order:
 *   1. rename B.index/.timeindex/.group `.cleaned` → `.swap`, fsync the directory
 *   2. rename B.log.cleaned → B.log.swap, fsync the directory     ← the commit point
 *   3. delete every replaced original (per segment: indexes, then `.log`)
 *   4. rename B.index.swap → B.index, B.timeindex.swap → B.timeindex, then B.log.swap → B.log
 *   5. delete B.group.swap, fsync the directory
 *
 * Invariant: until B.log.swap exists the originals are untouched (roll back: delete the `.cleaned`
 * and lone `.swap` files); once it exists the swap is decided and every later step can be redone
 * (roll forward). `recoverCleanerFiles`, run by PartitionLog.open before it lists segments, applies
 * exactly that. An index lost on the way is not data: the segment rebuilds it when it opens.
 * The manifest is what makes roll-forward exact: a cleaned segment may end well before the group
 * did (its last batches compacted away), so its contents cannot say which originals it replaces.
 *
 * Owned by the worker thread that owns the partition (synchronous file operations).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeJsonAtomically } from './atomic-file.ts';
import { BatchScanner } from './batch-scanner.ts';
import {
  CLEANED_SUFFIX,
  GROUP_SUFFIX,
  LOG_SUFFIX,
  offsetFileName,
  parseOffsetFileName,
  SWAP_SUFFIX,
  segmentPaths,
} from './segment-files.ts';

/** Points of the swap a test can interrupt (throwing from `onSwapStep` simulates a crash there). */
export type SwapStep =
  /** The `.cleaned` files are complete; nothing renamed. */
  | 'cleaned'
  /** The index and manifest files are `.swap`, the log still `.cleaned`. */
  | 'renaming'
  /** B.log.swap exists (committed); the originals are all still there. */
  | 'committed'
  /** The originals are deleted; the `.swap` files not yet renamed. */
  | 'originals-deleted'
  /** The indexes have their final names; B.log.swap not yet renamed. */
  | 'indexes-renamed';

export type SwapHook = (step: SwapStep) => void;

export interface SwapManifest {
  baseOffset: number;
  replaced: number[];
}

export interface SwapRecovery {
  /** Swaps found committed and completed. */
  completed: number;
  /** Leftover files of swaps that never committed (or of completed ones), deleted. */
  removedFiles: number;
}

function groupPath(dir: string, baseOffset: number, suffix: string): string {
  return path.join(dir, offsetFileName(baseOffset, GROUP_SUFFIX) + suffix);
}

/** Steps 1–2: the cleaned files (already written and fsynced) become the committed swap. */
export function commitSwap(dir: string, manifest: SwapManifest, hook?: SwapHook): void {
  const b = manifest.baseOffset;
  writeJsonAtomically(groupPath(dir, b, CLEANED_SUFFIX), { version: 1, ...manifest });
  hook?.('cleaned');
  const cleaned = segmentPaths(dir, b, CLEANED_SUFFIX);
  const swap = segmentPaths(dir, b, SWAP_SUFFIX);
  fs.renameSync(cleaned.index, swap.index);
  fs.renameSync(cleaned.timeIndex, swap.timeIndex);
  fs.renameSync(groupPath(dir, b, CLEANED_SUFFIX), groupPath(dir, b, SWAP_SUFFIX));
  fsyncDirectory(dir);
  hook?.('renaming');
  fs.renameSync(cleaned.log, swap.log);
  fsyncDirectory(dir);
  hook?.('committed');
}

/** Steps 3–5 (also the roll-forward after a crash): the swap replaces its originals. */
export function completeSwap(dir: string, manifest: SwapManifest, hook?: SwapHook): void {
  const b = manifest.baseOffset;
  for (const base of manifest.replaced) {
    const original = segmentPaths(dir, base);
    // Only while the original `.log` is there: for B, a `.index` without it is already the new one.
    if (!fs.existsSync(original.log)) continue;
    fs.rmSync(original.index, { force: true });
    fs.rmSync(original.timeIndex, { force: true });
    fs.rmSync(original.log);
  }
  hook?.('originals-deleted');
  const swap = segmentPaths(dir, b, SWAP_SUFFIX);
  const final = segmentPaths(dir, b);
  if (fs.existsSync(swap.index)) fs.renameSync(swap.index, final.index);
  if (fs.existsSync(swap.timeIndex)) fs.renameSync(swap.timeIndex, final.timeIndex);
  hook?.('indexes-renamed');
  fs.renameSync(swap.log, final.log);
  fs.rmSync(groupPath(dir, b, SWAP_SUFFIX), { force: true });
  fsyncDirectory(dir);
}

/** Delete the cleaner's files for base B that were never committed (an abandoned pass). */
export function discardCleaned(dir: string, baseOffset: number): void {
  const cleaned = segmentPaths(dir, baseOffset, CLEANED_SUFFIX);
  for (const p of [cleaned.log, cleaned.index, cleaned.timeIndex, groupPath(dir, baseOffset, CLEANED_SUFFIX)])
    fs.rmSync(p, { force: true });
}

/**
 * Finish or roll back whatever swap a crash interrupted: `.cleaned` files go, committed swaps are
 * completed, lone `.swap` files go. Run before the segments are listed.
 */
export function recoverCleanerFiles(dir: string): SwapRecovery {
  const result: SwapRecovery = { completed: 0, removedFiles: 0 };
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith(CLEANED_SUFFIX)) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    result.removedFiles++;
  }
  const committed = fs
    .readdirSync(dir)
    .map((n) =>
      n.endsWith(SWAP_SUFFIX) ? parseOffsetFileName(n.slice(0, -SWAP_SUFFIX.length), LOG_SUFFIX) : undefined,
    )
    .filter((o): o is number => o !== undefined)
    .sort((a, b) => a - b);
  for (const b of committed) {
    completeSwap(dir, readManifest(dir, b) ?? inferManifest(dir, b));
    result.completed++;
  }
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith(SWAP_SUFFIX)) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    result.removedFiles++;
  }
  if (result.removedFiles > 0) fsyncDirectory(dir);
  return result;
}

function readManifest(dir: string, baseOffset: number): SwapManifest | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(groupPath(dir, baseOffset, SWAP_SUFFIX), 'utf8'));
    const replaced = parsed?.replaced;
    if (
      parsed?.baseOffset === baseOffset &&
      Array.isArray(replaced) &&
      replaced.length > 0 &&
      replaced.every((o: unknown) => Number.isSafeInteger(o))
    ) {
      return { baseOffset, replaced: replaced as number[] };
    }
  } catch {
    // Fall through: the manifest is written before the commit, so this means outside damage.
  }
  return undefined;
}

/**
 * Without a manifest (never the case unless something else deleted it), replace the originals whose
 * base offset the cleaned segment covers. Originals past its last offset are kept: the log stays
 * consistent (no offset twice), merely less compacted.
 */
function inferManifest(dir: string, baseOffset: number): SwapManifest {
  const swapLog = segmentPaths(dir, baseOffset, SWAP_SUFFIX).log;
  const fd = fs.openSync(swapLog, 'r');
  let lastOffset = baseOffset;
  try {
    const size = fs.fstatSync(fd).size;
    const scanner = new BatchScanner(fd, size);
    for (let b = scanner.at(0); b; b = scanner.at(b.position + b.size)) lastOffset = b.lastOffset;
  } finally {
    fs.closeSync(fd);
  }
  const replaced = fs
    .readdirSync(dir)
    .map((n) => parseOffsetFileName(n, LOG_SUFFIX))
    .filter((o): o is number => o !== undefined && o >= baseOffset && o <= lastOffset)
    .sort((a, b) => a - b);
  return { baseOffset, replaced: replaced.length > 0 ? replaced : [baseOffset] };
}

export function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
