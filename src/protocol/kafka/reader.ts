/**
 * Reader: the decoding primitives of the Kafka wire protocol, over one Uint8Array.
 *
 * Encodings (KAFKA-PROTOCOL.md §1; all integers big-endian):
 *   int8/int16/int32/int64, uint16, float64 · bool = int8 (any non-zero byte is true)
 *   uvarint  unsigned LEB128, at most 5 bytes, value < 2^32 (flexible lengths, tag numbers, tag counts)
 *   string   int16 length + UTF-8 (-1 = null)       compact: uvarint length+1 (0 = null)
 *   bytes    int32 length + bytes (-1 = null)        compact: uvarint length+1 (0 = null)
 *   array    int32 count + elements (-1 = null)      compact: uvarint count+1 (0 = null)
 *   uuid     16 bytes, represented as the canonical lower-case string
 *            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (ZERO_UUID is Kafka's "no id")
 *   tagged fields (flexible versions): uvarint count, then per field uvarint tag, uvarint size, payload
 *
 * int64 is read as a JS number (hi * 2^32 + lo): exact up to 2^53 in magnitude, rounded beyond.
 *
 * The reader decodes hostile bytes: every read is bounds-checked; a length or count larger than the
 * bytes that remain (or negative other than the null marker) is rejected before anything is allocated;
 * over-long varints and nulls where the version does not allow them are rejected. Every failure is a
 * `SluiceError('INVALID_REQUEST')` naming the byte offset; nothing here throws RangeError or TypeError.
 *
 * `bytes()` returns a view into the input (no copy): the view keeps the whole input buffer alive, and
 * writes to the input show through. Generated codecs copy `bytes` fields that the schema does not mark
 * `zeroCopy` (and never copy `records`).
 *
 * Pure code, no I/O; any thread may use it. One Reader per buffer; not shared across threads.
 */

import { SluiceError } from '../../errors.ts';

/** A tagged field that the codec did not know, kept verbatim when the reader is asked to keep them. */
export interface TaggedField {
  readonly tag: number;
  /** The raw payload (a view into the decoded buffer). */
  readonly data: Uint8Array;
}

export interface ReaderOptions {
  /**
   * Keep unknown tagged fields as `_unknownTaggedFields` on the decoded struct (so that re-encoding
   * writes them back). Off by default: unknown tags are skipped.
   */
  keepUnknownTaggedFields?: boolean;
}

/** Kafka's "no id" UUID (all zero bits), the default of every uuid field. */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** A shared empty byte array (the default of non-nullable bytes fields; zero-length, so immutable). */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** The longest string Kafka accepts in any string encoding (Short.MAX_VALUE bytes). */
export const MAX_STRING_BYTES = 0x7fff;

/** The error every decoding failure throws. */
export function invalidRequest(message: string): SluiceError {
  return new SluiceError('INVALID_REQUEST', message);
}

