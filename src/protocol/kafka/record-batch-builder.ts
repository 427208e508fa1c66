/**
 * Builds one RecordBatch v2 (layout in record-batch.ts) for a producer: records are encoded
 * straight into one growing buffer as they are appended, the header is filled in by build().
 *
 * Output: baseOffset 0, partitionLeaderEpoch -1, magic 2, CreateTime, baseTimestamp = the first
 * record's timestamp (as Kafka's Java producer does; later records may be earlier, giving negative
 * deltas), maxTimestamp = the true maximum, offset deltas 0 … n−1, CRC set.
 *
 * On the producer hot path (millions of records/s per core): no per-record objects beyond the
 * caller's, strings encoded in place (ASCII by a JS loop, the rest by Buffer#write or
 * TextEncoder#encodeInto), and each record's length varint sized in advance so nothing moves except
 * in the rare case a non-ASCII string crosses a varint size boundary. Browser-safe: Buffer is used
 * only when present, as a speed-up.
 */
import { SluiceError } from '../../errors.ts';
import {
  BATCH_HEADER_SIZE,
  BatchField,
  type CompressionName,
  compressionCodecs,
  LOG_OVERHEAD,
  MAGIC_V2,
  makeAttributes,
  updateCrc,
  writeInt16,
  writeInt32,
  writeInt64,
} from './record-batch.ts';
import { sizeOfVarInt, sizeOfVarLong, writeVarInt, writeVarLong } from './varint.ts';

export interface RecordBatchBuilderOptions {
  compression?: CompressionName;
  /** -1 unless idempotent. */
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  /** Initial buffer size; it doubles as needed. Pass the producer's batch size. */
  initialCapacity?: number;
}

export type HeaderValue = Uint8Array | string | null;

export interface ProducerRecord {
  key?: Uint8Array | string | null;
  value: Uint8Array | string | null;
  headers?: readonly { key: string; value: HeaderValue }[] | Readonly<Record<string, HeaderValue>>;
  /** Milliseconds since the epoch; Date.now() when absent. */
  timestamp?: number;
}

const NodeBuffer: typeof Buffer | undefined = (globalThis as { Buffer?: typeof Buffer }).Buffer;
const encoder = new TextEncoder();

function allocate(size: number): Uint8Array {
  // allocUnsafeSlow: an ArrayBuffer of our own (never a slice of Node's shared pool), so that the
  // built batch's buffer can be transferred to another thread.
  return NodeBuffer ? NodeBuffer.allocUnsafeSlow(size) : new Uint8Array(size);
}

/**
 * Encode `str` as UTF-8 at `pos` (room for 3 bytes per UTF-16 unit must exist); returns the bytes
 * written. Short ASCII strings, the common case for keys and header names, stay in JS.
 */
function writeUtf8(buf: Uint8Array, pos: number, str: string): number {
  const n = str.length;
  if (n <= 32) {
    let i = 0;
    for (; i < n; i++) {
      const c = str.charCodeAt(i);
      if (c >= 0x80) break;
      buf[pos + i] = c;
    }
    if (i === n) return n;
  }
  if (NodeBuffer && buf instanceof NodeBuffer) return buf.write(str, pos);
  return encoder.encodeInto(str, buf.subarray(pos)).written;
}

export class RecordBatchBuilder {
  #buf: Uint8Array;
  #pos = BATCH_HEADER_SIZE;
  #count = 0;
  #baseTimestamp = 0;
  #maxTimestamp = 0;
  #built = false;
  readonly #compression: CompressionName;
  readonly #attributes: number;
  readonly #producerId: number;
  readonly #producerEpoch: number;
  readonly #baseSequence: number;

  constructor(options: RecordBatchBuilderOptions = {}) {
    this.#compression = options.compression ?? 'none';
    this.#attributes = makeAttributes(this.#compression, { transactional: options.isTransactional === true });
    this.#producerId = options.producerId ?? -1;
    this.#producerEpoch = options.producerEpoch ?? -1;
    this.#baseSequence = options.baseSequence ?? -1;
    this.#buf = allocate(Math.max(BATCH_HEADER_SIZE + 64, options.initialCapacity ?? 4096));
  }

