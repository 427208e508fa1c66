/**
 * Log compaction for one partition (`cleanup.policy` containing `compact`), as Kafka's LogCleaner
 * does it: keep, for every key, only its newest record; keep tombstones for delete.retention.ms
 * after they were first cleaned, then drop them. Offsets never change.
 *
 * Vocabulary (Kafka's): the log below `firstDirtyOffset` (cleaner.checkpoint) is clean: no key
 * occurs twice there. From it up to `firstUncleanableOffset` — the active segment's base, or an
 * earlier segment whose newest record is younger than min.compaction.lag.ms — is the cleanable
 * dirty part. A log needs cleaning when dirty bytes / (clean + dirty bytes) ≥ min.cleanable.dirty.ratio
 * (the active and too-young segments count in neither, as in Kafka), or when a tombstone's delete
 * horizon has passed (so an idle log still drops its expired tombstones).
 *
 * A pass, run as a series of bounded steps (`step`, each at most `budgetBytes` of input and at most
 * one swap, so the worker keeps serving other partitions and this one's mailbox in between):
 *   1. map:     walk the dirty segments, key → offset of its newest record (stops at a segment
 *               boundary once `maxMapKeys` keys are held; the rest stays dirty for the next pass)
 *   2. rewrite: every closed segment below the mapped end, in groups of consecutive segments whose
 *               total fits segment.bytes (small cleaned segments merge), is filtered batch by batch
 *               (cleaner-filter.ts) into `<first base>.*.cleaned`, then swapped in (cleaner-swap.ts)
 *   3. commit:  cleaner.checkpoint ← { firstDirtyOffset: mapped end, nextDeleteHorizonMs }
 * The active segment is never read or written. A pass is abandoned (its `.cleaned` files deleted)
 * when retention, DeleteRecords or truncation changed the segments between two steps, or the
 * topic stopped being compacted; cleaning is idempotent, so the next pass simply starts over.
 *
 * Idempotent producers: surviving batches keep producerId, epoch, baseSequence and lastOffsetDelta,
 * so replaying them gives the same sequence numbers; the producer state is snapshotted at the log end
 * before a pass's first swap, so a restart replays from that snapshot rather than through batches
 * the cleaner removed.
 *
 * Owned by the worker thread that owns the partition; steps run through the partition's mailbox.
 */
import { BatchField, checkStoredBatch, readInt32, readInt64 } from '../protocol/kafka/record-batch.ts';
import { type CleanerCheckpoint, readCleanerCheckpoint, writeCleanerCheckpoint } from './checkpoint.ts';
import { filterBatch, mapBatchKeys } from './cleaner-filter.ts';
import { type CleanerStatus, cleanerStatus, planGroups, readBatches, spanFits } from './cleaner-plan.ts';
import { commitSwap, completeSwap, discardCleaned, type SwapHook } from './cleaner-swap.ts';
import type { LogConfig } from './log-config.ts';
import { LogSegment, type SegmentAppend, type SegmentConfig } from './log-segment.ts';

export type { CleanerStatus } from './cleaner-plan.ts';

/** Bytes of input one step processes before it yields. */
export const DEFAULT_STEP_BYTES = 8 * 1024 * 1024;
/** Keys one pass maps at most (~70 bytes of heap each for 24-byte keys); later dirty segments wait for the next pass. */
export const DEFAULT_MAX_MAP_KEYS = 1_000_000;

/** What the cleaner needs from the log it cleans (PartitionLog implements it). */
export interface CleanerTarget {
  readonly dir: string;
  readonly config: LogConfig;
  readonly segmentConfig: SegmentConfig;
  /** Sorted by base offset; the last one is the active segment. */
  readonly segments: readonly LogSegment[];
  readonly logStartOffset: number;
  /** Changes whenever segments are removed or cut by anything but the cleaner. */
  readonly layoutVersion: number;
  /** Swap `old` (consecutive segments) for `fresh` in memory; the files are already swapped. */
  replaceSegments(old: readonly LogSegment[], fresh: LogSegment): void;
  snapshotProducers(): void;
}

