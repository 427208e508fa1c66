/** Reader and Writer primitives: encodings, limits, bounds checks and zero-copy chunking. */

import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../../../src/errors.ts';
import { Reader, ZERO_UUID } from '../../../../../src/protocol/kafka/reader.ts';
import { utf8Length, Writer } from '../../../../../src/protocol/kafka/writer.ts';

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

function written(fn: (w: Writer) => void): string {
  const w = new Writer();
  fn(w);
  return hex(w.toBuffer());
}

function expectCode(fn: () => unknown, code = 'INVALID_REQUEST'): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(SluiceError);
  expect((thrown as SluiceError).code).toBe(code);
}

describe('integers', () => {
  it('int64 as numbers: hi * 2^32 + lo, exact to 2^53', () => {
    const values = [
      0,
      1,
      -1,
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 32,
      -(2 ** 32),
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      1700000000000,
    ];
    for (const v of values) {
      const w = new Writer();
      w.int64(v);
      const b = w.toBuffer();
      expect(b.byteLength).toBe(8);
      expect(Buffer.from(b).readBigInt64BE()).toBe(BigInt(v));
      expect(new Reader(b).int64()).toBe(v);
    }
    expect(written((w) => w.int64(-1))).toBe('ffffffffffffffff');
    expect(new Reader(bytes('7fffffffffffffff')).int64()).toBe(2 ** 63);
    expect(new Reader(bytes('8000000000000000')).int64()).toBe(-(2 ** 63));
  });

  it('the writer rejects values that do not fit instead of wrapping them', () => {
    expectCode(() => new Writer().int8(128));
    expectCode(() => new Writer().int8(-129));
    expectCode(() => new Writer().int16(40000));
    expectCode(() => new Writer().uint16(-1));
    expectCode(() => new Writer().int32(2 ** 31));
    expectCode(() => new Writer().int32(1.5));
    expectCode(() => new Writer().int32(Number.NaN));
    expectCode(() => new Writer().int32(undefined as unknown as number));
    expectCode(() => new Writer().int64(2 ** 63));
    expectCode(() => new Writer().int64(0.5));
    expectCode(() => new Writer().uvarint(-1));
    expectCode(() => new Writer().uvarint(2 ** 32));
    expectCode(() => new Writer().bool(1 as unknown as boolean));
    expect(written((w) => w.int8(-128))).toBe('80');
    expect(written((w) => w.uint16(65535))).toBe('ffff');
    expect(new Reader(bytes('ffff')).uint16()).toBe(65535);
    expect(written((w) => w.float64(1.5))).toBe('3ff8000000000000');
    expect(new Reader(bytes('3ff8000000000000')).float64()).toBe(1.5);
    expect(new Reader(bytes('02')).bool()).toBe(true); // any non-zero byte
  });

  it('unsigned varints: LEB128, at most 5 bytes and 32 bits', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8001'],
      [300, 'ac02'],
      [16384, '808001'],
      [2 ** 31, '8080808008'],
      [2 ** 32 - 1, 'ffffffff0f'],
    ];
    for (const [v, h] of cases) {
      expect(written((w) => w.uvarint(v))).toBe(h);
      const r = new Reader(bytes(h));
      expect(r.uvarint()).toBe(v);
      expect(r.remaining).toBe(0);
    }
    expectCode(() => new Reader(bytes('ffffffff1f')).uvarint()); // beyond 32 bits
    expectCode(() => new Reader(bytes('8080808080 00')).uvarint()); // 6 bytes
    expectCode(() => new Reader(bytes('8080')).uvarint()); // truncated
    expectCode(() => new Reader(new Uint8Array(0)).uvarint());
  });
});

