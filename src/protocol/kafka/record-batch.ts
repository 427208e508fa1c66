/**
 * Kafka RecordBatch v2 (magic 2): the unit of produce, storage and fetch. The bytes on the wire are
 * the bytes on disk; the broker only patches header fields in place.
 *
 * Batch header (big-endian, 61 bytes), then the records section:
 *   0  baseOffset int64             broker-assigned; clients send 0        ┐ LOG_OVERHEAD (12)
 *   8  batchLength int32            bytes after this field (size − 12)     ┘
 *   12 partitionLeaderEpoch int32   broker-written, NOT covered by the CRC
 *   16 magic int8                   2
 *   17 crc uint32                   CRC-32C of bytes 21 … end of batch
 *   21 attributes int16             bits 0–2 codec, 3 LogAppendTime, 4 transactional, 5 control,
 *                                   6 delete horizon (compaction)
 *   23 lastOffsetDelta int32        recordsCount − 1
 *   27 baseTimestamp int64          first record's timestamp
 *   35 maxTimestamp int64           largest record timestamp (or the log-append time)
 *   43 producerId int64             -1 when not idempotent
 *   51 producerEpoch int16
 *   53 baseSequence int32           -1 when not idempotent
 *   57 recordsCount int32           stays uncompressed
 *   61 records                      the records, or ONE compressed blob of them (codecs 1–4)
 * Record (zigzag varints, see varint.ts):
 *   length varint (bytes that follow) · attributes int8 · timestampDelta varlong · offsetDelta varint ·
 *   keyLength varint (-1 = null) · key · valueLength varint (-1 = null) · value · headerCount varint ·
 *   { keyLength varint (≥ 0) · key UTF-8 · valueLength varint (-1 = null) · value }*
 *
 * Invariants of a valid batch: size = batchLength + 12 ≥ 61; magic 2; CRC matches; codec ≤ 4;
 * recordsCount ≥ 1 and lastOffsetDelta = recordsCount − 1; offset deltas are 0 … n−1 in order; the
 * n records fill the (decompressed) section exactly. Timestamp deltas may be negative (kafkajs
 * bases its deltas on approximate header timestamps), so the header's base/max are hints only.
 * A batch thinned by log compaction (read back from a compacted log) keeps baseOffset and
 * lastOffsetDelta but holds fewer records, with gaps in their offset deltas; checkStoredBatch and
 * summarizeStoredRecords accept exactly that relaxation. With attribute bit 6 (delete horizon) set,
 * baseTimestamp holds the time after which its tombstones may be removed (Kafka's KIP-534), and the
 * records' timestamp deltas are relative to it.
 *
 * Pure code, no I/O, any thread, browser-safe: codecs are loaded lazily from compression.ts (Node)
 * or supplied with `useCompressionCodecs`. int64 fields are numbers (hi·2^32 + lo, exact to 2^53).
 * Every malformed input raises SluiceError (CORRUPT_MESSAGE, INVALID_RECORD or
 * UNSUPPORTED_COMPRESSION_TYPE), never a RangeError or TypeError.
 */
import { type ErrorData, errorData, SluiceError } from '../../errors.ts';
import { crc32cRange } from './crc32c.ts';
import { VarintReader } from './varint.ts';

/** baseOffset + batchLength: the bytes in front of what batchLength counts. */
export const LOG_OVERHEAD = 12;
/** The fixed header, up to the records. */
export const BATCH_HEADER_SIZE = 61;
export const MAGIC_V2 = 2;

/** Byte offset of every header field from the start of the batch. */
export const BatchField = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordsCount: 57,
  records: 61,
} as const;

/** Codec ids of attribute bits 0–2. */
export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionName = keyof typeof Compression;
export type CompressionCode = (typeof Compression)[CompressionName];
const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** Attribute bits. */
export const Attribute = {
  compressionMask: 0x07,
  logAppendTime: 0x08,
  transactional: 0x10,
  control: 0x20,
  deleteHorizon: 0x40,
} as const;

export function isCompressionName(value: unknown): value is CompressionName {
  return typeof value === 'string' && Object.hasOwn(Compression, value);
}

