/**
 * Writer: the encoding primitives of the Kafka wire protocol (the encodings are listed in reader.ts).
 *
 * Output is a list of chunks, so that large byte fields are never copied: small writes accumulate in a
 * scratch buffer, and any byte array of at least `zeroCopyThreshold` bytes (4 KiB by default; a Fetch
 * response's record batches, a Produce request's records) is kept as a chunk of its own. The TCP layer
 * sends the result without concatenating it:
 *
 *   const chunks = writer.finish();            // Uint8Array[]; writer.length = total bytes
 *   socket.cork(); socket.write(sizePrefix); for (const c of chunks) socket.write(c); socket.uncork();
 *
 * The chunks alias the byte arrays handed to `bytes()`/`raw()`: do not modify those until the chunks
 * have been written out. `toBuffer()` concatenates everything into one Uint8Array (tests, tools).
 *
 * Values that cannot be represented (an int32 out of range, a non-integer, a null where the field is not
 * nullable, a string longer than 32767 UTF-8 bytes, a malformed UUID) throw `SluiceError('INVALID_REQUEST')`
 * rather than being silently wrapped or truncated.
 *
 * Pure code, no I/O; any thread may use it. One Writer per message.
 */

import { SluiceError } from '../../errors.ts';
import { MAX_STRING_BYTES, type TaggedField } from './reader.ts';

export interface WriterOptions {
  /** Size of the first scratch buffer (default 512 bytes); later ones double, up to 64 KiB. */
  initialSize?: number;
  /** Byte arrays at least this long become chunks of their own instead of being copied (default 4096). */
  zeroCopyThreshold?: number;
}

/** The error every encoding failure throws. */
export function invalidValue(message: string): SluiceError {
  return new SluiceError('INVALID_REQUEST', `Cannot encode Kafka message: ${message}`);
}

/** Thrown when a field that the version does not carry holds a non-default value (schema: not ignorable). */
export function unsupportedField(message: string, field: string, version: number): SluiceError {
  return new SluiceError(
    'UNSUPPORTED_VERSION',
    `${message} version ${version} cannot carry ${field}, which holds a non-default value`,
  );
}

/** Thrown when a field holds null in a version that does not allow null for it. */
export function nullNotAllowed(message: string, field: string, version: number): SluiceError {
  return invalidValue(`${message} version ${version} does not allow null in ${field}`);
}

const MAX_SCRATCH = 64 * 1024;
const TWO_63 = 2 ** 63;
const utf8Encoder = new TextEncoder();

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  return typeof value;
}

/** Number of UTF-8 bytes TextEncoder produces for `s` (lone surrogates become U+FFFD, 3 bytes). */
export function utf8Length(s: string): number {
  const n = s.length;
  let len = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      len += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        len += 2; // 2 UTF-16 units → 4 bytes
        i++;
      } else {
        len += 2;
      }
    } else {
      len += 2;
    }
  }
  return len;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

export class Writer {
  readonly zeroCopyThreshold: number;
  private buf: Uint8Array;
  private view: DataView;
  /** Next write position in `buf`. */
  private pos = 0;
  /** Start of the bytes in `buf` that are not yet part of `chunks`. */
  private mark = 0;
  private readonly chunks: Uint8Array[] = [];
  private chunkBytes = 0;

  constructor(options?: WriterOptions) {
    this.zeroCopyThreshold = options?.zeroCopyThreshold ?? 4096;
    this.buf = new Uint8Array(options?.initialSize ?? 512);
    this.view = new DataView(this.buf.buffer);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.chunkBytes + this.pos - this.mark;
  }

