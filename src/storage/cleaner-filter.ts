/**
 * Log compaction, one stored batch at a time: which of its records survive, and the batch that
 * holds them (Kafka's `MemoryRecords.filterTo` with the LogCleaner's retention rule).
 *
 * A record survives when it has a key and no newer record with that key lies in the range the
 * cleaner mapped (`latest`: key bytes as a latin1 string → offset of the key's newest record), and,
 * for a tombstone (null value), while its batch's delete horizon has not passed. A record without a
 * key is dropped (Kafka counts it as invalid: a compacted log cannot place it).
 *
 * Output batch layout (RecordBatch v2, see record-batch.ts), when records were removed or a delete
 * horizon must be stamped:
 *   baseOffset, partitionLeaderEpoch, magic, lastOffsetDelta, producerId, producerEpoch,
 *   baseSequence   as in the original (offsets are never reassigned; the producer fields keep
 *                  producer-state replay exact: lastSeq = baseSequence + lastOffsetDelta)
 *   attributes     the original's, plus bit 6 (delete horizon) once the batch holds tombstones
 *   baseTimestamp  the original's; or the delete horizon (first cleaning time + delete.retention.ms)
 *                  when bit 6 is set by this cleaning, with every record's timestampDelta rewritten
 *                  so that record timestamps do not change (Kafka's KIP-534)
 *   maxTimestamp   the newest surviving record's timestamp (LogAppendTime batches keep theirs)
 *   recordsCount   the surviving records; their bytes are copied as they were (offsetDelta kept),
 *                  then compressed again with the batch's own codec
 * A batch left with no records is dropped; one that loses nothing and needs no horizon is kept
 * byte for byte. Control batches are kept as they are (Sluice writes none).
 *
 * Pure: bytes in, bytes out, no file I/O; runs on the thread of the partition's owner (codecs may
 * use the libuv pool).
 */
import {
  Attribute,
  BATCH_HEADER_SIZE,
  BatchField,
  compressionCodecs,
  LOG_OVERHEAD,
  openRecordCursor,
  type RecordBatchHeader,
  readBatchHeader,
  updateCrc,
  writeInt16,
  writeInt32,
  writeInt64,
} from '../protocol/kafka/record-batch.ts';
import {
  sizeOfVarInt,
  sizeOfVarLong,
  VarintReader,
  writeVarInt,
  writeVarLong,
} from '../protocol/kafka/varint.ts';

export interface FilterContext {
  /** Key (bytes as latin1) → offset of its newest record in the mapped range. */
  latest: Map<string, number>;
  /** The pass's clock: tombstones whose horizon is ≤ now go; new horizons count from it. */
  now: number;
  deleteRetentionMs: number;
}

export interface FilteredBatch {
  /** The batch to write: the input itself when unchanged, a new one when thinned; undefined when dropped. */
  bytes: Uint8Array | undefined;
  /** True when `bytes` is not the input. */
  rewritten: boolean;
  removedRecords: number;
  /** Largest surviving record timestamp (-1 when none). */
  maxTimestamp: number;
  /** Delete horizon of the batch when it keeps tombstones, else -1. */
  tombstoneHorizon: number;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Add the keys of a batch's records at or above `fromOffset` to `latest` (the cleaner's first
 * phase). Returns the number of records seen.
 */
export async function mapBatchKeys(
  batch: Uint8Array,
  latest: Map<string, number>,
  fromOffset: number,
): Promise<number> {
  const header = readBatchHeader(batch);
  if (header.isControl) return 0;
  const cursor = await openRecordCursor(batch);
  const section = asBuffer(cursor.section);
  let seen = 0;
  while (cursor.next()) {
    seen++;
    if (cursor.keyLength < 0 || cursor.offset < fromOffset) continue;
    latest.set(
      section.toString('latin1', cursor.keyStart, cursor.keyStart + cursor.keyLength),
      cursor.offset,
    );
  }
  return seen;
}