/** The codec id for a name; unknown names (from configuration or a client) → UNSUPPORTED_COMPRESSION_TYPE. */
export function compressionCode(name: CompressionName): CompressionCode {
  if (!isCompressionName(name)) throw unsupportedCodec(name);
  return Compression[name];
}

/** The name of a codec id (0–4); 5–7 → UNSUPPORTED_COMPRESSION_TYPE. */
export function compressionName(code: number): CompressionName {
  const name = COMPRESSION_NAMES[code];
  if (name === undefined) throw unsupportedCodec(code);
  return name;
}

/** Attributes for a producer batch (timestamp type CreateTime unless asked). */
export function makeAttributes(
  compression: CompressionName,
  flags: { transactional?: boolean; control?: boolean; logAppendTime?: boolean } = {},
): number {
  return (
    compressionCode(compression) |
    (flags.logAppendTime ? Attribute.logAppendTime : 0) |
    (flags.transactional ? Attribute.transactional : 0) |
    (flags.control ? Attribute.control : 0)
  );
}

export const attributesCodec = (attributes: number): number => attributes & Attribute.compressionMask;
export const attributesLogAppendTime = (attributes: number): boolean =>
  (attributes & Attribute.logAppendTime) !== 0;
export const attributesTransactional = (attributes: number): boolean =>
  (attributes & Attribute.transactional) !== 0;
export const attributesControl = (attributes: number): boolean => (attributes & Attribute.control) !== 0;

// --- big-endian primitives (no DataView: callers pass subarrays of pooled buffers) ---------------

const TWO_32 = 4294967296;

export function readInt32(buf: Uint8Array, pos: number): number {
  return (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
}
function readUint32(buf: Uint8Array, pos: number): number {
  return readInt32(buf, pos) >>> 0;
}
function readInt16(buf: Uint8Array, pos: number): number {
  return ((buf[pos]! << 24) | (buf[pos + 1]! << 16)) >> 16;
}
/** int64 as hi·2^32 + lo: exact to 2^53. */
export function readInt64(buf: Uint8Array, pos: number): number {
  return readInt32(buf, pos) * TWO_32 + readUint32(buf, pos + 4);
}
export function writeInt32(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value >>> 24;
  buf[pos + 1] = value >>> 16;
  buf[pos + 2] = value >>> 8;
  buf[pos + 3] = value;
}
export function writeInt16(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value >>> 8;
  buf[pos + 1] = value;
}
export function writeInt64(buf: Uint8Array, pos: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  writeInt32(buf, pos, hi);
  writeInt32(buf, pos + 4, value - hi * TWO_32);
}

function corrupt(message: string): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', message);
}
function invalid(message: string): SluiceError {
  return new SluiceError('INVALID_RECORD', message);
}
function unsupportedCodec(codec: unknown): SluiceError {
  return new SluiceError('UNSUPPORTED_COMPRESSION_TYPE', `Unsupported compression codec ${String(codec)}`);
}

// --- header -------------------------------------------------------------------------------------

export interface RecordBatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: CompressionName;
  timestampType: 'CreateTime' | 'LogAppendTime';
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

/** Parse the 61-byte header at `pos` (no validation beyond its length and codec; see checkBatch). */
export function readBatchHeader(buf: Uint8Array, pos = 0): RecordBatchHeader {
  if (!(pos >= 0 && buf.length - pos >= BATCH_HEADER_SIZE)) {
    throw corrupt(
      `Record batch header needs ${BATCH_HEADER_SIZE} bytes, ${Math.max(0, buf.length - pos)} available`,
    );
  }
  const attributes = readInt16(buf, pos + BatchField.attributes);
  return {
    baseOffset: readInt64(buf, pos),
    batchLength: readInt32(buf, pos + BatchField.batchLength),
    partitionLeaderEpoch: readInt32(buf, pos + BatchField.partitionLeaderEpoch),
    magic: (buf[pos + BatchField.magic]! << 24) >> 24,
    crc: readUint32(buf, pos + BatchField.crc),
    attributes,
    compression: compressionName(attributesCodec(attributes)),
    timestampType: attributesLogAppendTime(attributes) ? 'LogAppendTime' : 'CreateTime',
    isTransactional: attributesTransactional(attributes),
    isControl: attributesControl(attributes),
    lastOffsetDelta: readInt32(buf, pos + BatchField.lastOffsetDelta),
    baseTimestamp: readInt64(buf, pos + BatchField.baseTimestamp),
    maxTimestamp: readInt64(buf, pos + BatchField.maxTimestamp),
    producerId: readInt64(buf, pos + BatchField.producerId),
    producerEpoch: readInt16(buf, pos + BatchField.producerEpoch),
    baseSequence: readInt32(buf, pos + BatchField.baseSequence),
    recordsCount: readInt32(buf, pos + BatchField.recordsCount),
  };
}