  /** Makes room for n more bytes in the scratch buffer. */
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.byteLength) return;
    this.flushPending();
    const size = Math.max(n, Math.min(this.buf.byteLength * 2, MAX_SCRATCH));
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
    this.mark = 0;
  }

  private flushPending(): void {
    if (this.pos > this.mark) {
      this.chunks.push(this.buf.subarray(this.mark, this.pos));
      this.chunkBytes += this.pos - this.mark;
      this.mark = this.pos;
    }
  }

  /** The encoded message as chunks (in order). The writer may keep appending afterwards. */
  finish(): Uint8Array[] {
    this.flushPending();
    return this.chunks.slice();
  }

  /** The encoded message as one buffer (copies when there is more than one chunk). */
  toBuffer(): Uint8Array {
    const chunks = this.finish();
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(this.chunkBytes);
    let p = 0;
    for (const c of chunks) {
      out.set(c, p);
      p += c.byteLength;
    }
    return out;
  }

  int8(value: number): void {
    if ((value << 24) >> 24 !== value) throw invalidValue(`${describe(value)} is not an int8`);
    this.ensure(1);
    this.buf[this.pos++] = value & 0xff;
  }

  int16(value: number): void {
    if ((value << 16) >> 16 !== value) throw invalidValue(`${describe(value)} is not an int16`);
    this.ensure(2);
    this.view.setInt16(this.pos, value);
    this.pos += 2;
  }

  uint16(value: number): void {
    if ((value & 0xffff) !== value) throw invalidValue(`${describe(value)} is not a uint16`);
    this.ensure(2);
    this.view.setUint16(this.pos, value);
    this.pos += 2;
  }

  int32(value: number): void {
    if ((value | 0) !== value) throw invalidValue(`${describe(value)} is not an int32`);
    this.ensure(4);
    this.view.setInt32(this.pos, value);
    this.pos += 4;
  }

  uint32(value: number): void {
    if (value >>> 0 !== value) throw invalidValue(`${describe(value)} is not a uint32`);
    this.ensure(4);
    this.view.setUint32(this.pos, value);
    this.pos += 4;
  }

  /** int64 from a number: any integer in [-2^63, 2^63) (exact when |value| <= 2^53). */
  int64(value: number): void {
    if (!Number.isInteger(value) || value < -TWO_63 || value >= TWO_63) {
      throw invalidValue(`${describe(value)} is not an int64`);
    }
    this.ensure(8);
    const hi = Math.floor(value / 4294967296);
    this.view.setInt32(this.pos, hi);
    this.view.setUint32(this.pos + 4, value - hi * 4294967296);
    this.pos += 8;
  }

  float64(value: number): void {
    if (typeof value !== 'number') throw invalidValue(`${describe(value)} is not a float64`);
    this.ensure(8);
    this.view.setFloat64(this.pos, value);
    this.pos += 8;
  }

  bool(value: boolean): void {
    if (typeof value !== 'boolean') throw invalidValue(`${describe(value)} is not a boolean`);
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  /** Unsigned LEB128 varint, 0 <= value < 2^32. */
  uvarint(value: number): void {
    if (value >>> 0 !== value) throw invalidValue(`${describe(value)} is not an unsigned varint`);
    this.ensure(5);
    this.putUvarint(value);
  }

  /** Writes a varint into space already ensured. */
  private putUvarint(value: number): void {
    const buf = this.buf;
    let p = this.pos;
    let v = value;
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  /** UUID from its canonical string form (either case). */
  uuid(value: string): void {
    if (typeof value !== 'string' || value.length !== 36)
      throw invalidValue(`${describe(value)} is not a UUID`);
    this.ensure(16);
    const buf = this.buf;
    const p = this.pos;
    let j = 0;
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) {
        if (value.charCodeAt(j) !== 0x2d) throw invalidValue(`${describe(value)} is not a UUID`);
        j++;
      }
      const hi = hexValue(value.charCodeAt(j));
      const lo = hexValue(value.charCodeAt(j + 1));
      if (hi < 0 || lo < 0) throw invalidValue(`${describe(value)} is not a UUID`);
      buf[p + i] = (hi << 4) | lo;
      j += 2;
    }
    this.pos = p + 16;
  }

  /** A non-nullable string: int16 length, or compact (uvarint length+1). */
  string(value: string, compact: boolean): void {
    if (typeof value !== 'string') throw invalidValue(`${describe(value)} is not a string`);
    const n = value.length;
    if (n > MAX_STRING_BYTES)
      throw invalidValue(`a string of ${n} characters is longer than ${MAX_STRING_BYTES} bytes`);
    const len = n === 0 ? 0 : utf8Length(value);
    if (len > MAX_STRING_BYTES)
      throw invalidValue(`a string of ${len} bytes is longer than ${MAX_STRING_BYTES}`);
    this.ensure(3 + len);
    if (compact) {
      this.putUvarint(len + 1);
    } else {
      this.view.setInt16(this.pos, len);
      this.pos += 2;
    }
    const buf = this.buf;
    let p = this.pos;
    if (len === n) {
      for (let i = 0; i < n; i++) buf[p++] = value.charCodeAt(i);
    } else {
      p += utf8Encoder.encodeInto(value, buf.subarray(p, p + len)).written;
    }
    this.pos = p;
  }

  nullableString(value: string | null, compact: boolean): void {
    if (value === null) {
      if (compact) this.uvarint(0);
      else this.int16(-1);
    } else {
      this.string(value, compact);
    }
  }

  /** Non-nullable bytes: int32 length, or compact. Large arrays become chunks of their own (no copy). */
  bytes(value: Uint8Array, compact: boolean): void {
    if (!(value instanceof Uint8Array)) throw invalidValue(`${describe(value)} is not a Uint8Array`);
    if (compact) this.uvarint(value.byteLength + 1);
    else this.int32(value.byteLength);
    this.raw(value);
  }

  nullableBytes(value: Uint8Array | null, compact: boolean): void {
    if (value === null) {
      if (compact) this.uvarint(0);
      else this.int32(-1);
    } else {
      this.bytes(value, compact);
    }
  }

  /** Appends bytes without a length prefix (a chunk of its own when large). */
  raw(value: Uint8Array): void {
    const n = value.byteLength;
    if (n >= this.zeroCopyThreshold) {
      this.flushPending();
      this.chunks.push(value);
      this.chunkBytes += n;
    } else if (n > 0) {
      this.ensure(n);
      this.buf.set(value, this.pos);
      this.pos += n;
    }
  }

  /** Array count: int32, or compact (uvarint count+1). */
  arrayLength(count: number, compact: boolean): void {
    if (compact) this.uvarint(count + 1);
    else this.int32(count);
  }

  /** A null array: int32 -1, or compact 0. */
  nullArray(compact: boolean): void {
    if (compact) this.uvarint(0);
    else this.int32(-1);
  }

  /**
   * A tagged-field section: the known fields (ascending tags, already encoded) merged with the unknown
   * ones kept from decoding. A tag present in both is an error.
   */
  taggedFields(known: readonly TaggedField[] | undefined, unknown: readonly TaggedField[] | undefined): void {
    let fields: readonly TaggedField[];
    if (unknown === undefined || unknown.length === 0) {
      if (known === undefined) {
        this.uvarint(0);
        return;
      }
      fields = known;
    } else {
      const merged = known === undefined ? unknown.slice() : known.concat(unknown);
      merged.sort((a, b) => a.tag - b.tag);
      for (let i = 1; i < merged.length; i++) {
        if (merged[i]!.tag === merged[i - 1]!.tag)
          throw invalidValue(`tagged field ${merged[i]!.tag} appears twice`);
      }
      fields = merged;
    }
    this.uvarint(fields.length);
    for (const f of fields) {
      this.uvarint(f.tag);
      this.uvarint(f.data.byteLength);
      this.raw(f.data);
    }
  }
}
