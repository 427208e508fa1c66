/**
 * Idempotent-producer state of one partition (Kafka's ProducerStateManager, reduced to idempotence).
 *
 * Per producer id: the current epoch and the metadata of the last 5 batches appended (first/last
 * sequence, first/last offset, timestamp). A batch is checked before it is appended:
 *   - epoch below the stored one            → INVALID_PRODUCER_EPOCH
 *   - epoch above the stored one            → baseSequence must be 0, else OUT_OF_ORDER_SEQUENCE_NUMBER
 *   - same epoch, same (firstSeq, lastSeq) as a retained batch → duplicate: not appended again, the
 *     caller answers success with the original offsets
 *   - same epoch, otherwise                 → baseSequence must be lastSeq + 1 (wrapping at 2^31−1)
 *   - no state for the producer             → any sequence is accepted (new, or expired)
 *
 * Persistence: `<20-digit offset>.snapshot` holds the state as of that log offset, as JSON
 * (written to a temporary file, fsynced, then renamed). On open the newest usable snapshot at or
 * below the log end is loaded and the batch headers after it are replayed, so the state survives
 * clean and unclean restarts. Snapshots are taken when a segment rolls and on clean close.
 *
 * Owned by the worker thread that owns the partition.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type ErrorData, errorData } from '../errors.ts';
import type { RecordBatchHeader } from '../protocol/kafka/record-batch.ts';
import { writeFileAtomically } from './atomic-file.ts';
import { offsetFileName, parseOffsetFileName, SNAPSHOT_SUFFIX } from './segment-files.ts';

/** Kafka keeps metadata of this many recent batches per producer (max.in.flight with idempotence). */
export const RETAINED_BATCHES = 5;
const INT32_MAX = 0x7fffffff;
const SNAPSHOT_VERSION = 1;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerEntry {
  producerId: number;
  epoch: number;
  batches: BatchMetadata[];
  lastTimestamp: number;
}

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: BatchMetadata }
  | { kind: 'error'; error: ErrorData };

const APPEND: SequenceCheck = { kind: 'append' };

function nextSequence(seq: number): number {
  return seq === INT32_MAX ? 0 : seq + 1;
}