/**
 * Size (batchLength + 12) of the batch at `pos`, or undefined when fewer than 12 bytes remain.
 * Not validated: garbage can give a size below 61 or a negative one.
 */
export function batchSizeAt(buf: Uint8Array, pos: number): number | undefined {
  if (buf.length - pos < LOG_OVERHEAD) return undefined;
  return readInt32(buf, pos + BatchField.batchLength) + LOG_OVERHEAD;
}

/**
 * Structural validation of ONE batch occupying exactly `buf[pos, end)`: length, magic, CRC, codec,
 * record count. Records are not walked (summarizeRecords does that). Returns undefined when valid.
 * Allocates nothing when valid except the view the native CRC call needs.
 */
export function checkBatch(buf: Uint8Array, pos = 0, end = buf.length): ErrorData | undefined {
  const size = end - pos;
  if (!(pos >= 0 && end <= buf.length))
    return errorData('CORRUPT_MESSAGE', 'Batch bounds outside the buffer');
  if (size < BATCH_HEADER_SIZE)
    return errorData('CORRUPT_MESSAGE', `Record batch of ${size} bytes is shorter than its header`);
  const batchLength = readInt32(buf, pos + BatchField.batchLength);
  if (batchLength + LOG_OVERHEAD !== size) {
    return errorData(
      'CORRUPT_MESSAGE',
      `Record batch length ${batchLength} does not match its ${size} bytes`,
    );
  }
  const magic = buf[pos + BatchField.magic]!;
  if (magic !== MAGIC_V2)
    return errorData('CORRUPT_MESSAGE', `Record batch magic ${magic}, expected ${MAGIC_V2}`);
  const stored = readUint32(buf, pos + BatchField.crc);
  const computed = crc32cRange(buf, pos + BatchField.attributes, end);
  if (stored !== computed) return errorData('CORRUPT_MESSAGE', 'Record batch CRC mismatch');
  const codec = attributesCodec(readInt16(buf, pos + BatchField.attributes));
  if (codec > Compression.zstd)
    return errorData('UNSUPPORTED_COMPRESSION_TYPE', `Unsupported compression codec ${codec}`);
  const count = readInt32(buf, pos + BatchField.recordsCount);
  const lastOffsetDelta = readInt32(buf, pos + BatchField.lastOffsetDelta);
  if (count < 1) return errorData('INVALID_RECORD', `Record batch holds ${count} records`);
  if (lastOffsetDelta + 1 !== count) {
    return errorData(
      'INVALID_RECORD',
      `lastOffsetDelta ${lastOffsetDelta} does not match recordsCount ${count}`,
    );
  }
  return undefined;
}

/**
 * checkBatch for a batch read back from a log, which log compaction may have thinned: the records
 * kept keep their offsets, so a cleaned batch keeps its baseOffset and lastOffsetDelta while
 * recordsCount drops (1 ≤ recordsCount ≤ lastOffsetDelta + 1). Everything else (length, magic, CRC,
 * codec) is checked as strictly as checkBatch does. Returns undefined when valid.
 */