describe('uuid', () => {
  it('is a canonical lower-case string', () => {
    const id = '0123abcd-4567-89ef-0011-2233445566ff';
    expect(written((w) => w.uuid(id))).toBe('0123abcd456789ef00112233445566ff');
    expect(new Reader(bytes('0123abcd456789ef00112233445566ff')).uuid()).toBe(id);
    expect(written((w) => w.uuid(id.toUpperCase()))).toBe('0123abcd456789ef00112233445566ff');
    expect(new Reader(new Uint8Array(16)).uuid()).toBe(ZERO_UUID);
    const random = crypto.randomUUID();
    const w = new Writer();
    w.uuid(random);
    expect(new Reader(w.toBuffer()).uuid()).toBe(random);
  });

  it('rejects malformed strings', () => {
    for (const bad of [
      '',
      'nope',
      '0123abcd456789ef00112233445566ff',
      '0123abcd-4567-89ef-0011-2233445566fg',
      'x'.repeat(36),
    ]) {
      expectCode(() => new Writer().uuid(bad));
    }
  });
});

describe('strings', () => {
  it('int16 and compact lengths count UTF-8 bytes', () => {
    expect(written((w) => w.string('abc', false))).toBe('0003616263');
    expect(written((w) => w.string('abc', true))).toBe('04616263');
    expect(written((w) => w.string('', true))).toBe('01');
    expect(written((w) => w.nullableString(null, false))).toBe('ffff');
    expect(written((w) => w.nullableString(null, true))).toBe('00');
    expect(written((w) => w.string('é', false))).toBe('0002c3a9');
    for (const s of [
      'é☃',
      '😀 emoji',
      'mixed ascii and ü',
      'a'.repeat(40),
      `${'ß'.repeat(30)}z`,
      '\u0000nul',
    ]) {
      for (const compact of [false, true]) {
        const w = new Writer();
        w.string(s, compact);
        const r = new Reader(w.toBuffer());
        expect(r.string(compact)).toBe(s);
        expect(r.remaining).toBe(0);
      }
    }
  });

  it('a lone surrogate is written as U+FFFD (3 bytes), as TextEncoder does', () => {
    expect(utf8Length('\ud800')).toBe(3);
    expect(utf8Length('\ud83d\ude00')).toBe(4);
    expect(written((w) => w.string('\ud800x', false))).toBe('0004efbfbd78');
  });

  it('enforces the 32767-byte limit both ways', () => {
    const max = 'a'.repeat(0x7fff);
    const w = new Writer();
    w.string(max, false);
    expect(new Reader(w.toBuffer()).string(false)).toBe(max);
    expectCode(() => new Writer().string('a'.repeat(0x8000), false));
    expectCode(() => new Writer().string('é'.repeat(20000), true)); // 40000 bytes
    const compact = new Uint8Array(3 + 0x8000);
    compact.set([0x81, 0x80, 0x02]); // 32769 = 32768 + 1
    expectCode(() => new Reader(compact).string(true));
  });

  it('rejects nulls, negative lengths and lengths beyond the end', () => {
    expectCode(() => new Reader(bytes('ffff')).string(false));
    expectCode(() => new Reader(bytes('00')).string(true));
    expectCode(() => new Reader(bytes('fffe')).nullableString(false));
    expectCode(() => new Reader(bytes('000561')).string(false));
    expectCode(() => new Reader(bytes('0561')).string(true));
    expectCode(() => new Writer().string(null as unknown as string, false));
    expectCode(() => new Writer().string(5 as unknown as string, false));
  });
});