export interface CleanOptions {
  /** Clean even below min.cleanable.dirty.ratio (tests, tools); the lag and the active segment still hold. */
  force?: boolean;
  budgetBytes?: number;
  maxMapKeys?: number;
  /** Test hook: called at each point of a swap; throwing there simulates a crash. */
  onSwapStep?: SwapHook;
}

export interface CleanProgress {
  /** No pass is in progress after this step (it finished, was abandoned, or was not needed). */
  done: boolean;
  /** Input bytes filtered by this step. */
  cleanedBytes: number;
  /** Records dropped by this step (superseded, expired tombstones, keyless). */
  removedRecords: number;
  /** Bytes the swaps of this step freed (input − output). */
  reclaimedBytes: number;
  /** Groups swapped in by this step. */
  swappedGroups: number;
  /** Set when the pass was abandoned, with the reason. */
  abandoned?: string;
}

interface GroupWriter {
  group: LogSegment[];
  out: LogSegment;
  segment: number;
  position: number;
  changed: boolean;
  inputBytes: number;
}

interface Pass {
  now: number;
  version: number;
  firstDirty: number;
  /** Dirty segments to map, and where the map phase stands. */
  toMap: LogSegment[];
  mapped: number;
  mapPosition: number;
  latest: Map<string, number>;
  maxMapKeys: number;
  /** Set when the map phase ends: the first offset not cleaned by this pass (a segment base). */
  endOffset: number;
  groups: LogSegment[][];
  nextGroup: number;
  writer: GroupWriter | undefined;
  /** Segments whose cleaned output came out empty: they join the next group (no empty segment left behind). */
  carried: LogSegment[];
  carriedBytes: number;
  nextDeleteHorizon: number;
  snapshotted: boolean;
}

export class LogCleaner {
  private checkpoint: CleanerCheckpoint | undefined;
  private pass: Pass | undefined;

  constructor(private readonly target: CleanerTarget) {
    this.checkpoint = readCleanerCheckpoint(target.dir);
  }

  get running(): boolean {
    return this.pass !== undefined;
  }

  /** Selection: how dirty the log is and whether it needs a pass now. Cheap (segment sizes only). */
  status(now: number): CleanerStatus {
    const { segments, logStartOffset, config } = this.target;
    return cleanerStatus(segments, config, logStartOffset, this.checkpoint, now);
  }

  /** One bounded step of a pass, starting one when the log needs it (or `force`). */
  async step(now: number, options: CleanOptions = {}): Promise<CleanProgress> {
    const progress: CleanProgress = {
      done: false,
      cleanedBytes: 0,
      removedRecords: 0,
      reclaimedBytes: 0,
      swappedGroups: 0,
    };
    if (!this.pass) {
      const status = this.status(now);
      const compacted = this.target.config.cleanupPolicy.includes('compact');
      if (!compacted || (!status.needsCleaning && !options.force) || this.target.segments.length < 2) {
        progress.done = true;
        return progress;
      }
      this.pass = this.startPass(now, status, options.maxMapKeys ?? DEFAULT_MAX_MAP_KEYS);
    }
    const pass = this.pass;
    if (pass.version !== this.target.layoutVersion || !this.target.config.cleanupPolicy.includes('compact')) {
      this.abandon();
      progress.done = true;
      progress.abandoned = 'the segments or the cleanup policy changed during the pass';
      return progress;
    }
    let budget = options.budgetBytes ?? DEFAULT_STEP_BYTES;
    try {
      while (budget > 0 && pass.mapped < pass.toMap.length) budget -= await this.mapSome(pass, budget);
      if (pass.mapped < pass.toMap.length) return progress;
      if (pass.groups.length === 0 && pass.nextGroup === 0)
        pass.groups = planGroups(this.target.segments, this.target.config, pass.endOffset);
      while (budget > 0 && pass.nextGroup < pass.groups.length && progress.swappedGroups === 0)
        budget -= await this.cleanSome(pass, budget, progress, options.onSwapStep);
    } catch (err) {
      if (err instanceof SwapFailure) {
        // Files may be half swapped: the log must be reopened, and recovery finishes the swap.
        this.pass = undefined;
        throw err.cause;
      }
      // Nothing was committed: the log is as it was; only this pass is lost.
      this.abandon();
      progress.done = true;
      progress.abandoned = (err as Error).message;
      return progress;
    }
    if (pass.nextGroup < pass.groups.length) return progress;
    this.checkpoint = {
      firstDirtyOffset: Math.max(pass.firstDirty, pass.endOffset),
      nextDeleteHorizonMs: Number.isFinite(pass.nextDeleteHorizon) ? pass.nextDeleteHorizon : -1,
    };
    writeCleanerCheckpoint(this.target.dir, this.checkpoint);
    this.pass = undefined;
    progress.done = true;
    return progress;
  }

