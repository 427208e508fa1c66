/**
 * One segment of a partition log: `<20-digit baseOffset>.log` plus its `.index` and `.timeindex`.
 *
 * `.log` byte layout: Kafka RecordBatch v2 batches back to back, exactly the bytes a producer sent
 * except baseOffset and partitionLeaderEpoch (rewritten by the broker, outside the CRC). Nothing else:
 * no header, no padding. Bytes past `size` (a torn tail after a crash) are never read.
 *
 * Invariants: batches are whole and pass their CRC in [0, size); their offsets increase (and are
 * contiguous unless the log is compacted); every batch offset is within [baseOffset, baseOffset + 2^31).
 * `nextOffset` is one past the last offset of the last batch. A segment written by the log cleaner
 * (log-cleaner.ts) holds thinned batches: same baseOffset and lastOffsetDelta, fewer records, so
 * recovery validates batches with the relaxed stored-batch checks (the CRC is still checked).
 *
 * Owned by the worker thread that owns the partition; file I/O is synchronous on that thread
 * (page-cache writes take microseconds; fsync is the one asynchronous operation).
 */
import fs from 'node:fs';
import {
  BATCH_HEADER_SIZE,
  BatchField,
  checkStoredBatch,
  LOG_OVERHEAD,
  summarizeStoredRecords,
} from '../protocol/kafka/record-batch.ts';
import { BatchScanner, readInt64, type ScannedBatch } from './batch-scanner.ts';
import { OffsetIndex } from './offset-index.ts';
import { CLEANED_SUFFIX, segmentPaths } from './segment-files.ts';
import { TimeIndex } from './time-index.ts';

/** Header bytes needed to step from batch to batch: up to and including lastOffsetDelta. */
const SCAN_BYTES = BatchField.lastOffsetDelta + 4;

export interface SegmentConfig {
  /** index.interval.bytes: log bytes between two index entries. */
  indexIntervalBytes: number;
  /** segment.index.bytes: maximum size of an index file; a full index rolls the segment. */
  maxIndexBytes: number;
}

/** A validated batch ready to be written; offsets already assigned. */
export interface SegmentAppend {
  bytes: Uint8Array;
  baseOffset: number;
  lastOffset: number;
  /** The largest record timestamp in the batch (from the records, not the header). */
  maxTimestamp: number;
}

export interface RecoveryResult {
  /** Bytes cut from the end of the file (a torn or corrupt tail). */
  truncatedBytes: number;
  /** Why the scan stopped early, when it did. */
  reason?: string;
}

export class LogSegment {
  readonly baseOffset: number;
  readonly paths: { log: string; index: string; timeIndex: string };
  private fd: number;
  private offsetIndex: OffsetIndex;
  private timeIndex: TimeIndex;
  /** Bytes of valid batches in the `.log` file. */
  size = 0;
  nextOffset: number;
  /** Largest record timestamp in the segment, -1 when empty (or when no record has one). */
  maxTimestamp = -1;
  /**
   * When the segment received its first batch (broker clock), the start of segment.ms. The log sets
   * it on first append; a reopened segment takes its first batch's header maxTimestamp instead.
   */
  rollingBasedTimestamp: number | undefined;
  private bytesSinceLastIndexEntry = 0;
  private readonly config: SegmentConfig;
  private fsyncsInFlight = 0;
  private closeAfterFsync = false;

  private constructor(
    baseOffset: number,
    paths: { log: string; index: string; timeIndex: string },
    fd: number,
    offsetIndex: OffsetIndex,
    timeIndex: TimeIndex,
    config: SegmentConfig,
  ) {
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.paths = paths;
    this.fd = fd;
    this.offsetIndex = offsetIndex;
    this.timeIndex = timeIndex;
    this.config = config;
  }

