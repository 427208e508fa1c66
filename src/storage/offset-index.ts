/**
 * Sparse offset index of one log segment: `<20-digit baseOffset>.index`.
 *
 * Byte layout: a sequence of 8-byte entries, big-endian, no header:
 *   relativeOffset int32 (batch baseOffset − segment baseOffset) · position int32 (byte position of
 *   that batch in the segment's `.log` file)
 *
 * Invariants: entries are strictly increasing in both fields; every entry points at the first byte of
 * a batch whose baseOffset is `segmentBase + relativeOffset`. An entry is added when at least
 * `index.interval.bytes` of log were written since the previous one, so a lookup is followed by a
 * scan of at most that many bytes. (Kafka stores the batch's last offset; we store its base offset,
 * which makes "start scanning here" exact for any target offset ≥ the entry.)
 *
 * The whole index is also kept in memory (a growing Int32Array); entries are appended to the file
 * in groups (`flush`), since an index that lost its tail in a crash is rebuilt by recovery.
 *
 * Owned by the worker thread that owns the partition; no other thread opens the file.
 */
import fs from 'node:fs';

const ENTRY_SIZE = 8;
/** Write pending entries to the file once this many have accumulated. */
const PENDING_FLUSH_ENTRIES = 128;

export interface IndexEntry {
  offset: number;
  position: number;
}

export class OffsetIndex {
  readonly path: string;
  readonly baseOffset: number;
  private entries: Int32Array;
  private count = 0;
  /** Entries [flushedCount, count) are in memory only. */
  private flushedCount = 0;
  private readonly maxEntries: number;

  private constructor(
    path: string,
    baseOffset: number,
    entries: Int32Array,
    count: number,
    maxIndexBytes: number,
  ) {
    this.path = path;
    this.baseOffset = baseOffset;
    this.entries = entries;
    this.count = count;
    this.flushedCount = count;
    this.maxEntries = Math.max(1, Math.floor(maxIndexBytes / ENTRY_SIZE));
  }

  /** A new, empty index (truncates any file at `path`). */
  static create(path: string, baseOffset: number, maxIndexBytes: number): OffsetIndex {
    fs.writeFileSync(path, new Uint8Array(0));
    return new OffsetIndex(path, baseOffset, new Int32Array(64), 0, maxIndexBytes);
  }

  /**
   * Load an index from disk and check it against its segment: returns undefined when the file is
   * missing or inconsistent (then the caller rebuilds it from the log).
   */
  static load(
    path: string,
    baseOffset: number,
    logSize: number,
    maxIndexBytes: number,
  ): OffsetIndex | undefined {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path);
    } catch {
      return undefined;
    }
    if (bytes.length % ENTRY_SIZE !== 0) return undefined;
    const count = bytes.length / ENTRY_SIZE;
    const entries = new Int32Array(Math.max(64, count * 2));
    let prevOffset = -1;
    let prevPosition = -1;
    for (let i = 0; i < count; i++) {
      const rel = bytes.readInt32BE(i * ENTRY_SIZE);
      const pos = bytes.readInt32BE(i * ENTRY_SIZE + 4);
      if (rel <= prevOffset || pos <= prevPosition || pos >= logSize) return undefined;
      entries[i * 2] = rel;
      entries[i * 2 + 1] = pos;
      prevOffset = rel;
      prevPosition = pos;
    }
    return new OffsetIndex(path, baseOffset, entries, count, maxIndexBytes);
  }

  get entryCount(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  /** The last entry, if any. */
  get last(): IndexEntry | undefined {
    if (this.count === 0) return undefined;
    const i = (this.count - 1) * 2;
    return { offset: this.baseOffset + this.entries[i]!, position: this.entries[i + 1]! };
  }

  /** Record that the batch starting at `offset` begins at byte `position` of the segment. */
  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (this.count > 0) {
      const i = (this.count - 1) * 2;
      if (rel <= this.entries[i]! || position <= this.entries[i + 1]!) return;
    }
    if ((this.count + 1) * 2 > this.entries.length) {
      const grown = new Int32Array(this.entries.length * 2);
      grown.set(this.entries);
      this.entries = grown;
    }
    this.entries[this.count * 2] = rel;
    this.entries[this.count * 2 + 1] = position;
    this.count++;
    if (this.count - this.flushedCount >= PENDING_FLUSH_ENTRIES) this.flush();
  }

  /**
   * The entry with the largest offset ≤ `target`, or the segment start when there is none:
   * the position from which a scan for `target` starts.
   */
  lookup(target: number): IndexEntry {
    const rel = target - this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid * 2]! <= rel) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + this.entries[found * 2]!, position: this.entries[found * 2 + 1]! };
  }

  /** Drop every entry whose offset is ≥ `offset` (log truncation). */
  truncateTo(offset: number): void {
    const rel = offset - this.baseOffset;
    let keep = this.count;
    while (keep > 0 && this.entries[(keep - 1) * 2]! >= rel) keep--;
    if (keep === this.count) return;
    this.count = keep;
    if (this.flushedCount > keep) {
      fs.truncateSync(this.path, keep * ENTRY_SIZE);
      this.flushedCount = keep;
    }
  }

  /** Append the in-memory-only entries to the file. */
  flush(): void {
    if (this.flushedCount === this.count) return;
    const n = this.count - this.flushedCount;
    const out = Buffer.allocUnsafe(n * ENTRY_SIZE);
    for (let i = 0; i < n; i++) {
      const j = (this.flushedCount + i) * 2;
      out.writeInt32BE(this.entries[j]!, i * ENTRY_SIZE);
      out.writeInt32BE(this.entries[j + 1]!, i * ENTRY_SIZE + 4);
    }
    fs.appendFileSync(this.path, out);
    this.flushedCount = this.count;
  }

  /** Rewrite the whole file from memory (after a rebuild). */
  writeAll(): void {
    const out = Buffer.allocUnsafe(this.count * ENTRY_SIZE);
    for (let i = 0; i < this.count; i++) {
      out.writeInt32BE(this.entries[i * 2]!, i * ENTRY_SIZE);
      out.writeInt32BE(this.entries[i * 2 + 1]!, i * ENTRY_SIZE + 4);
    }
    fs.writeFileSync(this.path, out);
    this.flushedCount = this.count;
  }

  /** Forget all entries (before a rebuild). */
  reset(): void {
    this.count = 0;
    this.flushedCount = 0;
    fs.writeFileSync(this.path, new Uint8Array(0));
  }
}