  /** Stop the pass in progress, deleting its uncommitted output. */
  abandon(): void {
    const writer = this.pass?.writer;
    this.pass = undefined;
    if (writer) {
      writer.out.delete();
      discardCleaned(this.target.dir, writer.out.baseOffset);
    }
  }

  /** The log was truncated to `logEndOffset`: what follows it is new, hence dirty. */
  truncated(logEndOffset: number): void {
    this.abandon();
    if (this.checkpoint && this.checkpoint.firstDirtyOffset > logEndOffset) {
      this.checkpoint = { ...this.checkpoint, firstDirtyOffset: logEndOffset };
      writeCleanerCheckpoint(this.target.dir, this.checkpoint);
    }
  }

  private startPass(now: number, status: CleanerStatus, maxMapKeys: number): Pass {
    const { segments } = this.target;
    const toMap: LogSegment[] = [];
    for (let i = 0; i < segments.length - 1; i++) {
      const s = segments[i]!;
      if (segments[i + 1]!.baseOffset <= status.firstDirtyOffset) continue;
      if (s.baseOffset >= status.firstUncleanableOffset) break;
      toMap.push(s);
    }
    // Without dirty segments (a pass for expired tombstones) the clean part is rewritten alone.
    let endOffset = status.firstDirtyOffset;
    for (let i = 0; i < segments.length - 1; i++)
      if (segments[i + 1]!.baseOffset > status.firstDirtyOffset) {
        endOffset = segments[i]!.baseOffset;
        break;
      }
    const first = toMap[0];
    return {
      now,
      version: this.target.layoutVersion,
      firstDirty: status.firstDirtyOffset,
      toMap,
      mapped: 0,
      mapPosition: first ? (first.findBatch(status.firstDirtyOffset)?.position ?? first.size) : 0,
      latest: new Map(),
      maxMapKeys,
      endOffset,
      groups: [],
      nextGroup: 0,
      writer: undefined,
      carried: [],
      carriedBytes: 0,
      nextDeleteHorizon: Number.POSITIVE_INFINITY,
      snapshotted: false,
    };
  }

  /** Map keys from where the map phase stands, up to `budget` bytes; returns the bytes read. */
  private async mapSome(pass: Pass, budget: number): Promise<number> {
    const segment = pass.toMap[pass.mapped]!;
    const { batches, next } = readBatches(segment, pass.mapPosition, budget);
    for (const batch of batches) await mapBatchKeys(batch, pass.latest, pass.firstDirty);
    const read = next - pass.mapPosition;
    pass.mapPosition = next;
    if (next >= segment.size) {
      pass.mapped++;
      const following = this.target.segments[this.target.segments.indexOf(segment) + 1]!;
      pass.endOffset = following.baseOffset;
      pass.mapPosition = 0;
      // A full map ends the phase at this segment boundary; what follows stays dirty.
      if (pass.latest.size >= pass.maxMapKeys) pass.toMap.length = pass.mapped;
    }
    return Math.max(read, 1);
  }