export function checkStoredBatch(buf: Uint8Array, pos = 0, end = buf.length): ErrorData | undefined {
  if (!(pos >= 0 && end <= buf.length && end - pos >= BATCH_HEADER_SIZE)) return checkBatch(buf, pos, end);
  const error = checkBatchHeaderAndCrc(buf, pos, end);
  if (error) return error;
  const count = readInt32(buf, pos + BatchField.recordsCount);
  const lastOffsetDelta = readInt32(buf, pos + BatchField.lastOffsetDelta);
  if (count < 1) return errorData('INVALID_RECORD', `Record batch holds ${count} records`);
  if (lastOffsetDelta < 0 || count > lastOffsetDelta + 1) {
    return errorData(
      'INVALID_RECORD',
      `recordsCount ${count} does not fit lastOffsetDelta ${lastOffsetDelta}`,
    );
  }
  return undefined;
}

/** The length, magic, CRC and codec checks of checkBatch (no record-count rule). */
function checkBatchHeaderAndCrc(buf: Uint8Array, pos: number, end: number): ErrorData | undefined {
  const size = end - pos;
  const batchLength = readInt32(buf, pos + BatchField.batchLength);
  if (batchLength + LOG_OVERHEAD !== size) {
    return errorData(
      'CORRUPT_MESSAGE',
      `Record batch length ${batchLength} does not match its ${size} bytes`,
    );
  }
  const magic = buf[pos + BatchField.magic]!;
  if (magic !== MAGIC_V2)
    return errorData('CORRUPT_MESSAGE', `Record batch magic ${magic}, expected ${MAGIC_V2}`);
  const stored = readUint32(buf, pos + BatchField.crc);
  const computed = crc32cRange(buf, pos + BatchField.attributes, end);
  if (stored !== computed) return errorData('CORRUPT_MESSAGE', 'Record batch CRC mismatch');
  const codec = attributesCodec(readInt16(buf, pos + BatchField.attributes));
  if (codec > Compression.zstd)
    return errorData('UNSUPPORTED_COMPRESSION_TYPE', `Unsupported compression codec ${codec}`);
  return undefined;
}

/**
 * checkBatch plus what Kafka refuses from a producer: control batches, and an idempotent producer
 * id without a sequence.
 */
export function checkProducedBatch(buf: Uint8Array, pos = 0, end = buf.length): ErrorData | undefined {
  const error = checkBatch(buf, pos, end);
  if (error) return error;
  if (attributesControl(readInt16(buf, pos + BatchField.attributes))) {
    return errorData('INVALID_RECORD', 'Clients may not send control batches');
  }
  if (readInt64(buf, pos + BatchField.producerId) >= 0 && readInt32(buf, pos + BatchField.baseSequence) < 0) {
    return errorData('INVALID_RECORD', 'An idempotent batch needs a baseSequence ≥ 0');
  }
  return undefined;
}

/** Write the broker-assigned base offset (not covered by the CRC). */
export function setBaseOffset(buf: Uint8Array, pos: number, offset: number): void {
  writeInt64(buf, pos + BatchField.baseOffset, offset);
}

/** Write the partition leader epoch (not covered by the CRC). */
export function setPartitionLeaderEpoch(buf: Uint8Array, pos: number, epoch: number): void {
  writeInt32(buf, pos + BatchField.partitionLeaderEpoch, epoch);
}

/**
 * Rewrite maxTimestamp and the timestamp-type bit, then the CRC (both are covered by it). Used for
 * LogAppendTime topics and to replace a client's approximate maxTimestamp with the true one.
 */
export function setMaxTimestampAndType(
  buf: Uint8Array,
  pos: number,
  timestamp: number,
  logAppendTime: boolean,
): void {
  const size = batchSizeAt(buf, pos);
  if (size === undefined || size < BATCH_HEADER_SIZE || size > buf.length - pos) {
    throw corrupt('Record batch length does not fit the buffer');
  }
  writeInt64(buf, pos + BatchField.maxTimestamp, timestamp);
  const attributes = readInt16(buf, pos + BatchField.attributes);
  writeInt16(
    buf,
    pos + BatchField.attributes,
    logAppendTime ? attributes | Attribute.logAppendTime : attributes & ~Attribute.logAppendTime,
  );
  writeInt32(buf, pos + BatchField.crc, crc32cRange(buf, pos + BatchField.attributes, pos + size));
}

