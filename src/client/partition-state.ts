/**
 * The consumer's state of one assigned partition, and how a fetch answer for it becomes buffered
 * batches (fetcher.ts drives both).
 *
 * A fetch answer holds whole stored batches back to back, starting with the batch that contains the
 * requested offset, possibly followed by a partial batch cut at the byte limit (dropped here, fetched
 * again next time). Batches entirely below the position are skipped; records below it inside the
 * first batch are skipped by ConsumerBatch. Control batches (transaction markers) only move the
 * position. With `checkCrcs`, each batch's magic and CRC-32C are checked, as Kafka's check.crcs does:
 * not the record count, because a batch thinned by log compaction holds fewer records than its
 * offset range.
 */
import { SluiceError } from '../errors.ts';
import { crc32cRange } from '../protocol/kafka/crc32c.ts';
import {
  Attribute,
  BATCH_HEADER_SIZE,
  BatchField,
  batchSizeAt,
  MAGIC_V2,
  readInt32,
  readInt64,
} from '../protocol/kafka/record-batch.ts';
import type { FetchPartitionResponse } from '../protocol/wire/ops.ts';
import { ConsumerBatch } from './consumer-batch.ts';

/** The consumer's state of one assigned partition. */
export class PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to hand to the application; undefined while it is being looked up. */
  position: number | undefined;
  fetchOffset = 0;
  paused = false;
  /** Being revoked from this group member: nothing more is fetched or handed out. */
  revoking = false;
  inFlight = false;
  /** Bumped by every seek; unique across the fetcher's partitions, so a batch fetched for a removed
   * partition never passes for one of the same partition assigned again. */
  epoch = 0;
  readonly buffered: ConsumerBatch[] = [];
  bufferedBytes = 0;
  highWatermark = -1;
  logStartOffset = -1;
  fetchMaxBytes: number;
  error: SluiceError | undefined;
  retryAt = 0;
  failures = 0;

  constructor(topic: string, partition: number, fetchMaxBytes: number) {
    this.topic = topic;
    this.partition = partition;
    this.fetchMaxBytes = fetchMaxBytes;
  }
}

/** The key of a partition in maps. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * Apply a fetch answer's data to `s`: buffer its batches, advance `fetchOffset`, record a corrupt
 * batch as `s.error`, and grow `fetchMaxBytes` when not even one batch fitted. `onLoaded` runs when a
 * compressed batch has been decompressed (ahead of time). Returns true when there is news for readers.
 */
export function takeFetched(
  s: PartitionState,
  part: FetchPartitionResponse,
  checkCrcs: boolean,
  maxBytes: number,
  onLoaded: () => void,
): boolean {
  s.failures = 0;
  s.highWatermark = part.highWatermark;
  s.logStartOffset = part.logStartOffset;
  const records = part.records;
  if (!records || records.length === 0) return false;
  let pos = 0;
  let added = false;
  while (pos < records.length) {
    const size = batchSizeAt(records, pos);
    if (size === undefined || size > records.length - pos) break; // a partial batch at the end
    if (size < BATCH_HEADER_SIZE) {
      s.error = new SluiceError(
        'CORRUPT_MESSAGE',
        `impossible batch length ${size} in ${s.topic}-${s.partition}`,
      );
      break;
    }
    const bytes = records.subarray(pos, pos + size);
    pos += size;
    const last = readInt64(bytes, BatchField.baseOffset) + readInt32(bytes, BatchField.lastOffsetDelta);
    if (last < s.fetchOffset) continue; // entirely below the position
    const attributes = (bytes[BatchField.attributes]! << 8) | bytes[BatchField.attributes + 1]!;
    if ((attributes & Attribute.control) === 0) {
      const invalid = checkCrcs ? verify(bytes) : undefined;
      if (invalid) {
        s.error = new SluiceError(
          'CORRUPT_MESSAGE',
          `${s.topic}-${s.partition} at ${s.fetchOffset}: ${invalid}`,
        );
        break;
      }
      const batch = new ConsumerBatch(
        s.topic,
        s.partition,
        bytes,
        s.fetchOffset,
        part.highWatermark,
        s.epoch,
      );
      if (!batch.loaded) batch.load().then(onLoaded, onLoaded);
      s.buffered.push(batch);
      s.bufferedBytes += size;
      added = true;
    }
    s.fetchOffset = last + 1;
  }
  if (pos === 0 && !s.error) {
    // Not even one whole batch fitted: ask for more next time.
    s.fetchMaxBytes = Math.min(s.fetchMaxBytes * 2, maxBytes);
  }
  return added || s.error !== undefined;
}

/** Magic and CRC-32C of a fetched batch; a description of the problem, or undefined. */
function verify(batch: Uint8Array): string | undefined {
  if (batch[BatchField.magic] !== MAGIC_V2) return `record batch magic ${batch[BatchField.magic]}`;
  const stored = readInt32(batch, BatchField.crc) >>> 0;
  if (crc32cRange(batch, BatchField.attributes, batch.length) !== stored) return 'record batch CRC mismatch';
  return undefined;
}