/** Decide the fate of every record of one stored batch, and build the batch that keeps the survivors. */
export async function filterBatch(batch: Uint8Array, ctx: FilterContext): Promise<FilteredBatch> {
  const header = readBatchHeader(batch);
  if (header.isControl) {
    return {
      bytes: batch,
      rewritten: false,
      removedRecords: 0,
      maxTimestamp: header.maxTimestamp,
      tombstoneHorizon: -1,
    };
  }
  const hasHorizon = (header.attributes & Attribute.deleteHorizon) !== 0;
  const tombstonesExpired = hasHorizon && ctx.now >= header.baseTimestamp;
  const cursor = await openRecordCursor(batch);
  const section = asBuffer(cursor.section);
  // Survivors as [start, end) byte ranges of the section, with their timestamp deltas.
  const kept: number[] = [];
  let removed = 0;
  let tombstones = 0;
  let maxTimestamp = -1;
  while (cursor.next()) {
    let keep = false;
    if (cursor.keyLength >= 0) {
      const key = section.toString('latin1', cursor.keyStart, cursor.keyStart + cursor.keyLength);
      const newest = ctx.latest.get(key);
      keep = newest === undefined || cursor.offset >= newest;
      if (keep && cursor.valueLength < 0) {
        if (tombstonesExpired) keep = false;
        else tombstones++;
      }
    }
    if (!keep) {
      removed++;
      continue;
    }
    kept.push(cursor.recordStart, cursor.recordEnd, cursor.timestampDelta);
    if (cursor.timestamp > maxTimestamp) maxTimestamp = cursor.timestamp;
  }
  if (kept.length === 0) {
    return {
      bytes: undefined,
      rewritten: true,
      removedRecords: removed,
      maxTimestamp: -1,
      tombstoneHorizon: -1,
    };
  }
  const stampHorizon = tombstones > 0 && !hasHorizon;
  const horizon = stampHorizon
    ? Math.min(ctx.now + ctx.deleteRetentionMs, Number.MAX_SAFE_INTEGER)
    : tombstones > 0
      ? header.baseTimestamp
      : -1;
  if (removed === 0 && !stampHorizon) {
    return { bytes: batch, rewritten: false, removedRecords: 0, maxTimestamp, tombstoneHorizon: horizon };
  }
  const records = stampHorizon
    ? rebaseRecords(section, kept, header.baseTimestamp - horizon)
    : copyRecords(section, kept);
  const bytes = await assemble(batch, header, records, kept.length / 3, {
    attributes: stampHorizon ? header.attributes | Attribute.deleteHorizon : header.attributes,
    baseTimestamp: stampHorizon ? horizon : header.baseTimestamp,
    maxTimestamp: header.timestampType === 'LogAppendTime' ? header.maxTimestamp : maxTimestamp,
  });
  return { bytes, rewritten: true, removedRecords: removed, maxTimestamp, tombstoneHorizon: horizon };
}

/** The surviving records' bytes, back to back, unchanged. */
function copyRecords(section: Buffer, kept: number[]): Uint8Array {
  let size = 0;
  for (let i = 0; i < kept.length; i += 3) size += kept[i + 1]! - kept[i]!;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < kept.length; i += 3) at += section.copy(out, at, kept[i]!, kept[i + 1]!);
  return out;
}

/**
 * The surviving records with `shift` added to each timestampDelta (the batch's base timestamp
 * moves to the delete horizon; record timestamps stay what they were). Everything after the
 * timestampDelta is copied as it was.
 */
function rebaseRecords(section: Buffer, kept: number[], shift: number): Uint8Array {
  const parts: { body: number; tail: number; tailEnd: number; delta: number }[] = [];
  let size = 0;
  const reader = new VarintReader(section);
  for (let i = 0; i < kept.length; i += 3) {
    reader.pos = kept[i]!;
    reader.end = kept[i + 1]!;
    reader.readVarInt(); // the record length, recomputed below
    const body = reader.pos; // attributes byte
    reader.pos = body + 1;
    reader.readVarLong(); // the old timestampDelta
    const delta = kept[i + 2]! + shift;
    const bodySize = 1 + sizeOfVarLong(delta) + (kept[i + 1]! - reader.pos);
    size += sizeOfVarInt(bodySize) + bodySize;
    parts.push({ body, tail: reader.pos, tailEnd: kept[i + 1]!, delta });
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const p of parts) {
    const bodySize = 1 + sizeOfVarLong(p.delta) + (p.tailEnd - p.tail);
    at = writeVarInt(out, at, bodySize);
    out[at++] = section[p.body]!;
    at = writeVarLong(out, at, p.delta);
    at += section.copy(out, at, p.tail, p.tailEnd);
  }
  return out;
}

/** A batch with the original's header fields, the given changes, and `records` (compressed as before). */
async function assemble(
  original: Uint8Array,
  header: RecordBatchHeader,
  records: Uint8Array,
  count: number,
  fields: { attributes: number; baseTimestamp: number; maxTimestamp: number },
): Promise<Uint8Array> {
  const codec = header.attributes & Attribute.compressionMask;
  const body = codec === 0 ? records : await (await compressionCodecs()).compress(codec, records);
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + body.byteLength);
  out.set(original.subarray(0, BATCH_HEADER_SIZE), 0);
  out.set(body, BATCH_HEADER_SIZE);
  writeInt32(out, BatchField.batchLength, out.length - LOG_OVERHEAD);
  writeInt16(out, BatchField.attributes, fields.attributes);
  writeInt64(out, BatchField.baseTimestamp, fields.baseTimestamp);
  writeInt64(out, BatchField.maxTimestamp, fields.maxTimestamp);
  writeInt32(out, BatchField.recordsCount, count);
  updateCrc(out, 0, out.length);
  return out;
}
