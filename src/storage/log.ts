/**
 * The log of one partition: a directory `<data-dir>/<topic>-<partition>/` of segments (see
 * log-segment.ts and segment-files.ts), the idempotent-producer state, and a checkpoint.
 *
 * Vocabulary (Kafka's): logStartOffset — first readable offset; logEndOffset (LEO) — the offset the
 * next record gets; highWatermark — last offset readers may see + 1 (= LEO on a single node);
 * recoveryPoint — everything below it has been fsynced.
 *
 * Invariants: segments are sorted by base offset and never overlap; the last one is the active
 * segment, the only one written to; there is always an active segment (possibly empty). Batches on
 * disk are whole and CRC-valid; offsets are assigned here and nowhere else.
 *
 * Appends happen in two steps so that decompression (asynchronous for zstd) never reorders them:
 * `prepareBatch` validates one batch without touching the log (pure, may be async), `append` assigns
 * offsets and writes a run of prepared batches with one vectored write (synchronous). The caller
 * (the partition actor) keeps batches in arrival order between the two.
 *
 * Compaction (`cleanup.policy` with `compact`): a LogCleaner (log-cleaner.ts) rewrites closed
 * segments in bounded steps that the owner runs through the partition's mailbox (`clean`); open()
 * first finishes or rolls back a swap a crash interrupted (cleaner-swap.ts). Retention, DeleteRecords
 * and truncation bump `layoutVersion`, which makes a pass in progress start over.
 *
 * Flush policy (Kafka's): by default data goes to the page cache only (a killed process loses
 * nothing acknowledged); `flush.messages` makes appends that reach the threshold wait for an fsync,
 * `flush.ms` fsyncs in the background. fsyncs use group commit: while one runs, every append that
 * needs durability waits for the next one, which then covers all of them.
 *
 * Owned by the worker thread that owns the partition; never shared between threads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type ErrorData, errorData, SluiceError } from '../errors.ts';
import {
  BATCH_HEADER_SIZE,
  batchSizeAt,
  checkBatch,
  decodeRecordBatch,
  findRecordByTimestamp,
  type RecordBatchHeader,
  readBatchHeader,
  setBaseOffset,
  setMaxTimestampAndType,
  setPartitionLeaderEpoch,
  summarizeRecords,
  summarizeRecordsSync,
} from '../protocol/kafka/record-batch.ts';
import { hasCleanerCheckpoint, readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import { fsyncDirectory, recoverCleanerFiles } from './cleaner-swap.ts';
import {
  type CleanerStatus,
  type CleanerTarget,
  type CleanOptions,
  type CleanProgress,
  LogCleaner,
} from './log-cleaner.ts';
import type { LogConfig } from './log-config.ts';
import { LogSegment, type SegmentAppend, type SegmentConfig } from './log-segment.ts';
import { ProducerStateManager } from './producer-state.ts';
import {
  CLEAN_SHUTDOWN_FILE,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  parseOffsetFileName,
  TIME_INDEX_SUFFIX,
} from './segment-files.ts';

/** A single broker is always the leader, at epoch 0. */
export const LEADER_EPOCH = 0;
const INT32_MAX = 0x7fffffff;

/** A batch that passed validation and waits for its offsets. */
export interface PreparedBatch {
  bytes: Uint8Array;
  header: RecordBatchHeader;
  /** Largest record timestamp, read from the records themselves. */
  maxTimestamp: number;
}

export type AppendOutcome =
  | {
      ok: true;
      baseOffset: number;
      lastOffset: number;
      /** Broker time stamped on the batch for LogAppendTime topics, else -1. */
      logAppendTime: number;
      logStartOffset: number;
      recordCount: number;
      /** True when an idempotent producer resent a batch already in the log (nothing was appended). */
      duplicate: boolean;
    }
  | { ok: false; error: ErrorData };

export interface AppendResult {
  outcomes: AppendOutcome[];
  /** True when the caller must `await flush()` before acknowledging (flush.messages reached). */
  needsFsync: boolean;
}