  /** A new empty segment; fails if its `.log` file already exists. */
  static create(dir: string, baseOffset: number, config: SegmentConfig): LogSegment {
    const paths = segmentPaths(dir, baseOffset);
    const fd = fs.openSync(paths.log, 'wx+');
    return new LogSegment(
      baseOffset,
      paths,
      fd,
      OffsetIndex.create(paths.index, baseOffset, config.maxIndexBytes),
      TimeIndex.create(paths.timeIndex, baseOffset, config.maxIndexBytes),
      config,
    );
  }

  /**
   * A new empty segment written to `<base>.log.cleaned` (and `.index.cleaned`, `.timeindex.cleaned`):
   * the log cleaner's output, which cleaner-swap.ts later renames into place. Leftovers of an
   * abandoned attempt at the same names are replaced.
   */
  static createCleaned(dir: string, baseOffset: number, config: SegmentConfig): LogSegment {
    const paths = segmentPaths(dir, baseOffset, CLEANED_SUFFIX);
    const fd = fs.openSync(paths.log, 'w+');
    return new LogSegment(
      baseOffset,
      paths,
      fd,
      OffsetIndex.create(paths.index, baseOffset, config.maxIndexBytes),
      TimeIndex.create(paths.timeIndex, baseOffset, config.maxIndexBytes),
      config,
    );
  }

  /**
   * Open an existing segment whose contents are trusted (cleanly closed, or below the recovery
   * point). When an index is missing or inconsistent, or the file does not end on a batch
   * boundary, the segment is scanned and its indexes rebuilt (see `openForRecovery`).
   */
  static async open(
    dir: string,
    baseOffset: number,
    config: SegmentConfig,
    requireContiguous: boolean,
  ): Promise<{ segment: LogSegment; recovery?: RecoveryResult }> {
    const paths = segmentPaths(dir, baseOffset);
    const fd = fs.openSync(paths.log, 'r+');
    const size = fs.fstatSync(fd).size;
    const rescan = async () => {
      fs.closeSync(fd);
      return LogSegment.openForRecovery(dir, baseOffset, config, requireContiguous);
    };
    const offsetIndex = OffsetIndex.load(paths.index, baseOffset, size, config.maxIndexBytes);
    if (!offsetIndex) return rescan();
    // Find the end offset: scan headers from the last index entry to the end of the file.
    const scanner = new BatchScanner(fd, size);
    let position = offsetIndex.last?.position ?? 0;
    let last: ScannedBatch | undefined;
    for (let b = scanner.at(position); b; b = scanner.at(position)) {
      last = b;
      position += b.size;
    }
    if (position !== size) return rescan();
    const nextOffset = last ? last.lastOffset + 1 : baseOffset;
    const timeIndex = TimeIndex.load(paths.timeIndex, baseOffset, nextOffset, config.maxIndexBytes);
    if (!timeIndex) return rescan();
    const segment = new LogSegment(baseOffset, paths, fd, offsetIndex, timeIndex, config);
    segment.size = size;
    segment.nextOffset = nextOffset;
    segment.maxTimestamp = timeIndex.last?.timestamp ?? -1;
    segment.bytesSinceLastIndexEntry = size - (offsetIndex.last?.position ?? 0);
    const first = size > 0 ? scanner.at(0) : undefined;
    if (first) segment.rollingBasedTimestamp = scanner.header(first).maxTimestamp;
    return { segment };
  }