/** Throws UNSUPPORTED_VERSION unless min <= version <= max (and version is an integer). */
export function assertVersion(message: string, version: number, min: number, max: number): void {
  if (!(Number.isInteger(version) && version >= min && version <= max)) {
    throw new SluiceError(
      'UNSUPPORTED_VERSION',
      `${message} version ${version} is not supported (valid versions ${min}-${max})`,
    );
  }
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

const utf8Decoder = new TextDecoder('utf-8');

export class Reader {
  /** The buffer being decoded. */
  readonly buf: Uint8Array;
  readonly keepUnknownTaggedFields: boolean;
  /** Offset of the next byte to read (relative to `buf`). */
  pos: number;
  /** Offset one past the last readable byte; narrowed while a tagged field is being decoded. */
  private end: number;
  private readonly view: DataView;

  constructor(buf: Uint8Array, options?: ReaderOptions) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
    this.end = buf.byteLength;
    this.keepUnknownTaggedFields = options?.keepUnknownTaggedFields === true;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): number {
    const p = this.pos;
    if (n > this.end - p) throw this.truncated(n);
    this.pos = p + n;
    return p;
  }

  private truncated(n: number): SluiceError {
    return invalidRequest(
      `Kafka message truncated: ${n} bytes needed at offset ${this.pos}, ${this.end - this.pos} left`,
    );
  }

  private fail(message: string): SluiceError {
    return invalidRequest(`${message} (at offset ${this.pos})`);
  }

  int8(): number {
    return this.view.getInt8(this.need(1));
  }

  int16(): number {
    return this.view.getInt16(this.need(2));
  }

  uint16(): number {
    return this.view.getUint16(this.need(2));
  }

  int32(): number {
    return this.view.getInt32(this.need(4));
  }

  uint32(): number {
    return this.view.getUint32(this.need(4));
  }

  /** int64 as a number: exact up to 2^53 in magnitude. */
  int64(): number {
    const p = this.need(8);
    return this.view.getInt32(p) * 4294967296 + this.view.getUint32(p + 4);
  }

  float64(): number {
    return this.view.getFloat64(this.need(8));
  }

  bool(): boolean {
    return this.view.getInt8(this.need(1)) !== 0;
  }

  /** Unsigned LEB128 varint of at most 5 bytes whose value fits in 32 bits. */
  uvarint(): number {
    const buf = this.buf;
    let p = this.pos;
    if (p >= this.end) throw this.truncated(1);
    let b = buf[p++]!;
    if (b < 0x80) {
      this.pos = p;
      return b;
    }
    let value = b & 0x7f;
    let scale = 0x80;
    for (let i = 1; i < 5; i++) {
      if (p >= this.end) {
        this.pos = p;
        throw this.truncated(1);
      }
      b = buf[p++]!;
      if (i === 4 && b > 0x0f) {
        this.pos = p - 1;
        throw this.fail('Unsigned varint is longer than 5 bytes or exceeds 32 bits');
      }
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = p;
        return value;
      }
      scale *= 0x80;
    }
    throw this.fail('Unsigned varint is too long');
  }

  /** UUID as a canonical lower-case string. */
  uuid(): string {
    const p = this.need(16);
    const b = this.buf;
    let s = '';
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
      s += HEX[b[p + i]!];
    }
    return s;
  }

  /** Reads a string length prefix: -1 means null; anything else is checked against the bytes left. */
  private stringLength(compact: boolean): number {
    let n: number;
    if (compact) {
      n = this.uvarint() - 1;
    } else {
      n = this.int16();
      if (n < -1) throw this.fail(`String length ${n} is negative`);
    }
    if (n > MAX_STRING_BYTES) throw this.fail(`String length ${n} exceeds ${MAX_STRING_BYTES}`);
    if (n > this.end - this.pos)
      throw this.fail(`String length ${n} exceeds the ${this.remaining} bytes left`);
    return n;
  }

  private utf8(n: number): string {
    const buf = this.buf;
    const p = this.pos;
    this.pos = p + n;
    if (n <= 32) {
      // Short ASCII strings (topic names, ids) are the common case: skip the TextDecoder call.
      let s = '';
      for (let i = p; i < p + n; i++) {
        const c = buf[i]!;
        if (c >= 0x80) return utf8Decoder.decode(buf.subarray(p, p + n));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return utf8Decoder.decode(buf.subarray(p, p + n));
  }

  /** A non-nullable string (int16 length, or compact). Null is rejected. */
  string(compact: boolean): string {
    const n = this.stringLength(compact);
    if (n < 0) throw this.fail('Non-nullable string is null');
    return this.utf8(n);
  }

  nullableString(compact: boolean): string | null {
    const n = this.stringLength(compact);
    return n < 0 ? null : this.utf8(n);
  }

  private bytesLength(compact: boolean): number {
    let n: number;
    if (compact) {
      n = this.uvarint() - 1;
    } else {
      n = this.int32();
      if (n < -1) throw this.fail(`Bytes length ${n} is negative`);
    }
    if (n > this.end - this.pos)
      throw this.fail(`Bytes length ${n} exceeds the ${this.remaining} bytes left`);
    return n;
  }

  private take(n: number): Uint8Array {
    if (n === 0) return EMPTY_BYTES;
    const p = this.pos;
    this.pos = p + n;
    return this.buf.subarray(p, p + n);
  }

  /** Non-nullable bytes (int32 length, or compact), as a view into the input (no copy). */
  bytes(compact: boolean): Uint8Array {
    const n = this.bytesLength(compact);
    if (n < 0) throw this.fail('Non-nullable bytes field is null');
    return this.take(n);
  }

  /** Nullable bytes, as a view into the input (no copy). */
  nullableBytes(compact: boolean): Uint8Array | null {
    const n = this.bytesLength(compact);
    return n < 0 ? null : this.take(n);
  }

  /** Non-nullable bytes, copied out of the input (the result does not keep the input alive). */
  bytesCopy(compact: boolean): Uint8Array {
    // new Uint8Array(view) copies; Buffer#slice (when the input is a Node Buffer) would not.
    return new Uint8Array(this.bytes(compact));
  }

  /** Nullable bytes, copied out of the input. */
  nullableBytesCopy(compact: boolean): Uint8Array | null {
    const b = this.nullableBytes(compact);
    return b === null ? null : new Uint8Array(b);
  }

  private arrayCount(compact: boolean, minElementSize: number): number {
    let n: number;
    if (compact) {
      n = this.uvarint() - 1;
    } else {
      n = this.int32();
      if (n < -1) throw this.fail(`Array length ${n} is negative`);
    }
    // Kafka rejects a count larger than the bytes left; elements of known size are checked exactly.
    if (n * minElementSize > this.end - this.pos) {
      throw this.fail(`Array length ${n} exceeds the ${this.remaining} bytes left`);
    }
    return n;
  }

  /**
   * A non-nullable array count (int32, or compact). `minElementSize` is the fewest bytes one element
   * takes (1 for structs and strings, 4 for int32 …): counts that cannot fit are rejected up front.
   */
  arrayLength(compact: boolean, minElementSize: number): number {
    const n = this.arrayCount(compact, minElementSize);
    if (n < 0) throw this.fail('Non-nullable array is null');
    return n;
  }

  /** A nullable array count: -1 means null. */
  nullableArrayLength(compact: boolean, minElementSize: number): number {
    return this.arrayCount(compact, minElementSize);
  }

  /** Skips n bytes. */
  skip(n: number): void {
    this.need(n);
  }

  /** Returns a view of the next n bytes (no copy). */
  raw(n: number): Uint8Array {
    const p = this.need(n);
    return this.buf.subarray(p, p + n);
  }

  /** The number of fields in a tagged-field section; each takes at least 2 bytes. */
  tagCount(): number {
    const n = this.uvarint();
    if (n * 2 > this.end - this.pos) throw this.fail(`Tagged field count ${n} exceeds the bytes left`);
    return n;
  }

  /** A tagged field's size, checked against the bytes left. */
  tagSize(): number {
    const n = this.uvarint();
    if (n > this.end - this.pos)
      throw this.fail(`Tagged field size ${n} exceeds the ${this.remaining} bytes left`);
    return n;
  }

  /**
   * Starts decoding a known tagged field of `size` bytes: reads are confined to it until `endTag`.
   * Returns the value to hand to `endTag`.
   */
  beginTag(size: number): number {
    const saved = this.end;
    this.end = this.pos + size;
    return saved;
  }

  /** Ends a known tagged field: its payload must have been consumed exactly. */
  endTag(saved: number): void {
    if (this.pos !== this.end) {
      throw this.fail(`Tagged field payload has ${this.end - this.pos} unread bytes`);
    }
    this.end = saved;
  }

  /** Skips (or keeps, see ReaderOptions) a tagged field the codec does not know. */
  unknownTag(target: { _unknownTaggedFields?: TaggedField[] }, tag: number, size: number): void {
    const data = this.raw(size);
    if (this.keepUnknownTaggedFields) {
      const kept = target._unknownTaggedFields;
      if (kept === undefined) target._unknownTaggedFields = [{ tag, data }];
      else kept.push({ tag, data });
    }
  }

  /** Reads a tagged-field section in which no tag is known to the codec. */
  taggedFields(target: { _unknownTaggedFields?: TaggedField[] }): void {
    for (let n = this.tagCount(); n > 0; n--) {
      const tag = this.uvarint();
      this.unknownTag(target, tag, this.tagSize());
    }
  }
}