function lastSequenceOf(header: RecordBatchHeader): number {
  // Sequences wrap from 2^31−1 to 0 (Kafka DefaultRecordBatch.incrementSequence).
  const last = header.baseSequence + header.lastOffsetDelta;
  return last > INT32_MAX ? last - INT32_MAX - 1 : last;
}

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerEntry>();
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  get producerCount(): number {
    return this.producers.size;
  }

  entry(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  /** Decide what to do with a batch from an idempotent producer, before it is appended. */
  check(header: RecordBatchHeader): SequenceCheck {
    if (header.producerId < 0) return APPEND;
    if (header.baseSequence < 0) {
      return {
        kind: 'error',
        error: errorData('INVALID_RECORD', 'a batch with a producer id must carry a sequence'),
      };
    }
    const entry = this.producers.get(header.producerId);
    if (!entry) return APPEND;
    if (header.producerEpoch < entry.epoch) {
      return {
        kind: 'error',
        error: errorData(
          'INVALID_PRODUCER_EPOCH',
          `producer ${header.producerId} epoch ${header.producerEpoch} is older than the current epoch ${entry.epoch}`,
        ),
      };
    }
    if (header.producerEpoch > entry.epoch) {
      if (header.baseSequence !== 0) {
        return {
          kind: 'error',
          error: errorData(
            'OUT_OF_ORDER_SEQUENCE_NUMBER',
            `producer ${header.producerId} started epoch ${header.producerEpoch} at sequence ${header.baseSequence}, expected 0`,
          ),
        };
      }
      return APPEND;
    }
    const lastSeq = lastSequenceOf(header);
    for (const b of entry.batches) {
      if (b.firstSeq === header.baseSequence && b.lastSeq === lastSeq) return { kind: 'duplicate', batch: b };
    }
    const last = entry.batches[entry.batches.length - 1];
    const expected = last ? nextSequence(last.lastSeq) : header.baseSequence;
    if (header.baseSequence !== expected) {
      return {
        kind: 'error',
        error: errorData(
          'OUT_OF_ORDER_SEQUENCE_NUMBER',
          `producer ${header.producerId} sent sequence ${header.baseSequence}, expected ${expected}`,
        ),
      };
    }
    return APPEND;
  }

  /**
   * Record an appended batch (also used when replaying the log). `appendTime` is the broker clock
   * at append (at replay: the time of the replay); expiry counts from it, not from the producer's
   * own timestamps, which may be far in the past for event-time data.
   */
  update(header: RecordBatchHeader, firstOffset: number, lastOffset: number, appendTime: number): void {
    if (header.producerId < 0 || header.isControl) return;
    let entry = this.producers.get(header.producerId);
    if (!entry) {
      entry = { producerId: header.producerId, epoch: header.producerEpoch, batches: [], lastTimestamp: -1 };
      this.producers.set(header.producerId, entry);
    } else if (header.producerEpoch > entry.epoch) {
      entry.epoch = header.producerEpoch;
      entry.batches = [];
    }
    entry.batches.push({
      firstSeq: header.baseSequence,
      lastSeq: lastSequenceOf(header),
      firstOffset,
      lastOffset,
      timestamp: header.maxTimestamp,
    });
    if (entry.batches.length > RETAINED_BATCHES) entry.batches.shift();
    if (appendTime > entry.lastTimestamp) entry.lastTimestamp = appendTime;
  }

  /** Forget producers idle for longer than `expirationMs` (producer.id.expiration.ms). */
  expire(now: number, expirationMs: number): number {
    let removed = 0;
    for (const [id, entry] of this.producers) {
      if (entry.lastTimestamp >= 0 && now - entry.lastTimestamp > expirationMs) {
        this.producers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  /** Drop batch metadata at or above `offset` (log truncation); producers left empty are removed. */
  truncateTo(offset: number): void {
    for (const [id, entry] of this.producers) {
      entry.batches = entry.batches.filter((b) => b.lastOffset < offset);
      if (entry.batches.length === 0) this.producers.delete(id);
    }
  }

  clear(): void {
    this.producers.clear();
  }

  /** Write a snapshot of the state as of `offset` (the log end offset when taken). */
  takeSnapshot(offset: number): void {
    const file = path.join(this.dir, offsetFileName(offset, SNAPSHOT_SUFFIX));
    const body = JSON.stringify({
      version: SNAPSHOT_VERSION,
      offset,
      producers: [...this.producers.values()],
    });
    writeFileAtomically(file, body);
    this.deleteSnapshots((o) => o < offset, 1);
  }

  /**
   * Load the newest readable snapshot at or below `maxOffset` and return its offset (the point from
   * which the log must be replayed), or undefined when there is none. Snapshots above `maxOffset`
   * (the log lost its tail) are deleted.
   */
  loadSnapshot(maxOffset: number): number | undefined {
    this.deleteSnapshots((o) => o > maxOffset, 0);
    const offsets = this.snapshotOffsets().sort((a, b) => b - a);
    for (const offset of offsets) {
      try {
        const parsed = JSON.parse(
          fs.readFileSync(path.join(this.dir, offsetFileName(offset, SNAPSHOT_SUFFIX)), 'utf8'),
        );
        if (parsed?.version !== SNAPSHOT_VERSION || !Array.isArray(parsed.producers)) continue;
        this.producers.clear();
        for (const p of parsed.producers as ProducerEntry[]) this.producers.set(p.producerId, p);
        return offset;
      } catch {
        // A torn snapshot: fall back to an older one, or to replaying the whole log.
      }
    }
    return undefined;
  }

  /** Remove every snapshot file (partition deletion or full rebuild). */
  deleteAllSnapshots(): void {
    this.deleteSnapshots(() => true, 0);
  }

  private snapshotOffsets(): number[] {
    const out: number[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      const o = parseOffsetFileName(name, SNAPSHOT_SUFFIX);
      if (o !== undefined) out.push(o);
    }
    return out;
  }

  /** Delete snapshots matching `predicate`, keeping the newest `keep` of them. */
  private deleteSnapshots(predicate: (offset: number) => boolean, keep: number): void {
    const matching = this.snapshotOffsets()
      .filter(predicate)
      .sort((a, b) => b - a);
    for (const o of matching.slice(keep))
      fs.rmSync(path.join(this.dir, offsetFileName(o, SNAPSHOT_SUFFIX)), { force: true });
  }
}