  /** Open a segment that must be scanned (after an unclean stop): validate every batch, rebuild indexes. */
  static async openForRecovery(
    dir: string,
    baseOffset: number,
    config: SegmentConfig,
    requireContiguous: boolean,
  ): Promise<{ segment: LogSegment; recovery: RecoveryResult }> {
    const paths = segmentPaths(dir, baseOffset);
    const fd = fs.openSync(paths.log, 'r+');
    const segment = new LogSegment(
      baseOffset,
      paths,
      fd,
      OffsetIndex.create(paths.index, baseOffset, config.maxIndexBytes),
      TimeIndex.create(paths.timeIndex, baseOffset, config.maxIndexBytes),
      config,
    );
    segment.size = fs.fstatSync(fd).size;
    const recovery = await segment.recover({ requireContiguous });
    return { segment, recovery };
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  get indexIsFull(): boolean {
    return this.offsetIndex.isFull || this.timeIndex.isFull;
  }

  /** Write validated batches at the end of the segment with one vectored write. */
  append(batches: SegmentAppend[]): void {
    if (batches.length === 0) return;
    let position = this.size;
    for (const b of batches) {
      if (this.bytesSinceLastIndexEntry >= this.config.indexIntervalBytes) {
        this.offsetIndex.append(b.baseOffset, position);
        if (this.maxTimestamp >= 0) this.timeIndex.append(this.maxTimestamp, b.baseOffset);
        this.bytesSinceLastIndexEntry = 0;
      }
      position += b.bytes.byteLength;
      this.bytesSinceLastIndexEntry += b.bytes.byteLength;
      if (b.maxTimestamp > this.maxTimestamp) this.maxTimestamp = b.maxTimestamp;
    }
    writeAllv(
      this.fd,
      batches.map((b) => b.bytes),
      this.size,
    );
    this.size = position;
    this.nextOffset = batches[batches.length - 1]!.lastOffset + 1;
  }

  /**
   * The first batch whose last offset is ≥ `offset`, found from the offset index by scanning
   * headers; undefined when the segment has no such batch.
   */
  findBatch(offset: number, scanner = this.scanner()): ScannedBatch | undefined {
    let position = this.offsetIndex.lookup(offset).position;
    for (let b = scanner.at(position); b; b = scanner.at(position)) {
      if (b.lastOffset >= offset) return b;
      position += b.size;
    }
    return undefined;
  }

  /**
   * Whole batches starting with the one that holds `offset`, up to `maxBytes` in total, but always
   * at least one whole batch (even when it alone is larger than maxBytes). The bytes are a view of
   * a buffer that owns its memory (an ArrayBuffer of its own), so that buffer can be transferred to
   * another thread.
   *
   * One read normally does it all: from the index entry below `offset`, enough bytes for the
   * scan to the first batch (at most about one index interval) plus `maxBytes`.
   */
  read(offset: number, maxBytes: number): { bytes: Buffer; firstOffset: number } | undefined {
    const start = this.offsetIndex.lookup(offset).position;
    if (start >= this.size) return undefined;
    const want = Math.max(maxBytes, 1) + 2 * this.config.indexIntervalBytes + BATCH_HEADER_SIZE;
    const blockLength = Math.min(this.size - start, want);
    const block = this.readAt(start, blockLength);
    let pos = 0;
    let first = -1;
    let firstOffset = 0;
    let firstSize = 0;
    while (pos + SCAN_BYTES <= blockLength) {
      const size = block.readInt32BE(pos + BatchField.batchLength) + LOG_OVERHEAD;
      if (size < BATCH_HEADER_SIZE) break; // cannot happen below `size` (recovered data); never loop on it
      const base = readInt64(block, pos + BatchField.baseOffset);
      if (base + block.readInt32BE(pos + BatchField.lastOffsetDelta) >= offset) {
        first = pos;
        firstOffset = base;
        firstSize = size;
        break;
      }
      pos += size;
    }
    // The target lies beyond this block (an unusually long scan): walk the headers instead.
    if (first < 0) return this.readScanning(offset, maxBytes);
    let end = first + firstSize;
    if (end > blockLength) {
      // The first batch alone is larger than the block: read exactly that batch.
      return { bytes: this.readAt(start + first, firstSize), firstOffset };
    }
    while (end + SCAN_BYTES <= blockLength) {
      const size = block.readInt32BE(end + BatchField.batchLength) + LOG_OVERHEAD;
      if (size < BATCH_HEADER_SIZE || end + size - first > maxBytes || end + size > blockLength) break;
      end += size;
    }
    return { bytes: block.subarray(first, end), firstOffset };
  }

  /** `read` by walking batch headers block by block, then reading exactly the answer. */
  private readScanning(offset: number, maxBytes: number): { bytes: Buffer; firstOffset: number } | undefined {
    const scanner = this.scanner();
    const first = this.findBatch(offset, scanner);
    if (!first) return undefined;
    let end = first.position + first.size;
    for (let b = scanner.at(end); b; b = scanner.at(end)) {
      if (end + b.size - first.position > maxBytes) break;
      end += b.size;
    }
    return { bytes: this.readAt(first.position, end - first.position), firstOffset: first.baseOffset };
  }

  /** Read raw bytes [position, position + length) of the `.log` file. */
  readAt(position: number, length: number): Buffer {
    const bytes = Buffer.allocUnsafeSlow(length);
    const got = fs.readSync(this.fd, bytes, 0, length, position);
    if (got !== length) throw new Error(`short read: ${got} of ${length} bytes at ${position}`);
    return bytes;
  }

  /** Visit every batch (position order) from the one holding `fromOffset`; return false to stop. */
  forEachBatch(
    fromOffset: number,
    visit: (batch: ScannedBatch, scanner: BatchScanner) => boolean | undefined,
  ): void {
    const scanner = this.scanner();
    let b = this.findBatch(fromOffset, scanner);
    while (b) {
      if (visit(b, scanner) === false) return;
      b = scanner.at(b.position + b.size);
    }
  }

  /** The offset to start scanning from when looking for the first record with timestamp ≥ T. */
  timeIndexLookup(timestamp: number): number {
    return this.timeIndex.lookup(timestamp);
  }

  scanner(): BatchScanner {
    return new BatchScanner(this.fd, this.size);
  }

  /**
   * Scan the whole `.log`, validating each batch (length, magic, CRC, record structure and, when
   * asked, offset contiguity); rebuild both indexes; cut the file at the first invalid byte.
   */
  async recover(options: { requireContiguous: boolean }): Promise<RecoveryResult> {
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.maxTimestamp = -1;
    this.rollingBasedTimestamp = undefined;
    this.bytesSinceLastIndexEntry = 0;
    const fileSize = fs.fstatSync(this.fd).size;
    const scanner = new BatchScanner(this.fd, fileSize, 1024 * 1024);
    let position = 0;
    let expectedOffset = this.baseOffset;
    let reason: string | undefined;
    while (position < fileSize) {
      const b = scanner.at(position);
      if (!b) {
        reason = `incomplete or implausible batch header at byte ${position}`;
        break;
      }
      if (b.baseOffset < expectedOffset || (options.requireContiguous && b.baseOffset !== expectedOffset)) {
        reason = `batch at byte ${position} has base offset ${b.baseOffset}, expected ${expectedOffset}`;
        break;
      }
      if (b.lastOffset - this.baseOffset > 0x7fffffff || b.lastOffset < b.baseOffset) {
        reason = `batch at byte ${position} has offsets out of the segment's range`;
        break;
      }
      const bytes = scanner.cached(b.position, b.position + b.size) ?? this.readAt(b.position, b.size);
      const invalid = checkStoredBatch(bytes, 0, bytes.length);
      if (invalid) {
        reason = `batch at byte ${position}: ${invalid.message}`;
        break;
      }
      let maxTimestamp: number;
      try {
        maxTimestamp = (await summarizeStoredRecords(bytes)).maxTimestamp;
      } catch (err) {
        reason = `batch at byte ${position}: ${(err as Error).message}`;
        break;
      }
      if (this.bytesSinceLastIndexEntry >= this.config.indexIntervalBytes) {
        this.offsetIndex.append(b.baseOffset, position);
        if (this.maxTimestamp >= 0) this.timeIndex.append(this.maxTimestamp, b.baseOffset);
        this.bytesSinceLastIndexEntry = 0;
      }
      if (position === 0) this.rollingBasedTimestamp = headerMaxTimestamp(bytes);
      if (maxTimestamp > this.maxTimestamp) this.maxTimestamp = maxTimestamp;
      this.bytesSinceLastIndexEntry += b.size;
      position += b.size;
      expectedOffset = b.lastOffset + 1;
    }
    this.size = position;
    this.nextOffset = expectedOffset;
    const truncatedBytes = fileSize - position;
    if (truncatedBytes > 0) fs.ftruncateSync(this.fd, position);
    this.offsetIndex.writeAll();
    this.timeIndex.writeAll();
    return reason === undefined ? { truncatedBytes } : { truncatedBytes, reason };
  }

  /**
   * Remove every batch that holds an offset ≥ `offset` (the batch containing `offset` goes too, as
   * in Kafka). Returns the new next offset.
   */
  truncateTo(offset: number): number {
    if (offset >= this.nextOffset) return this.nextOffset;
    const scanner = this.scanner();
    const cut = this.findBatch(offset, scanner);
    if (!cut) return this.nextOffset;
    fs.ftruncateSync(this.fd, cut.position);
    this.size = cut.position;
    this.nextOffset = cut.baseOffset;
    this.offsetIndex.truncateTo(cut.baseOffset);
    this.timeIndex.truncateTo(cut.baseOffset);
    // The largest timestamp may have been cut off; recompute it from what is left (rare path).
    this.maxTimestamp = this.timeIndex.last?.timestamp ?? -1;
    const last = this.offsetIndex.last;
    this.bytesSinceLastIndexEntry = this.size - (last?.position ?? 0);
    if (this.size === 0) this.rollingBasedTimestamp = undefined;
    return this.nextOffset;
  }

  /** Write any index entries still in memory. */
  flushIndexes(): void {
    this.offsetIndex.flush();
    this.timeIndex.flush();
  }

  /** fsync the log (data only) synchronously. */
  fsyncSync(): void {
    fs.fdatasyncSync(this.fd);
  }

  /** fsync the log and both index files (the cleaner's output, before it is committed). */
  fsyncAllSync(): void {
    fs.fdatasyncSync(this.fd);
    for (const p of [this.paths.index, this.paths.timeIndex]) {
      const fd = fs.openSync(p, 'r');
      try {
        fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }

  /** fsync the log on the libuv thread pool, so the worker keeps serving other partitions. */
  fsync(): Promise<void> {
    if (this.fd < 0) return Promise.resolve();
    this.fsyncsInFlight++;
    return new Promise<void>((resolve, reject) => {
      fs.fdatasync(this.fd, (err) => {
        this.fsyncsInFlight--;
        if (this.fsyncsInFlight === 0 && this.closeAfterFsync) this.closeFd();
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /** Seal the segment: final time-index entry (the segment's largest timestamp), indexes to disk. */
  seal(): void {
    if (this.maxTimestamp >= 0) this.timeIndex.append(this.maxTimestamp, this.nextOffset);
    this.flushIndexes();
  }

  close(): void {
    this.seal();
    this.closeFd();
  }

  /** Let go of the descriptor without touching the files (the cleaner has replaced them). */
  release(): void {
    this.closeFd();
  }

  /**
   * Remove the segment's files. The descriptor is closed at once, or after an fsync still running
   * on it (closing under it could let the number be reused by another file meanwhile).
   */
  delete(): void {
    for (const p of [this.paths.log, this.paths.index, this.paths.timeIndex]) fs.rmSync(p, { force: true });
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd < 0) return;
    if (this.fsyncsInFlight > 0) {
      this.closeAfterFsync = true;
      return;
    }
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}

function headerMaxTimestamp(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Number(view.getBigInt64(BatchField.maxTimestamp));
}

/** pwritev all buffers at `position`, looping over short writes. */
function writeAllv(fd: number, buffers: Uint8Array[], position: number): void {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    let written = fs.writevSync(fd, pending, at);
    at += written;
    let i = 0;
    while (i < pending.length && written >= pending[i]!.byteLength) {
      written -= pending[i]!.byteLength;
      i++;
    }
    pending = pending.slice(i);
    if (written > 0 && pending.length > 0) pending[0] = pending[0]!.subarray(written);
  }
}