  /** Filter the current group from where it stands, up to `budget` bytes; swap it in when done. */
  private async cleanSome(
    pass: Pass,
    budget: number,
    progress: CleanProgress,
    hook?: SwapHook,
  ): Promise<number> {
    if (!pass.writer) {
      const group = [...pass.carried, ...pass.groups[pass.nextGroup]!];
      pass.writer = {
        group,
        out: LogSegment.createCleaned(this.target.dir, group[0]!.baseOffset, this.target.segmentConfig),
        segment: pass.carried.length,
        position: 0,
        changed: pass.carried.length > 0,
        inputBytes: pass.carriedBytes,
      };
      pass.carried = [];
      pass.carriedBytes = 0;
    }
    const w = pass.writer;
    const group = w.group;
    const segment = group[w.segment]!;
    const { batches, next } = readBatches(segment, w.position, budget);
    const ctx = {
      latest: pass.latest,
      now: pass.now,
      deleteRetentionMs: this.target.config.deleteRetentionMs,
    };
    const out: SegmentAppend[] = [];
    for (const batch of batches) {
      const invalid = checkStoredBatch(batch);
      if (invalid) throw new Error(`segment ${segment.baseOffset}: ${invalid.message}; cleaning abandoned`);
      const f = await filterBatch(batch, ctx);
      progress.removedRecords += f.removedRecords;
      if (f.rewritten) w.changed = true;
      if (f.tombstoneHorizon >= 0 && f.tombstoneHorizon < pass.nextDeleteHorizon)
        pass.nextDeleteHorizon = f.tombstoneHorizon;
      if (!f.bytes) continue;
      const baseOffset = readInt64(batch, BatchField.baseOffset);
      const lastOffset = baseOffset + readInt32(batch, BatchField.lastOffsetDelta);
      out.push({ bytes: f.bytes, baseOffset, lastOffset, maxTimestamp: f.maxTimestamp });
    }
    w.out.append(out);
    const read = next - w.position;
    progress.cleanedBytes += read;
    w.inputBytes += read;
    w.position = next;
    if (next >= segment.size) {
      w.segment++;
      w.position = 0;
    }
    if (w.segment >= group.length) await this.swap(pass, w, progress, hook);
    return Math.max(read, 1);
  }

  /** The group's output is complete: commit it and replace the originals (or drop it if nothing changed). */
  private async swap(pass: Pass, w: GroupWriter, progress: CleanProgress, hook?: SwapHook): Promise<void> {
    pass.writer = undefined;
    pass.nextGroup++;
    const { dir } = this.target;
    const base = w.group[0]!.baseOffset;
    if (!w.changed && w.group.length === 1) {
      // Already clean: keep the original rather than swap in an identical copy.
      w.out.delete();
      return;
    }
    const nextGroup = pass.groups[pass.nextGroup];
    if (w.out.size === 0 && nextGroup && spanFits(this.target.segments, w.group[0]!, nextGroup)) {
      // Nothing survived: rather than leave an empty segment, let the next group's output start here.
      w.out.delete();
      pass.carried = w.group;
      pass.carriedBytes = w.inputBytes;
      return;
    }
    if (!pass.snapshotted) {
      this.target.snapshotProducers();
      pass.snapshotted = true;
      if (!this.checkpoint) {
        // From now on the log may hold cleaned batches; recovery must know even if this pass dies.
        this.checkpoint = { firstDirtyOffset: pass.firstDirty, nextDeleteHorizonMs: -1 };
        writeCleanerCheckpoint(dir, this.checkpoint);
      }
    }
    const outputBytes = w.out.size;
    w.out.seal();
    w.out.fsyncAllSync();
    w.out.close();
    const manifest = { baseOffset: base, replaced: w.group.map((s) => s.baseOffset) };
    try {
      commitSwap(dir, manifest, hook);
      completeSwap(dir, manifest, hook);
      const { segment } = await LogSegment.open(dir, base, this.target.segmentConfig, false);
      this.target.replaceSegments(w.group, segment);
    } catch (err) {
      throw new SwapFailure(err);
    }
    progress.swappedGroups++;
    progress.reclaimedBytes += w.inputBytes - outputBytes;
  }
}

/** An error after a swap's commit point (the in-memory log no longer matches the files). */
class SwapFailure extends Error {
  constructor(override readonly cause: unknown) {
    super(`cleaner swap failed: ${(cause as Error)?.message}`);
  }
}