describe('bytes and arrays', () => {
  it('bytes decode as views (no copy); the Copy variants own their data', () => {
    const frame = bytes('00000003 010203 04 0a0b0c');
    const r = new Reader(frame);
    const view = r.bytes(false);
    expect(view).toEqual(bytes('010203'));
    expect(view.buffer).toBe(frame.buffer);
    const copy = r.bytesCopy(true);
    expect(copy).toEqual(bytes('0a0b0c'));
    expect(copy.buffer).not.toBe(frame.buffer);
    expect(new Reader(bytes('ffffffff')).nullableBytes(false)).toBeNull();
    expect(new Reader(bytes('00')).nullableBytesCopy(true)).toBeNull();
    expectCode(() => new Reader(bytes('ffffffff')).bytes(false));
    expectCode(() => new Reader(bytes('fffffffe')).nullableBytes(false));
    expectCode(() => new Reader(bytes('7fffffff 00')).bytes(false));
    expectCode(() => new Reader(bytes('ffffffff0f')).bytes(true));
  });

  it('array counts are checked against the bytes left before anything is read', () => {
    expect(new Reader(bytes('00000002 00000001 00000002')).arrayLength(false, 4)).toBe(2);
    expectCode(() => new Reader(bytes('00000003 00000001 00000002')).arrayLength(false, 4));
    expectCode(() => new Reader(bytes('7fffffff 00')).arrayLength(false, 1));
    expectCode(() => new Reader(bytes('ffffffff')).arrayLength(false, 1));
    expectCode(() => new Reader(bytes('fffffffe')).nullableArrayLength(false, 1));
    expect(new Reader(bytes('ffffffff')).nullableArrayLength(false, 1)).toBe(-1);
    expect(new Reader(bytes('00')).nullableArrayLength(true, 1)).toBe(-1);
    expectCode(() => new Reader(bytes('ffffffff0f')).arrayLength(true, 1));
  });

  it('every fixed-size read is bounds-checked', () => {
    const r = new Reader(bytes('000000'));
    expectCode(() => r.int32());
    expectCode(() => r.int64());
    expectCode(() => r.uuid());
    expect(r.int16()).toBe(0);
    expectCode(() => r.int16());
    expect(r.int8()).toBe(0);
    expectCode(() => r.int8());
    expectCode(() => r.bool());
    // A Reader over a view of a larger buffer stays inside the view.
    const big = bytes('00000001 00000002');
    const sub = new Reader(big.subarray(4, 6));
    expectCode(() => sub.int32());
  });
});

describe('writer output', () => {
  it('keeps large byte arrays as their own chunks and copies small ones', () => {
    const big = new Uint8Array(5000).fill(1);
    const small = new Uint8Array(10).fill(2);
    const w = new Writer();
    w.int32(1);
    w.bytes(big, false);
    w.bytes(small, false);
    w.bytes(big, true);
    const chunks = w.finish();
    expect(chunks.filter((c) => c === big)).toHaveLength(2);
    expect(chunks.includes(small)).toBe(false);
    expect(w.length).toBe(4 + 4 + 5000 + 4 + 10 + 2 + 5000);
    const all = w.toBuffer();
    expect(all.byteLength).toBe(w.length);
    const r = new Reader(all);
    expect(r.int32()).toBe(1);
    expect(r.bytes(false)).toEqual(big);
    expect(r.bytes(false)).toEqual(small);
    expect(r.bytes(true)).toEqual(big);
  });

  it('the threshold is configurable and growth keeps earlier chunks intact', () => {
    const w = new Writer({ initialSize: 8, zeroCopyThreshold: 1 << 30 });
    const expected: number[] = [];
    for (let i = 0; i < 10000; i++) {
      w.int32(i);
      expected.push(i);
    }
    w.raw(new Uint8Array(70000).fill(5));
    const r = new Reader(w.toBuffer());
    for (const i of expected) expect(r.int32()).toBe(i);
    expect(r.raw(70000).every((b) => b === 5)).toBe(true);
    expect(r.remaining).toBe(0);
  });

  it('tagged-field sections merge known and unknown fields and reject duplicates', () => {
    const known = [{ tag: 0, data: bytes('aa') }];
    const unknown = [
      { tag: 3, data: bytes('cc') },
      { tag: 1, data: bytes('bb') },
    ];
    expect(written((w) => w.taggedFields(undefined, undefined))).toBe('00');
    expect(written((w) => w.taggedFields(known, unknown))).toBe('03' + '0001aa' + '0101bb' + '0301cc');
    expectCode(() => new Writer().taggedFields(known, [{ tag: 0, data: bytes('dd') }]));
    const r = new Reader(bytes('03 0001aa 0101bb 0301cc'), { keepUnknownTaggedFields: true });
    const target: { _unknownTaggedFields?: { tag: number; data: Uint8Array }[] } = {};
    r.taggedFields(target);
    expect(target._unknownTaggedFields?.map((f) => f.tag)).toEqual([0, 1, 3]);
    expectCode(() => new Reader(bytes('05 0001aa')).tagCount());
  });
});
