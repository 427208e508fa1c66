/**
 * Sparse time index of one log segment: `<20-digit baseOffset>.timeindex`.
 *
 * Byte layout: a sequence of 12-byte entries, big-endian, no header:
 *   timestamp int64 · relativeOffset int32
 *
 * Meaning of an entry (t, o): every record of this segment with an offset below `segmentBase + o`
 * has a timestamp ≤ t, where t is the largest record timestamp seen so far in the segment (taken
 * from the records themselves, not from batch headers, which some clients fill in approximately).
 * So, to find the first record with timestamp ≥ T, start at the `o` of the last entry with t < T:
 * nothing before it can match. Timestamps and offsets are strictly increasing across entries.
 * (Kafka's entry holds the offset *of* the max timestamp; ours holds the offset *after* it, which
 * keeps records that share the target timestamp from being skipped.)
 *
 * Entries are sampled like the offset index (every `index.interval.bytes` of log), and a final entry
 * is written when the segment is rolled or closed, so the last entry's timestamp is the segment's
 * largest timestamp (used by time-based retention).
 *
 * Owned by the worker thread that owns the partition.
 */
import fs from 'node:fs';

const ENTRY_SIZE = 12;
const PENDING_FLUSH_ENTRIES = 128;

export interface TimeIndexEntry {
  timestamp: number;
  offset: number;
}

export class TimeIndex {
  readonly path: string;
  readonly baseOffset: number;
  private timestamps: Float64Array;
  private offsets: Int32Array;
  private count = 0;
  private flushedCount = 0;
  private readonly maxEntries: number;

  private constructor(path: string, baseOffset: number, maxIndexBytes: number, capacity: number) {
    this.path = path;
    this.baseOffset = baseOffset;
    this.timestamps = new Float64Array(capacity);
    this.offsets = new Int32Array(capacity);
    this.maxEntries = Math.max(1, Math.floor(maxIndexBytes / ENTRY_SIZE));
  }

  static create(path: string, baseOffset: number, maxIndexBytes: number): TimeIndex {
    fs.writeFileSync(path, new Uint8Array(0));
    return new TimeIndex(path, baseOffset, maxIndexBytes, 64);
  }

  /** Load and sanity-check; undefined when missing or inconsistent (caller rebuilds). */
  static load(
    path: string,
    baseOffset: number,
    endOffset: number,
    maxIndexBytes: number,
  ): TimeIndex | undefined {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path);
    } catch {
      return undefined;
    }
    if (bytes.length % ENTRY_SIZE !== 0) return undefined;
    const count = bytes.length / ENTRY_SIZE;
    const index = new TimeIndex(path, baseOffset, maxIndexBytes, Math.max(64, count * 2));
    let prevTs = Number.NEGATIVE_INFINITY;
    let prevRel = -1;
    for (let i = 0; i < count; i++) {
      const ts = Number(bytes.readBigInt64BE(i * ENTRY_SIZE));
      const rel = bytes.readInt32BE(i * ENTRY_SIZE + 8);
      if (ts <= prevTs || rel <= prevRel || baseOffset + rel > endOffset) return undefined;
      index.timestamps[i] = ts;
      index.offsets[i] = rel;
      prevTs = ts;
      prevRel = rel;
    }
    index.count = count;
    index.flushedCount = count;
    return index;
  }

  get entryCount(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  get last(): TimeIndexEntry | undefined {
    if (this.count === 0) return undefined;
    return {
      timestamp: this.timestamps[this.count - 1]!,
      offset: this.baseOffset + this.offsets[this.count - 1]!,
    };
  }

  /** Record that every record below `nextOffset` has a timestamp ≤ `maxTimestampSoFar`. */
  append(maxTimestampSoFar: number, nextOffset: number): void {
    const rel = nextOffset - this.baseOffset;
    if (this.count > 0) {
      if (maxTimestampSoFar <= this.timestamps[this.count - 1]! || rel <= this.offsets[this.count - 1]!)
        return;
    }
    if (this.count === this.timestamps.length) {
      const ts = new Float64Array(this.count * 2);
      ts.set(this.timestamps);
      this.timestamps = ts;
      const offs = new Int32Array(this.count * 2);
      offs.set(this.offsets);
      this.offsets = offs;
    }
    this.timestamps[this.count] = maxTimestampSoFar;
    this.offsets[this.count] = rel;
    this.count++;
    if (this.count - this.flushedCount >= PENDING_FLUSH_ENTRIES) this.flush();
  }

  /** The offset from which to scan for the first record with timestamp ≥ `target`. */
  lookup(target: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestamps[mid]! < target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? this.baseOffset : this.baseOffset + this.offsets[found]!;
  }

  /** Drop entries that cover offsets ≥ `offset`. */
  truncateTo(offset: number): void {
    const rel = offset - this.baseOffset;
    let keep = this.count;
    while (keep > 0 && this.offsets[keep - 1]! > rel) keep--;
    if (keep === this.count) return;
    this.count = keep;
    if (this.flushedCount > keep) {
      fs.truncateSync(this.path, keep * ENTRY_SIZE);
      this.flushedCount = keep;
    }
  }

  flush(): void {
    if (this.flushedCount === this.count) return;
    fs.appendFileSync(this.path, this.encode(this.flushedCount, this.count));
    this.flushedCount = this.count;
  }

  writeAll(): void {
    fs.writeFileSync(this.path, this.encode(0, this.count));
    this.flushedCount = this.count;
  }

  reset(): void {
    this.count = 0;
    this.flushedCount = 0;
    fs.writeFileSync(this.path, new Uint8Array(0));
  }

  private encode(from: number, to: number): Buffer {
    const out = Buffer.allocUnsafe((to - from) * ENTRY_SIZE);
    for (let i = from; i < to; i++) {
      const at = (i - from) * ENTRY_SIZE;
      out.writeBigInt64BE(BigInt(this.timestamps[i]!), at);
      out.writeInt32BE(this.offsets[i]!, at + 8);
    }
    return out;
  }
}
