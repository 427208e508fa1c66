/**
 * Zigzag varints, as used inside RecordBatch v2 records (not the unsigned varints of flexible
 * request fields, which live with the request primitives).
 *
 * Layout: the value is zigzag-mapped to an unsigned integer (0 → 0, -1 → 1, 1 → 2, -2 → 3, …),
 * then written little-endian in groups of 7 bits, the high bit of each byte saying "more follows".
 *   varint  (int32): 1–5 bytes; the 5th byte may only carry bits 28–31 (≤ 0x0f)
 *   varlong (int64): 1–10 bytes; the 10th byte may only carry bit 63 (≤ 0x01)
 *
 * Invariants enforced on read (every violation is CORRUPT_MESSAGE, never a RangeError):
 *   - no read past `end`;
 *   - no encoding longer than 5 / 10 bytes and no bits beyond the type's width;
 *   - no overlong encoding (a final 0x00 byte after a continuation byte, e.g. 0x80 0x00 for 0).
 *     Kafka's Java reader accepts those, but no client writes them (every encoder computes the
 *     length first) and rejecting them keeps one byte string per value.
 *
 * int64 values are JS numbers: read as hi * 2^32 + lo, so exact up to 2^53 in magnitude (and at
 * any power of two such as -2^63); writes split the number into two exact 32-bit halves.
 *
 * Pure code, no I/O and no Node-only modules: it runs on any thread and in browsers.
 */
import { SluiceError } from '../../errors.ts';

const TWO_32 = 4294967296;

function truncated(): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', 'Truncated varint');
}

function overlong(kind: string): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', `Malformed ${kind}: too long or overlong encoding`);
}

/**
 * A read position over `buf[pos, end)`. Reads advance `pos`; the record cursor moves `end` to
 * the current record's end so that one bounds check per byte covers both the record and the section.
 * A class (not a returned `{ value, size }`) so that the hot path allocates nothing.
 */
export class VarintReader {
  buf: Uint8Array;
  pos: number;
  end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** A zigzag varint (int32, ≤ 5 bytes). */
  readVarInt(): number {
    const buf = this.buf;
    let pos = this.pos;
    const end = this.end;
    if (pos >= end) throw truncated();
    let b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return (b >>> 1) ^ -(b & 1);
    }
    let u = b & 0x7f;
    let shift = 7;
    for (;;) {
      if (pos >= end) throw truncated();
      b = buf[pos++]!;
      if (shift === 28) {
        if (b > 0x0f || b === 0) throw overlong('varint');
        u |= b << 28;
        break;
      }
      u |= (b & 0x7f) << shift;
      if (b < 0x80) {
        if (b === 0) throw overlong('varint');
        break;
      }
      shift += 7;
    }
    this.pos = pos;
    u >>>= 0;
    return (u >>> 1) ^ -(u & 1);
  }

  /** A zigzag varlong (int64, ≤ 10 bytes) as a number (exact to 2^53). */
  readVarLong(): number {
    const buf = this.buf;
    let pos = this.pos;
    const end = this.end;
    // Fast path: up to 4 bytes (28 bits) fit in int32 arithmetic; timestamp deltas usually do.
    let lo = 0;
    let shift = 0;
    let b = 0;
    for (;;) {
      if (pos >= end) throw truncated();
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        if (b === 0 && shift !== 0) throw overlong('varlong');
        this.pos = pos;
        return (lo >>> 1) ^ -(lo & 1);
      }
      shift += 7;
      if (shift === 28) break;
    }
    // Bytes 5–10: byte 5 straddles the halves (4 bits low, 3 bits high).
    if (pos >= end) throw truncated();
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    let hi = (b & 0x7f) >>> 4;
    if (b >= 0x80) {
      shift = 3;
      for (;;) {
        if (pos >= end) throw truncated();
        b = buf[pos++]!;
        if (shift === 31) {
          if (b > 0x01 || b === 0) throw overlong('varlong');
          hi |= b << 31;
          break;
        }
        hi |= (b & 0x7f) << shift;
        if (b < 0x80) break;
        shift += 7;
      }
    }
    if (b === 0) throw overlong('varlong');
    this.pos = pos;
    // 64-bit zigzag decode on the halves: value = (u >>> 1) ^ -(u & 1).
    const sign = -(lo & 1);
    const vLo = ((lo >>> 1) | (hi << 31)) ^ sign;
    const vHi = (hi >>> 1) ^ sign;
    return vHi * TWO_32 + (vLo >>> 0);
  }
}

/** Bytes a zigzag varint of `value` (an int32) takes. */
export function sizeOfVarInt(value: number): number {
  const u = ((value << 1) ^ (value >> 31)) >>> 0;
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x200000) return 3;
  if (u < 0x10000000) return 4;
  return 5;
}

/** Bytes a zigzag varlong of `value` (an integer number within int64) takes. */
export function sizeOfVarLong(value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return sizeOfVarInt(value);
  const [uHi, uLo] = zigzag64(value);
  if (uHi === 0) return uLo < 0x10000000 ? 4 : 5;
  // 32 low bits plus the significant bits of the high half, 7 per byte.
  const bits = 64 - Math.clz32(uHi);
  return Math.ceil(bits / 7);
}

/** Zigzag-map an int64 held in a number to its unsigned (hi, lo) halves. */
function zigzag64(value: number): [number, number] {
  const hi = Math.floor(value / TWO_32);
  const lo = value - hi * TWO_32;
  const sign = hi >> 31;
  return [(((hi << 1) | (lo >>> 31)) ^ sign) >>> 0, ((lo << 1) ^ sign) >>> 0];
}

/** Write a zigzag varint (int32) at `pos`; returns the position after it. The caller ensures room (5 bytes). */
export function writeVarInt(buf: Uint8Array, pos: number, value: number): number {
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

/** Write a zigzag varlong (int64 in a number) at `pos`; returns the position after it. Room: 10 bytes. */
export function writeVarLong(buf: Uint8Array, pos: number, value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return writeVarInt(buf, pos, value);
  let [hi, lo] = zigzag64(value);
  while (hi !== 0 || lo >= 0x80) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}