/** Recompute and store the CRC of the batch at `pos` (after editing CRC-covered fields). */
export function updateCrc(buf: Uint8Array, pos: number, size: number): void {
  writeInt32(buf, pos + BatchField.crc, crc32cRange(buf, pos + BatchField.attributes, pos + size));
}

// --- several batches ----------------------------------------------------------------------------

/**
 * Visit each whole batch of a buffer holding consecutive batches (a Fetch response's records, a
 * segment read). Stops silently at a trailing partial batch, as Kafka clients do; throws
 * CORRUPT_MESSAGE when a batch length is impossible (< 61). Returns where it stopped.
 */
export function forEachBatch(buf: Uint8Array, visit: (pos: number, size: number) => void, start = 0): number {
  let pos = start;
  for (;;) {
    const size = batchSizeAt(buf, pos);
    if (size === undefined) return pos;
    if (size < BATCH_HEADER_SIZE)
      throw corrupt(`Impossible record batch length ${size - LOG_OVERHEAD} at ${pos}`);
    if (size > buf.length - pos) return pos;
    visit(pos, size);
    pos += size;
  }
}

/** The whole batches of `buf` as views, in order (see forEachBatch). */
export function* iterateBatches(buf: Uint8Array): Generator<Uint8Array, void, undefined> {
  let pos = 0;
  for (;;) {
    const size = batchSizeAt(buf, pos);
    if (size === undefined) return;
    if (size < BATCH_HEADER_SIZE)
      throw corrupt(`Impossible record batch length ${size - LOG_OVERHEAD} at ${pos}`);
    if (size > buf.length - pos) return;
    yield buf.subarray(pos, pos + size);
    pos += size;
  }
}

// --- records section ----------------------------------------------------------------------------

/** What record-batch needs from a compression implementation (compression.ts on Node). */
export interface CompressionCodecs {
  compress(codec: number, data: Uint8Array): Promise<Uint8Array>;
  decompress(codec: number, data: Uint8Array, maxBytes?: number): Promise<Uint8Array>;
}

let codecs: CompressionCodecs | undefined;

/** Supply the codecs (a browser bundle has no native ones); Node loads compression.ts by itself. */
export function useCompressionCodecs(impl: CompressionCodecs): void {
  codecs = impl;
}

/** The codecs, loading compression.ts on first use (a dynamic import keeps this file Node-free). */
export async function compressionCodecs(): Promise<CompressionCodecs> {
  codecs ??= await import('./compression.ts');
  return codecs;
}

/** End of the one batch that starts at 0 in `batch`, validated against the buffer. */
function batchEnd(batch: Uint8Array): number {
  const size = batchSizeAt(batch, 0);
  if (size === undefined || size < BATCH_HEADER_SIZE || size > batch.length) {
    throw corrupt(
      `Record batch length ${size === undefined ? '?' : size - LOG_OVERHEAD} does not fit its ${batch.length} bytes`,
    );
  }
  return size;
}

/** The records section of an uncompressed batch (a view); compressed batches need recordsSection. */
export function recordsSectionSync(batch: Uint8Array): Uint8Array {
  const end = batchEnd(batch);
  const codec = attributesCodec(readInt16(batch, BatchField.attributes));
  if (codec !== Compression.none) {
    if (codec > Compression.zstd) throw unsupportedCodec(codec);
    throw new SluiceError(
      'UNSUPPORTED_COMPRESSION_TYPE',
      `A ${compressionName(codec)} batch needs the asynchronous recordsSection`,
    );
  }
  return batch.subarray(BATCH_HEADER_SIZE, end);
}

/** The uncompressed records bytes: a view when uncompressed, decompressed (≤ maxBytes) otherwise. */
export async function recordsSection(batch: Uint8Array, maxBytes?: number): Promise<Uint8Array> {
  const end = batchEnd(batch);
  const codec = attributesCodec(readInt16(batch, BatchField.attributes));
  const body = batch.subarray(BATCH_HEADER_SIZE, end);
  if (codec === Compression.none) return body;
  if (codec > Compression.zstd) throw unsupportedCodec(codec);
  return (await compressionCodecs()).decompress(codec, body, maxBytes);
}