export interface ReadResult {
  /** Whole batches (the first one whole even past maxBytes); undefined when there is nothing to read. */
  bytes: Buffer | undefined;
  highWatermark: number;
  logStartOffset: number;
}

export type OffsetQuery =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'maxTimestamp' }
  | { kind: 'timestamp'; timestamp: number };

/** offset -1 / timestamp -1 when no record matches (as Kafka answers). */
export interface OffsetAnswer {
  offset: number;
  timestamp: number;
}

export interface LogStats {
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  recoveryPoint: number;
  sizeBytes: number;
  segmentCount: number;
  producerCount: number;
}

export interface OpenReport {
  /** True when the partition had been closed cleanly (no scan was needed). */
  clean: boolean;
  /** Segments scanned batch by batch. */
  scannedSegments: number;
  /** Bytes cut off torn or corrupt tails. */
  truncatedBytes: number;
  /** Segments deleted because they followed a corrupt one. */
  deletedSegments: number;
  /** Why a scan stopped early, if one did. */
  reasons: string[];
  /** Cleaner swaps a crash had interrupted after their commit point, completed on open. */
  completedSwaps?: number;
  /** Leftover cleaner files (uncommitted `.cleaned`, stray `.swap`) deleted on open. */
  removedCleanerFiles?: number;
}

export interface RetentionResult {
  deletedSegments: number;
  deletedBytes: number;
}

