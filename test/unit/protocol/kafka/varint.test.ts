import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../../src/errors.ts';
import {
  sizeOfVarInt,
  sizeOfVarLong,
  VarintReader,
  writeVarInt,
  writeVarLong,
} from '../../../../src/protocol/kafka/varint.ts';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

function encodeInt(value: number): Uint8Array {
  const buf = new Uint8Array(5);
  return buf.subarray(0, writeVarInt(buf, 0, value));
}

function encodeLong(value: number): Uint8Array {
  const buf = new Uint8Array(10);
  return buf.subarray(0, writeVarLong(buf, 0, value));
}

function expectCorrupt(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe('CORRUPT_MESSAGE');
    return;
  }
  expect.fail('expected CORRUPT_MESSAGE');
}

describe('varint (zigzag int32)', () => {
  const cases: [number, number[]][] = [
    [0, [0x00]],
    [-1, [0x01]],
    [1, [0x02]],
    [-64, [0x7f]],
    [63, [0x7e]],
    [64, [0x80, 0x01]],
    [300, [0xd8, 0x04]],
    [2147483647, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
    [-2147483648, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ];

  it.each(cases)('%d encodes as the Kafka/protobuf bytes and back', (value, expected) => {
    expect([...encodeInt(value)]).toEqual(expected);
    expect(sizeOfVarInt(value)).toBe(expected.length);
    const reader = new VarintReader(bytes(...expected));
    expect(reader.readVarInt()).toBe(value);
    expect(reader.pos).toBe(expected.length);
  });

  it('round-trips values around every byte-length boundary', () => {
    for (let bits = 0; bits <= 31; bits++) {
      for (const base of [2 ** bits, -(2 ** bits)]) {
        for (const value of [base - 1, base, base + 1]) {
          if (value > 2147483647 || value < -2147483648) continue;
          const enc = encodeInt(value);
          expect(enc.length).toBe(sizeOfVarInt(value));
          expect(new VarintReader(enc).readVarInt()).toBe(value);
        }
      }
    }
  });

  it('reads consecutive values and stops at end', () => {
    const reader = new VarintReader(bytes(0x02, 0x01, 0xd8, 0x04, 0x99), 0, 4);
    expect([reader.readVarInt(), reader.readVarInt(), reader.readVarInt()]).toEqual([1, -1, 300]);
    expectCorrupt(() => reader.readVarInt());
  });

  it('rejects truncated encodings', () => {
    expectCorrupt(() => new VarintReader(bytes()).readVarInt());
    expectCorrupt(() => new VarintReader(bytes(0x80)).readVarInt());
    expectCorrupt(() => new VarintReader(bytes(0xff, 0xff, 0xff, 0xff)).readVarInt());
  });

  it('rejects encodings longer than 5 bytes or carrying bits beyond 32', () => {
    expectCorrupt(() => new VarintReader(bytes(0xff, 0xff, 0xff, 0xff, 0x8f, 0x00)).readVarInt());
    expectCorrupt(() => new VarintReader(bytes(0xff, 0xff, 0xff, 0xff, 0x10)).readVarInt());
    expectCorrupt(() => new VarintReader(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x01)).readVarInt());
  });

  it('rejects overlong (non-minimal) encodings', () => {
    expectCorrupt(() => new VarintReader(bytes(0x80, 0x00)).readVarInt());
    expectCorrupt(() => new VarintReader(bytes(0x82, 0x80, 0x00)).readVarInt());
    expectCorrupt(() => new VarintReader(bytes(0x80, 0x80, 0x80, 0x80, 0x00)).readVarInt());
  });
});

describe('varlong (zigzag int64 as number)', () => {
  const cases: [number, number[]][] = [
    [0, [0x00]],
    [-1, [0x01]],
    [1, [0x02]],
    [2 ** 31, [0x80, 0x80, 0x80, 0x80, 0x10]],
    [-(2 ** 31) - 1, [0x81, 0x80, 0x80, 0x80, 0x10]],
    [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x20]],
    [1_700_000_000_000, [...encodeLongReference(1_700_000_000_000n)]],
    [Number.MAX_SAFE_INTEGER, [...encodeLongReference(BigInt(Number.MAX_SAFE_INTEGER))]],
    [Number.MIN_SAFE_INTEGER, [...encodeLongReference(BigInt(Number.MIN_SAFE_INTEGER))]],
    [2 ** 53, [...encodeLongReference(2n ** 53n)]],
    // int64 extremes: -2^63 is exact as a double; 2^63 − 1 is not, so only its encoding is checked below.
    [-(2 ** 63), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
  ];

  it.each(cases)('%d encodes as the reference bytes and back', (value, expected) => {
    expect([...encodeLong(value)]).toEqual(expected);
    expect(sizeOfVarLong(value)).toBe(expected.length);
    const reader = new VarintReader(bytes(...expected));
    expect(reader.readVarLong()).toBe(value);
    expect(reader.pos).toBe(expected.length);
  });

  it('reads the 10-byte maximum (int64 max) as the nearest double', () => {
    const max = encodeLongReference(2n ** 63n - 1n);
    expect([...max]).toEqual([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(new VarintReader(max).readVarLong()).toBe(2 ** 63);
  });

  it('agrees with a BigInt reference for random safe integers of every size', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let i = 0; i < 2000; i++) {
      const magnitude = Math.floor(rand() * 2 ** Math.floor(rand() * 54));
      const value = rand() < 0.5 && magnitude !== 0 ? -magnitude : magnitude;
      const expected = encodeLongReference(BigInt(value));
      expect([...encodeLong(value)]).toEqual([...expected]);
      expect(sizeOfVarLong(value)).toBe(expected.length);
      expect(new VarintReader(expected).readVarLong()).toBe(value);
    }
  });

  it('rejects truncated, too long and overlong encodings', () => {
    expectCorrupt(() => new VarintReader(bytes(0x80, 0x80, 0x80, 0x80, 0x80)).readVarLong());
    expectCorrupt(() =>
      new VarintReader(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)).readVarLong(),
    );
    // 11 bytes, and a 10th byte with bits beyond 64.
    expectCorrupt(() =>
      new VarintReader(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00)).readVarLong(),
    );
    expectCorrupt(() =>
      new VarintReader(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02)).readVarLong(),
    );
    expectCorrupt(() => new VarintReader(bytes(0x80, 0x00)).readVarLong());
    expectCorrupt(() => new VarintReader(bytes(0x80, 0x80, 0x80, 0x80, 0x00)).readVarLong());
    expectCorrupt(() => new VarintReader(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x00)).readVarLong());
    expectCorrupt(() =>
      new VarintReader(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00)).readVarLong(),
    );
  });
});

/** Independent zigzag varint encoder on BigInt, the reference for the number-based code. */
function encodeLongReference(value: bigint): Uint8Array {
  let u = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return Uint8Array.from(out);
}