// --- lazy record reading ------------------------------------------------------------------------

/** The header fields a cursor needs to turn deltas into offsets and timestamps. */
export type RecordCursorContext = Pick<
  RecordBatchHeader,
  'baseOffset' | 'baseTimestamp' | 'maxTimestamp' | 'timestampType' | 'recordsCount'
>;

export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

const utf8 = new TextDecoder();

/**
 * Walks the records of one section without allocating per record: after `next()` returns true, the
 * plain fields describe the current record as positions into `section`; `key()`, `value()` and
 * `headers()` materialise views only when asked. Each record is validated as it is reached (its
 * length against the section, every field against the record) → CORRUPT_MESSAGE; a section that
 * ends before `recordsCount` records → INVALID_RECORD. Stops after `recordsCount` records.
 */
export class RecordCursor {
  readonly section: Uint8Array;
  readonly baseOffset: number;
  readonly baseTimestamp: number;
  readonly recordsCount: number;
  /** Every record's timestamp is the batch maxTimestamp (Kafka's LogAppendTime semantics). */
  readonly logAppendTime: boolean;
  readonly maxTimestamp: number;
  /** Records read so far; the current record is number `count - 1`. */
  count = 0;
  attributes = 0;
  offsetDelta = 0;
  timestampDelta = 0;
  offset = -1;
  timestamp = -1;
  /** Start of the key in `section`; keyLength -1 = null key. */
  keyStart = 0;
  keyLength = -1;
  valueStart = 0;
  valueLength = -1;
  headersStart = 0;
  headerCount = 0;
  /** The record's bytes are `section[recordStart, recordEnd)`, its length varint included. */
  recordStart = 0;
  recordEnd = 0;
  readonly #reader: VarintReader;
  readonly #end: number;

  constructor(section: Uint8Array, header: RecordCursorContext) {
    this.section = section;
    this.baseOffset = header.baseOffset;
    this.baseTimestamp = header.baseTimestamp;
    this.maxTimestamp = header.maxTimestamp;
    this.recordsCount = header.recordsCount;
    this.logAppendTime = header.timestampType === 'LogAppendTime';
    this.#reader = new VarintReader(section);
    this.#end = section.length;
  }

  /** Bytes of the section consumed so far. */
  get position(): number {
    return this.#reader.pos;
  }

  /** Advance to the next record; false after the last of `recordsCount`. */
  next(): boolean {
    if (this.count >= this.recordsCount) return false;
    const r = this.#reader;
    const sectionEnd = this.#end;
    if (r.pos >= sectionEnd) {
      throw invalid(`Record batch declares ${this.recordsCount} records but holds ${this.count}`);
    }
    this.recordStart = r.pos;
    r.end = sectionEnd;
    const length = r.readVarInt();
    // 6 = attributes + one byte each for timestampDelta, offsetDelta, keyLength, valueLength, headerCount.
    if (length < 6 || length > sectionEnd - r.pos) throw corrupt(`Bad record length ${length}`);
    const end = r.pos + length;
    r.end = end;
    this.recordEnd = end;
    this.attributes = this.section[r.pos++]!;
    this.timestampDelta = r.readVarLong();
    this.offsetDelta = r.readVarInt();
    const keyLength = r.readVarInt();
    if (keyLength < -1 || keyLength > end - r.pos) throw corrupt(`Bad record key length ${keyLength}`);
    this.keyStart = r.pos;
    this.keyLength = keyLength;
    if (keyLength > 0) r.pos += keyLength;
    const valueLength = r.readVarInt();
    if (valueLength < -1 || valueLength > end - r.pos)
      throw corrupt(`Bad record value length ${valueLength}`);
    this.valueStart = r.pos;
    this.valueLength = valueLength;
    if (valueLength > 0) r.pos += valueLength;
    const headerCount = r.readVarInt();
    if (headerCount < 0) throw corrupt(`Bad record header count ${headerCount}`);
    this.headersStart = r.pos;
    this.headerCount = headerCount;
    // Each header takes ≥ 2 bytes or throws, so a huge count cannot spin past the record's end.
    for (let i = 0; i < headerCount; i++) {
      const k = r.readVarInt();
      if (k < 0 || k > end - r.pos) throw corrupt(`Bad record header key length ${k}`);
      r.pos += k;
      const v = r.readVarInt();
      if (v < -1 || v > end - r.pos) throw corrupt(`Bad record header value length ${v}`);
      if (v > 0) r.pos += v;
    }
    if (r.pos !== end) throw corrupt('Record length does not match its fields');
    this.offset = this.baseOffset + this.offsetDelta;
    this.timestamp = this.logAppendTime ? this.maxTimestamp : this.baseTimestamp + this.timestampDelta;
    this.count++;
    return true;
  }