  /** Records appended so far. */
  get count(): number {
    return this.#count;
  }

  /** The batch size so far, uncompressed: an upper estimate of the built size when compressing. */
  get sizeInBytes(): number {
    return this.#pos;
  }

  /** Append one record; returns its offset delta. */
  append(record: ProducerRecord): number {
    if (this.#built) throw new Error('RecordBatchBuilder: append after build');
    const timestamp = record.timestamp ?? Date.now();
    const offsetDelta = this.#count;
    if (offsetDelta === 0) {
      this.#baseTimestamp = timestamp;
      this.#maxTimestamp = timestamp;
    } else if (timestamp > this.#maxTimestamp) {
      this.#maxTimestamp = timestamp;
    }
    const timestampDelta = timestamp - this.#baseTimestamp;
    const { key, value, headers } = record;
    let headerList: readonly { key: string; value: HeaderValue }[] | undefined;
    let headerKeys: string[] | undefined;
    let headerCount = 0;
    if (headers) {
      if (Array.isArray(headers)) {
        headerList = headers as readonly { key: string; value: HeaderValue }[];
        headerCount = headerList.length;
      } else {
        headerKeys = Object.keys(headers);
        headerCount = headerKeys.length;
      }
    }

    // Body size assuming one byte per string unit (exact for ASCII), and the extra room strings may
    // need (UTF-8 takes up to 3 bytes per unit) so that encoding never overruns the buffer.
    let estimate =
      1 +
      sizeOfVarLong(timestampDelta) +
      sizeOfVarInt(offsetDelta) +
      fieldEstimate(key) +
      fieldEstimate(value) +
      sizeOfVarInt(headerCount);
    let extra = fieldWorstCase(key) + fieldWorstCase(value);
    for (let i = 0; i < headerCount; i++) {
      let hKey: string;
      let hValue: HeaderValue;
      if (headerList) {
        const h = headerList[i]!;
        hKey = h.key;
        hValue = h.value;
      } else {
        hKey = headerKeys![i]!;
        hValue = (headers as Readonly<Record<string, HeaderValue>>)[hKey] ?? null;
      }
      estimate += fieldEstimate(hKey) + fieldEstimate(hValue);
      extra += fieldWorstCase(hKey) + fieldWorstCase(hValue);
    }
    // + 5: the record's length varint.
    this.#ensure(5 + estimate + extra);

    const buf = this.#buf;
    const start = this.#pos;
    const lengthSize = sizeOfVarInt(estimate);
    const bodyStart = start + lengthSize;
    let p = bodyStart;
    buf[p++] = 0; // record attributes: none defined
    p = writeVarLong(buf, p, timestampDelta);
    p = writeVarInt(buf, p, offsetDelta);
    p = writeField(buf, p, key ?? null);
    p = writeField(buf, p, value ?? null);
    p = writeVarInt(buf, p, headerCount);
    for (let i = 0; i < headerCount; i++) {
      if (headerList) {
        const h = headerList[i]!;
        p = writeField(buf, p, h.key);
        p = writeField(buf, p, h.value ?? null);
      } else {
        const hKey = headerKeys![i]!;
        p = writeField(buf, p, hKey);
        p = writeField(buf, p, (headers as Readonly<Record<string, HeaderValue>>)[hKey] ?? null);
      }
    }
    const bodySize = p - bodyStart;
    const actualLengthSize = sizeOfVarInt(bodySize);
    if (actualLengthSize !== lengthSize) {
      // Multi-byte UTF-8 made the body longer than estimated across a varint boundary: shift it.
      buf.copyWithin(start + actualLengthSize, bodyStart, p);
      p += actualLengthSize - lengthSize;
    }
    writeVarInt(buf, start, bodySize);
    this.#pos = p;
    this.#count = offsetDelta + 1;
    return offsetDelta;
  }

  /**
   * Finish an uncompressed batch synchronously. The result is a view of the builder's buffer (whose
   * ArrayBuffer may be larger than the batch). The builder cannot be appended to afterwards.
   */
  buildSync(): Uint8Array {
    if (this.#compression !== 'none') {
      throw new Error(`RecordBatchBuilder: a ${this.#compression} batch needs build()`);
    }
    const end = this.#pos;
    this.#finish(this.#buf, end);
    return this.#buf.subarray(0, end);
  }

  /** Finish the batch, compressing its records when asked. */
  async build(): Promise<Uint8Array> {
    if (this.#compression === 'none') return this.buildSync();
    const codecs = await compressionCodecs();
    const compressed = await codecs.compress(
      this.#attributes & 0x07,
      this.#buf.subarray(BATCH_HEADER_SIZE, this.#pos),
    );
    const out = allocate(BATCH_HEADER_SIZE + compressed.length);
    out.set(compressed, BATCH_HEADER_SIZE);
    this.#finish(out, out.length);
    return out;
  }

  #finish(out: Uint8Array, end: number): void {
    if (this.#built) throw new Error('RecordBatchBuilder: already built');
    if (this.#count === 0)
      throw new SluiceError('INVALID_RECORD', 'A record batch needs at least one record');
    this.#built = true;
    writeInt64(out, BatchField.baseOffset, 0);
    writeInt32(out, BatchField.batchLength, end - LOG_OVERHEAD);
    writeInt32(out, BatchField.partitionLeaderEpoch, -1);
    out[BatchField.magic] = MAGIC_V2;
    writeInt16(out, BatchField.attributes, this.#attributes);
    writeInt32(out, BatchField.lastOffsetDelta, this.#count - 1);
    writeInt64(out, BatchField.baseTimestamp, this.#baseTimestamp);
    writeInt64(out, BatchField.maxTimestamp, this.#maxTimestamp);
    writeInt64(out, BatchField.producerId, this.#producerId);
    writeInt16(out, BatchField.producerEpoch, this.#producerEpoch);
    writeInt32(out, BatchField.baseSequence, this.#baseSequence);
    writeInt32(out, BatchField.recordsCount, this.#count);
    updateCrc(out, 0, end);
  }

  #ensure(extra: number): void {
    const needed = this.#pos + extra;
    if (needed <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < needed) size *= 2;
    const grown = allocate(size);
    grown.set(this.#buf.subarray(0, this.#pos));
    this.#buf = grown;
  }
}

/** Length varint + bytes, guessing one byte per string unit. */
function fieldEstimate(field: Uint8Array | string | null | undefined): number {
  if (field == null) return 1;
  return sizeOfVarInt(field.length) + field.length;
}

/** Extra room a string may need beyond its estimate (UTF-8 ≤ 3 bytes per UTF-16 unit). */
function fieldWorstCase(field: Uint8Array | string | null | undefined): number {
  return typeof field === 'string' ? 2 * field.length + 5 : 0;
}

/** Write a length-prefixed nullable field (bytes or a UTF-8 string). */
function writeField(buf: Uint8Array, pos: number, field: Uint8Array | string | null): number {
  if (field === null) return writeVarInt(buf, pos, -1);
  if (typeof field !== 'string') {
    const p = writeVarInt(buf, pos, field.length);
    buf.set(field, p);
    return p + field.length;
  }
  // Write the string after a length varint sized for the ASCII guess, then fix up if it was wrong.
  const guessSize = sizeOfVarInt(field.length);
  const written = writeUtf8(buf, pos + guessSize, field);
  const actualSize = sizeOfVarInt(written);
  if (actualSize !== guessSize) buf.copyWithin(pos + actualSize, pos + guessSize, pos + guessSize + written);
  writeVarInt(buf, pos, written);
  return pos + actualSize + written;
}