export interface LogOptions {
  /** Wall clock, replaceable in tests. */
  now?: () => number;
  /** Told the duration of every fsync, in seconds (for the fsync latency metric). */
  onFsync?: (seconds: number) => void;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class PartitionLog {
  readonly dir: string;
  private config: LogConfig;
  private readonly segments: LogSegment[];
  private readonly producers: ProducerStateManager;
  private readonly now: () => number;
  private readonly onFsync: ((seconds: number) => void) | undefined;
  logStartOffset: number;
  private recoveryPoint: number;
  readonly openReport: OpenReport;

  private unflushedMessages = 0;
  private lastFlushTime: number;
  private readonly dirty = new Set<LogSegment>();
  private flushRunning: Promise<void> | undefined;
  private flushQueued: Deferred | undefined;
  private readonly cleaner: LogCleaner;
  /** Bumped when anything but the cleaner removes or cuts segments (a cleaning pass then restarts). */
  private layoutVersion = 0;
  /** Set after an I/O error: the partition must be closed and reopened (recovery repairs it). */
  failure: ErrorData | undefined;
  private closed = false;

  private constructor(
    dir: string,
    config: LogConfig,
    segments: LogSegment[],
    producers: ProducerStateManager,
    logStartOffset: number,
    recoveryPoint: number,
    openReport: OpenReport,
    options: LogOptions,
  ) {
    this.dir = dir;
    this.config = config;
    this.segments = segments;
    this.producers = producers;
    this.logStartOffset = logStartOffset;
    this.recoveryPoint = recoveryPoint;
    this.openReport = openReport;
    this.now = options.now ?? Date.now;
    this.onFsync = options.onFsync;
    this.lastFlushTime = this.now();
    this.cleaner = new LogCleaner(this.cleanerTarget());
  }

  /** Open (or create) the log in `dir`, recovering it if it was not closed cleanly. */
  static async open(dir: string, config: LogConfig, options: LogOptions = {}): Promise<PartitionLog> {
    const now = options.now ?? Date.now;
    fs.mkdirSync(dir, { recursive: true });
    for (const name of fs.readdirSync(dir))
      if (name.endsWith('.tmp')) fs.rmSync(path.join(dir, name), { force: true });
    // Before the segments are listed: finish a committed cleaner swap, drop uncommitted output.
    const swaps = recoverCleanerFiles(dir);
    const names = fs.readdirSync(dir);

    const markerPath = path.join(dir, CLEAN_SHUTDOWN_FILE);
    const clean = fs.existsSync(markerPath);
    if (clean) {
      // Remove the marker durably before anything is written, so that a crash from now on is
      // recognised as unclean.
      fs.rmSync(markerPath);
      fsyncDirectory(dir);
    }
    const checkpoint = readCheckpoint(dir) ?? { logStartOffset: 0, recoveryPoint: 0 };
    const segConfig = segmentConfig(config);
    // A log that was ever cleaned has gaps between batches, even if it is no longer compacted.
    const requireContiguous = !config.cleanupPolicy.includes('compact') && !hasCleanerCheckpoint(dir);

    const baseOffsets = names
      .map((n) => parseOffsetFileName(n, LOG_SUFFIX))
      .filter((o): o is number => o !== undefined)
      .sort((a, b) => a - b);
    // Index files whose log is gone are leftovers of an interrupted deletion.
    const bases = new Set(baseOffsets);
    for (const name of names) {
      const o = parseOffsetFileName(name, INDEX_SUFFIX) ?? parseOffsetFileName(name, TIME_INDEX_SUFFIX);
      if (o !== undefined && !bases.has(o)) fs.rmSync(path.join(dir, name), { force: true });
    }

    const report: OpenReport = {
      clean,
      scannedSegments: 0,
      truncatedBytes: 0,
      deletedSegments: 0,
      reasons: [],
    };
    if (swaps.completed > 0) report.completedSwaps = swaps.completed;
    if (swaps.removedFiles > 0) report.removedCleanerFiles = swaps.removedFiles;
    const segments: LogSegment[] = [];
    if (baseOffsets.length === 0) {
      segments.push(LogSegment.create(dir, checkpoint.logStartOffset, segConfig));
    } else {
      // After an unclean stop, scan from the segment that holds the recovery point onwards.
      let scanFrom = baseOffsets.length;
      if (!clean) {
        scanFrom = 0;
        for (let i = 0; i < baseOffsets.length; i++)
          if (baseOffsets[i]! <= checkpoint.recoveryPoint) scanFrom = i;
      }
      for (let i = 0; i < baseOffsets.length; i++) {
        const base = baseOffsets[i]!;
        const opened =
          i < scanFrom
            ? await LogSegment.open(dir, base, segConfig, requireContiguous)
            : await LogSegment.openForRecovery(dir, base, segConfig, requireContiguous);
        segments.push(opened.segment);
        if (i >= scanFrom) report.scannedSegments++;
        if (opened.recovery) {
          report.truncatedBytes += opened.recovery.truncatedBytes;
          if (opened.recovery.reason !== undefined) {
            report.reasons.push(`segment ${base}: ${opened.recovery.reason}`);
            // Whatever follows a damaged batch cannot be trusted to continue the log.
            for (const later of baseOffsets.slice(i + 1)) {
              const doomed = await LogSegment.open(dir, later, segConfig, requireContiguous).catch(
                () => undefined,
              );
              doomed?.segment.delete();
              report.deletedSegments++;
            }
            break;
          }
        }
      }
    }

    const producers = new ProducerStateManager(dir);
    const active = segments[segments.length - 1]!;
    const logEndOffset = active.nextOffset;
    const logStartOffset = Math.min(
      Math.max(checkpoint.logStartOffset, segments[0]!.baseOffset),
      logEndOffset,
    );
    const replayFrom = producers.loadSnapshot(logEndOffset) ?? segments[0]!.baseOffset;
    for (const segment of segments) {
      if (segment.nextOffset <= replayFrom) continue;
      segment.forEachBatch(replayFrom, (batch, scanner) => {
        const header = scanner.header(batch);
        if (batch.baseOffset >= replayFrom)
          producers.update(header, batch.baseOffset, batch.lastOffset, now());
        return true;
      });
    }
    producers.expire(now(), config.producerIdExpirationMs);

    let recoveryPoint = clean ? logEndOffset : Math.min(checkpoint.recoveryPoint, logEndOffset);
    if (report.scannedSegments > 0) {
      // Make what recovery kept durable, so the next recovery can start from here.
      for (const s of segments) s.fsyncSync();
      recoveryPoint = logEndOffset;
    }
    writeCheckpoint(dir, { logStartOffset, recoveryPoint });
    return new PartitionLog(dir, config, segments, producers, logStartOffset, recoveryPoint, report, options);
  }

  get logEndOffset(): number {
    return this.active.nextOffset;
  }

  /** Single node: every appended record is replicated to the whole (one-broker) ISR at once. */
  get highWatermark(): number {
    return this.active.nextOffset;
  }

  get currentConfig(): LogConfig {
    return this.config;
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  /** Apply new topic settings (segment sizes take effect at the next roll, as in Kafka). */
  reconfigure(config: LogConfig): void {
    this.config = config;
  }

  /**
   * Assign offsets to prepared batches (in order) and write them. Duplicates from idempotent
   * producers are answered with their original offsets and not written; sequence and epoch errors
   * are answered per batch. Rolls segments as needed.
   */
  append(batches: PreparedBatch[]): AppendResult {
    if (this.closed) {
      return {
        outcomes: batches.map(() => ({ ok: false, error: errorData('PARTITION_CLOSED') })),
        needsFsync: false,
      };
    }
    if (this.failure) {
      const failure = this.failure;
      return { outcomes: batches.map(() => ({ ok: false, error: failure })), needsFsync: false };
    }
    const now = this.now();
    const outcomes: AppendOutcome[] = [];
    let pending: SegmentAppend[] = [];
    let pendingBytes = 0;
    let nextOffset = this.active.nextOffset;
    const written: number[] = [];
    try {
      for (const batch of batches) {
        const check = this.producers.check(batch.header);
        if (check.kind === 'error') {
          outcomes.push({ ok: false, error: check.error });
          continue;
        }
        if (check.kind === 'duplicate') {
          outcomes.push({
            ok: true,
            baseOffset: check.batch.firstOffset,
            lastOffset: check.batch.lastOffset,
            logAppendTime: this.config.messageTimestampType === 'LogAppendTime' ? check.batch.timestamp : -1,
            logStartOffset: this.logStartOffset,
            recordCount: batch.header.recordsCount,
            duplicate: true,
          });
          continue;
        }
        const baseOffset = nextOffset;
        const lastOffset = baseOffset + batch.header.lastOffsetDelta;
        if (this.shouldRoll(this.active.size + pendingBytes, batch.bytes.byteLength, lastOffset, now)) {
          this.active.append(pending);
          pending = [];
          pendingBytes = 0;
          this.roll();
        }
        if (this.active.isEmpty && pending.length === 0) this.active.rollingBasedTimestamp = now;
        setBaseOffset(batch.bytes, 0, baseOffset);
        setPartitionLeaderEpoch(batch.bytes, 0, LEADER_EPOCH);
        let maxTimestamp = batch.maxTimestamp;
        let logAppendTime = -1;
        if (this.config.messageTimestampType === 'LogAppendTime') {
          setMaxTimestampAndType(batch.bytes, 0, now, true);
          maxTimestamp = now;
          logAppendTime = now;
          batch.header.maxTimestamp = now;
        }
        pending.push({ bytes: batch.bytes, baseOffset, lastOffset, maxTimestamp });
        pendingBytes += batch.bytes.byteLength;
        this.producers.update(batch.header, baseOffset, lastOffset, now);
        nextOffset = lastOffset + 1;
        this.unflushedMessages += batch.header.recordsCount;
        written.push(outcomes.length);
        outcomes.push({
          ok: true,
          baseOffset,
          lastOffset,
          logAppendTime,
          logStartOffset: this.logStartOffset,
          recordCount: batch.header.recordsCount,
          duplicate: false,
        });
      }
      this.active.append(pending);
      if (written.length > 0) this.dirty.add(this.active);
    } catch (err) {
      // A failed write leaves the in-memory state ahead of the file: refuse further appends until
      // the partition is reopened, which recovers the file and rebuilds the producer state.
      this.failure = errorData('KAFKA_STORAGE_ERROR', `write failed: ${(err as Error).message}`);
      for (const i of written) outcomes[i] = { ok: false, error: this.failure };
      return { outcomes, needsFsync: false };
    }
    const needsFsync = written.length > 0 && this.unflushedMessages >= this.config.flushMessages;
    return { outcomes, needsFsync };
  }

  private shouldRoll(activeSize: number, batchSize: number, lastOffset: number, now: number): boolean {
    if (activeSize === 0) return false;
    const active = this.active;
    return (
      activeSize + batchSize > this.config.segmentBytes ||
      (active.rollingBasedTimestamp !== undefined &&
        now - Math.min(active.rollingBasedTimestamp, now) >= this.config.segmentMs) ||
      active.indexIsFull ||
      lastOffset - active.baseOffset > INT32_MAX
    );
  }

  /** Seal the active segment and start a new one at the log end offset. */
  private roll(): void {
    const old = this.active;
    old.seal();
    this.dirty.add(old);
    const next = LogSegment.create(this.dir, old.nextOffset, segmentConfig(this.config));
    this.segments.push(next);
    this.producers.takeSnapshot(next.baseOffset);
    // Rolled segments are fsynced in the background (as Kafka does), which moves the recovery point.
    this.flush().catch(() => {});
  }

  /**
   * fsync everything written so far (group commit): resolves once an fsync that started after
   * this call has completed.
   */
  flush(): Promise<void> {
    if (!this.flushRunning) return this.startFlush();
    this.flushQueued ??= deferred();
    return this.flushQueued.promise;
  }

  private startFlush(): Promise<void> {
    const segments = [...this.dirty];
    this.dirty.clear();
    const upTo = this.logEndOffset;
    this.unflushedMessages = 0;
    this.lastFlushTime = this.now();
    const started = performance.now();
    const run = Promise.all(segments.map((s) => s.fsync())).then(
      () => {
        if (segments.length > 0) this.onFsync?.((performance.now() - started) / 1000);
        if (upTo > this.recoveryPoint) this.recoveryPoint = upTo;
      },
      (err: unknown) => {
        this.failure = errorData('KAFKA_STORAGE_ERROR', `fsync failed: ${(err as Error).message}`);
        throw new SluiceError('KAFKA_STORAGE_ERROR', this.failure.message);
      },
    );
    const settled = run.finally(() => {
      this.flushRunning = undefined;
      const queued = this.flushQueued;
      this.flushQueued = undefined;
      if (queued) this.startFlush().then(queued.resolve, queued.reject);
    });
    // The caller gets `run`; `settled` only sequences the next round (its rejection is the caller's).
    settled.catch(() => {});
    this.flushRunning = settled;
    return run;
  }

  /** Periodic duties: flush.ms, producer-id expiry. */
  tick(now: number): void {
    if (this.unflushedMessages > 0 && now - this.lastFlushTime >= this.config.flushMs && !this.flushRunning) {
      this.flush().catch(() => {});
    }
    this.producers.expire(now, this.config.producerIdExpirationMs);
  }

  /**
   * Whole batches from the one holding `offset`, at most `maxBytes` (but always one whole batch).
   * Throws OFFSET_OUT_OF_RANGE outside [logStartOffset, highWatermark].
   */
  read(offset: number, maxBytes: number): ReadResult {
    const highWatermark = this.highWatermark;
    if (offset < this.logStartOffset || offset > highWatermark) {
      throw new SluiceError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${offset} is outside [${this.logStartOffset}, ${highWatermark}] of this partition`,
      );
    }
    const result: ReadResult = { bytes: undefined, highWatermark, logStartOffset: this.logStartOffset };
    if (offset === highWatermark) return result;
    for (let i = this.segmentIndexFor(offset); i < this.segments.length; i++) {
      const found = this.segments[i]!.read(offset, maxBytes);
      if (found) {
        result.bytes = found.bytes;
        return result;
      }
    }
    return result;
  }

  /** Answer a ListOffsets query: earliest, latest, max timestamp, or the first record at/after a time. */
  async listOffset(query: OffsetQuery): Promise<OffsetAnswer> {
    switch (query.kind) {
      case 'earliest':
        return { offset: this.logStartOffset, timestamp: -1 };
      case 'latest':
        return { offset: this.highWatermark, timestamp: -1 };
      case 'maxTimestamp': {
        let best: LogSegment | undefined;
        for (const s of this.segments)
          if (!s.isEmpty && (!best || s.maxTimestamp > best.maxTimestamp)) best = s;
        if (!best || best.maxTimestamp < 0) return { offset: -1, timestamp: -1 };
        return (await this.findByTimestamp(best.maxTimestamp, [best])) ?? { offset: -1, timestamp: -1 };
      }
      case 'timestamp':
        return (await this.findByTimestamp(query.timestamp, this.segments)) ?? { offset: -1, timestamp: -1 };
    }
  }

  private async findByTimestamp(target: number, segments: LogSegment[]): Promise<OffsetAnswer | undefined> {
    for (const segment of segments) {
      if (segment.isEmpty || segment.maxTimestamp < target || segment.nextOffset <= this.logStartOffset)
        continue;
      const start = Math.max(segment.timeIndexLookup(target), this.logStartOffset, segment.baseOffset);
      const scanner = segment.scanner();
      for (let b = segment.findBatch(start, scanner); b; b = scanner.at(b.position + b.size)) {
        const header = scanner.header(b);
        if (header.timestampType === 'LogAppendTime') {
          if (header.maxTimestamp >= target) {
            return { offset: Math.max(b.baseOffset, this.logStartOffset), timestamp: header.maxTimestamp };
          }
          continue;
        }
        const bytes = segment.readAt(b.position, b.size);
        const found = await findRecordByTimestamp(bytes, target);
        if (found && found.offset >= this.logStartOffset) return found;
        if (found) {
          // The match lies below the log start (DeleteRecords cut into this batch): look further in it.
          const later = await firstRecordAtOrAfter(bytes, target, this.logStartOffset);
          if (later) return later;
        }
      }
    }
    return undefined;
  }

  /** The index of the last segment whose base offset is ≤ offset (0 when none is). */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * Delete whole segments past retention.ms (by their newest record) or beyond retention.bytes
   * (oldest first), moving logStartOffset up. An expired active segment is rolled first, so an idle
   * topic is emptied too (as Kafka does).
   */
  applyRetention(now: number): RetentionResult {
    const result: RetentionResult = { deletedSegments: 0, deletedBytes: 0 };
    if (this.closed || this.failure || !this.config.cleanupPolicy.includes('delete')) return result;
    let count = 0;
    const { retentionMs, retentionBytes } = this.config;
    if (retentionMs >= 0) {
      for (let i = 0; i < this.segments.length; i++) {
        const s = this.segments[i]!;
        // A closed segment compaction emptied neither expires nor stops the expired ones after it.
        if (s.isEmpty && i < this.segments.length - 1) continue;
        if (s.isEmpty || s.maxTimestamp < 0 || now - s.maxTimestamp <= retentionMs) break;
        count = i + 1;
      }
    }
    if (retentionBytes >= 0) {
      let excess = this.segments.reduce((sum, s) => sum + s.size, 0) - retentionBytes;
      for (let i = 0; i < count; i++) excess -= this.segments[i]!.size;
      // Size-based retention only removes closed segments.
      while (count < this.segments.length - 1 && excess - this.segments[count]!.size >= 0) {
        excess -= this.segments[count]!.size;
        count++;
      }
    }
    if (count === 0) return result;
    this.layoutVersion++;
    if (count === this.segments.length) this.roll();
    for (const s of this.segments.splice(0, count)) {
      result.deletedBytes += s.size;
      result.deletedSegments++;
      this.dirty.delete(s);
      s.delete();
    }
    this.logStartOffset = Math.max(this.logStartOffset, this.segments[0]!.baseOffset);
    this.writeCheckpoint();
    return result;
  }

  /** DeleteRecords: make `offset` the new log start; whole segments below it are deleted. */
  deleteRecordsBefore(offset: number): number {
    if (offset > this.highWatermark || offset < 0) {
      throw new SluiceError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${offset} is beyond the high watermark ${this.highWatermark}`,
      );
    }
    if (offset <= this.logStartOffset) return this.logStartOffset;
    this.logStartOffset = offset;
    this.layoutVersion++;
    while (this.segments.length > 1 && this.segments[0]!.nextOffset <= offset) {
      const s = this.segments.shift()!;
      this.dirty.delete(s);
      s.delete();
    }
    this.writeCheckpoint();
    return this.logStartOffset;
  }

  /**
   * Remove every batch holding an offset ≥ `offset` (whole batches: the log may end below it).
   * Returns the new log end offset.
   */
  truncateTo(offset: number): number {
    if (offset >= this.logEndOffset) return this.logEndOffset;
    if (offset < this.logStartOffset)
      throw new SluiceError('OFFSET_OUT_OF_RANGE', `cannot truncate below the log start`);
    this.layoutVersion++;
    while (this.segments.length > 1 && this.active.baseOffset >= offset) {
      const s = this.segments.pop()!;
      this.dirty.delete(s);
      s.delete();
    }
    this.active.truncateTo(offset);
    this.producers.truncateTo(this.logEndOffset);
    this.producers.deleteAllSnapshots();
    this.cleaner.truncated(this.logEndOffset);
    if (this.recoveryPoint > this.logEndOffset) this.recoveryPoint = this.logEndOffset;
    this.dirty.add(this.active);
    this.writeCheckpoint();
    return this.logEndOffset;
  }

  stats(): LogStats {
    let sizeBytes = 0;
    for (const s of this.segments) sizeBytes += s.size;
    return {
      logStartOffset: this.logStartOffset,
      logEndOffset: this.logEndOffset,
      highWatermark: this.highWatermark,
      recoveryPoint: this.recoveryPoint,
      sizeBytes,
      segmentCount: this.segments.length,
      producerCount: this.producers.producerCount,
    };
  }

  /** Clean shutdown: everything to disk, producer snapshot, checkpoint, clean-shutdown marker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cleaner.abandon();
    await this.flushRunning?.catch(() => {});
    if (this.failure) {
      // Not clean: leave no marker, so the next open recovers the files.
      for (const s of this.segments) s.close();
      return;
    }
    for (const s of this.segments) {
      s.seal();
      s.fsyncSync();
      s.close();
    }
    this.producers.takeSnapshot(this.logEndOffset);
    this.recoveryPoint = this.logEndOffset;
    this.writeCheckpoint();
    fs.writeFileSync(path.join(this.dir, CLEAN_SHUTDOWN_FILE), '');
    fsyncDirectory(this.dir);
  }

  /** Close without the clean-shutdown marker and delete the partition directory. */
  async deleteLog(): Promise<void> {
    this.closed = true;
    this.cleaner.abandon();
    await this.flushRunning?.catch(() => {});
    for (const s of this.segments) s.delete();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** How dirty the log is and whether it needs cleaning now (see log-cleaner.ts); cheap. */
  cleanerStatus(now = this.now()): CleanerStatus {
    return this.cleaner.status(now);
  }

  /** True while a cleaning pass is in progress (between its steps). */
  get cleaning(): boolean {
    return this.cleaner.running;
  }

  /**
   * One bounded step of log compaction, starting a pass when the log needs one (or `force`).
   * Call again until `done`; the caller (the partition's mailbox) serialises it with appends.
   */
  async clean(options: CleanOptions = {}): Promise<CleanProgress> {
    if (this.closed || this.failure) {
      return { done: true, cleanedBytes: 0, removedRecords: 0, reclaimedBytes: 0, swappedGroups: 0 };
    }
    try {
      return await this.cleaner.step(this.now(), options);
    } catch (err) {
      // A swap failed past its commit point: reopening finishes it (cleaner-swap.ts).
      this.failure = errorData('KAFKA_STORAGE_ERROR', `log cleaner: ${(err as Error).message}`);
      throw new SluiceError('KAFKA_STORAGE_ERROR', this.failure.message);
    }
  }

  /** The cleaner's view of this log: segments, settings, and the swap of cleaned groups. */
  private cleanerTarget(): CleanerTarget {
    const log = this;
    return {
      dir: this.dir,
      get config() {
        return log.config;
      },
      get segmentConfig() {
        return segmentConfig(log.config);
      },
      get segments() {
        return log.segments;
      },
      get logStartOffset() {
        return log.logStartOffset;
      },
      get layoutVersion() {
        return log.layoutVersion;
      },
      replaceSegments: (old, fresh) => {
        const at = this.segments.indexOf(old[0]!);
        if (at < 0 || old.some((s, i) => this.segments[at + i] !== s))
          throw new Error('cleaned segments are no longer in the log');
        this.segments.splice(at, old.length, fresh);
        for (const s of old) {
          this.dirty.delete(s);
          s.release();
        }
      },
      snapshotProducers: () => this.producers.takeSnapshot(this.logEndOffset),
    };
  }

  private writeCheckpoint(): void {
    writeCheckpoint(this.dir, { logStartOffset: this.logStartOffset, recoveryPoint: this.recoveryPoint });
  }
}

/**
 * Validate one record batch as a producer sent it: one whole batch, within max.message.bytes,
 * magic 2, CRC, offset deltas, record structure (decompressing when needed), no control batches,
 * keys on compacted topics. Throws SluiceError; touches no log, so it may run before the batch's
 * turn in the partition's mailbox. Synchronous for uncompressed batches.
 */
export function prepareBatch(bytes: Uint8Array, config: LogConfig): PreparedBatch | Promise<PreparedBatch> {
  const size = batchSizeAt(bytes, 0);
  if (bytes.byteLength < BATCH_HEADER_SIZE || size === undefined) {
    throw new SluiceError('CORRUPT_MESSAGE', `a record batch needs at least ${BATCH_HEADER_SIZE} bytes`);
  }
  if (size !== bytes.byteLength) {
    throw new SluiceError(
      'CORRUPT_MESSAGE',
      `the batch length field says ${size} bytes but ${bytes.byteLength} were sent (exactly one batch per partition)`,
    );
  }
  if (size > config.maxMessageBytes) {
    throw new SluiceError(
      'MESSAGE_TOO_LARGE',
      `the batch is ${size} bytes, above max.message.bytes ${config.maxMessageBytes}`,
    );
  }
  if (size > config.segmentBytes) {
    throw new SluiceError(
      'RECORD_LIST_TOO_LARGE',
      `the batch is ${size} bytes, above segment.bytes ${config.segmentBytes}`,
    );
  }
  const invalid = checkBatch(bytes, 0, size);
  if (invalid) throw SluiceError.from(invalid);
  const header = readBatchHeader(bytes, 0);
  if (header.isControl) throw new SluiceError('INVALID_RECORD', 'producers may not send control batches');
  const compacted = config.cleanupPolicy.includes('compact');
  const finish = (summary: { maxTimestamp: number; allKeysPresent: boolean }): PreparedBatch => {
    if (compacted && !summary.allKeysPresent) {
      throw new SluiceError('INVALID_RECORD', 'a compacted topic needs a key on every record');
    }
    return { bytes, header, maxTimestamp: summary.maxTimestamp };
  };
  if (header.compression === 'none') return finish(summarizeRecordsSync(bytes));
  return summarizeRecords(bytes).then(finish);
}

function segmentConfig(config: LogConfig): SegmentConfig {
  return { indexIntervalBytes: config.indexIntervalBytes, maxIndexBytes: config.segmentIndexBytes };
}

/** The first record at or above `minOffset` whose timestamp is ≥ target (rare DeleteRecords case). */
async function firstRecordAtOrAfter(
  batch: Uint8Array,
  target: number,
  minOffset: number,
): Promise<OffsetAnswer | undefined> {
  const decoded = await decodeRecordBatch(batch);
  for (const r of decoded.records) if (r.offset >= minOffset && r.timestamp >= target) return r;
  return undefined;
}