  /** The current record's key (a view), or null. */
  key(): Uint8Array | null {
    return this.keyLength < 0 ? null : this.section.subarray(this.keyStart, this.keyStart + this.keyLength);
  }

  /** The current record's value (a view), or null (a tombstone). */
  value(): Uint8Array | null {
    return this.valueLength < 0
      ? null
      : this.section.subarray(this.valueStart, this.valueStart + this.valueLength);
  }

  /** The current record's headers, in order (allocates; next() has validated them). */
  headers(): RecordHeader[] {
    const out: RecordHeader[] = [];
    if (this.headerCount === 0) return out;
    const section = this.section;
    const r = new VarintReader(section, this.headersStart, this.recordEnd);
    for (let i = 0; i < this.headerCount; i++) {
      const keyLength = r.readVarInt();
      const key = utf8.decode(section.subarray(r.pos, r.pos + keyLength));
      r.pos += keyLength;
      const valueLength = r.readVarInt();
      const value = valueLength < 0 ? null : section.subarray(r.pos, r.pos + valueLength);
      if (valueLength > 0) r.pos += valueLength;
      out.push({ key, value });
    }
    return out;
  }
}

/** A cursor over an uncompressed batch (a single view of its bytes). */
export function openRecordCursorSync(batch: Uint8Array): RecordCursor {
  const section = recordsSectionSync(batch);
  return new RecordCursor(section, readBatchHeader(batch));
}

/** A cursor over any batch, decompressing its records first when needed. */
export async function openRecordCursor(batch: Uint8Array, maxBytes?: number): Promise<RecordCursor> {
  const section = await recordsSection(batch, maxBytes);
  return new RecordCursor(section, readBatchHeader(batch));
}

// --- whole-batch walks --------------------------------------------------------------------------

export interface RecordsSummary {
  /** The largest record timestamp (the header's may understate it). */
  maxTimestamp: number;
  /** offsetDelta of the first record carrying maxTimestamp. */
  offsetDeltaOfMaxTimestamp: number;
  /** Every record has a non-null key (required by compacted topics). */
  allKeysPresent: boolean;
}

/** Walk every record: offset deltas 0 … n−1 in order, n = recordsCount, section filled exactly. */
function summarize(cursor: RecordCursor): RecordsSummary {
  if (cursor.recordsCount < 1) throw invalid(`Record batch holds ${cursor.recordsCount} records`);
  let maxTimestamp = 0;
  let offsetDeltaOfMaxTimestamp = 0;
  let allKeysPresent = true;
  while (cursor.next()) {
    const index = cursor.count - 1;
    if (cursor.offsetDelta !== index) {
      throw invalid(`Record ${index} has offsetDelta ${cursor.offsetDelta}`);
    }
    if (index === 0 || cursor.timestamp > maxTimestamp) {
      maxTimestamp = cursor.timestamp;
      offsetDeltaOfMaxTimestamp = index;
    }
    if (cursor.keyLength < 0) allKeysPresent = false;
  }
  if (cursor.count !== cursor.recordsCount) {
    throw invalid(`Record batch declares ${cursor.recordsCount} records but holds ${cursor.count}`);
  }
  if (cursor.position !== cursor.section.length) {
    throw invalid(`Record batch holds bytes after its ${cursor.recordsCount} records`);
  }
  return { maxTimestamp, offsetDeltaOfMaxTimestamp, allKeysPresent };
}

/** summarizeRecords for an uncompressed batch, synchronously and without per-record allocation. */
export function summarizeRecordsSync(batch: Uint8Array): RecordsSummary {
  return summarize(openRecordCursorSync(batch));
}

/**
 * Validate and summarise every record of a batch (decompressing when needed). The header is not
 * checked here (run checkBatch first): this is the record-level half of produce validation.
 */
export async function summarizeRecords(batch: Uint8Array, maxBytes?: number): Promise<RecordsSummary> {
  return summarize(await openRecordCursor(batch, maxBytes));
}

/**
 * summarize for a stored batch that log compaction may have thinned: offset deltas strictly
 * increase and stay within [0, lastOffsetDelta] (gaps allowed), recordsCount records fill the
 * section exactly. A batch as a producer sent it passes too.
 */
function summarizeStored(cursor: RecordCursor, lastOffsetDelta: number): RecordsSummary {
  if (cursor.recordsCount < 1) throw invalid(`Record batch holds ${cursor.recordsCount} records`);
  let maxTimestamp = 0;
  let offsetDeltaOfMaxTimestamp = 0;
  let allKeysPresent = true;
  let previous = -1;
  while (cursor.next()) {
    const delta = cursor.offsetDelta;
    if (delta <= previous || delta > lastOffsetDelta) {
      throw invalid(
        `Record ${cursor.count - 1} has offsetDelta ${delta} (previous ${previous}, last ${lastOffsetDelta})`,
      );
    }
    previous = delta;
    if (cursor.count === 1 || cursor.timestamp > maxTimestamp) {
      maxTimestamp = cursor.timestamp;
      offsetDeltaOfMaxTimestamp = delta;
    }
    if (cursor.keyLength < 0) allKeysPresent = false;
  }
  if (cursor.count !== cursor.recordsCount) {
    throw invalid(`Record batch declares ${cursor.recordsCount} records but holds ${cursor.count}`);
  }
  if (cursor.position !== cursor.section.length) {
    throw invalid(`Record batch holds bytes after its ${cursor.recordsCount} records`);
  }
  return { maxTimestamp, offsetDeltaOfMaxTimestamp, allKeysPresent };
}

/**
 * summarizeRecords for a batch read back from a log (recovery, index rebuilds): accepts the offset
 * gaps log compaction leaves inside a batch (see checkStoredBatch), rejects everything else
 * summarizeRecords rejects.
 */
export async function summarizeStoredRecords(batch: Uint8Array, maxBytes?: number): Promise<RecordsSummary> {
  const cursor = await openRecordCursor(batch, maxBytes);
  return summarizeStored(cursor, readInt32(batch, BatchField.lastOffsetDelta));
}

/** The first record (in offset order) whose timestamp is ≥ `timestamp`, or undefined. */
export async function findRecordByTimestamp(
  batch: Uint8Array,
  timestamp: number,
): Promise<{ offset: number; timestamp: number } | undefined> {
  const cursor = await openRecordCursor(batch);
  while (cursor.next()) {
    if (cursor.timestamp >= timestamp) return { offset: cursor.offset, timestamp: cursor.timestamp };
  }
  return undefined;
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

export interface DecodedRecordBatch extends RecordBatchHeader {
  records: DecodedRecord[];
}

/** Eager decode for tools and tests (the CRC is not checked: use checkBatch). */
export async function decodeRecordBatch(batch: Uint8Array, maxBytes?: number): Promise<DecodedRecordBatch> {
  const cursor = await openRecordCursor(batch, maxBytes);
  const records: DecodedRecord[] = [];
  while (cursor.next()) {
    records.push({
      offset: cursor.offset,
      timestamp: cursor.timestamp,
      key: cursor.key(),
      value: cursor.value(),
      headers: cursor.headers(),
    });
  }
  return { ...readBatchHeader(batch), records };
}
