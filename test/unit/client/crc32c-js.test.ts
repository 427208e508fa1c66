/**
 * The pure-JS CRC-32C used by browser bundles must give exactly what the native one (crc32c.ts,
 * @node-rs/crc32) gives: on every length around the slicing-by-8 boundaries, at every alignment,
 * continued across calls, and on the known check value.
 */
import { describe, expect, it } from 'vitest';
import { crc32c as nativeCrc, crc32cRange as nativeRange } from '../../../src/protocol/kafka/crc32c.ts';
import { crc32c as jsCrc, crc32cRange as jsRange } from '../../../src/protocol/kafka/crc32c-js.ts';

function random(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('crc32c-js', () => {
  it('gives the CRC-32C check value for "123456789"', () => {
    expect(jsCrc(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('equals the native CRC for every length 0–300 and larger buffers', () => {
    const data = random(70_000, 7);
    for (let n = 0; n <= 300; n++) expect(jsCrc(data.subarray(0, n))).toBe(nativeCrc(data.subarray(0, n)));
    for (const n of [1023, 4096, 65_537, 70_000])
      expect(jsCrc(data.subarray(0, n))).toBe(nativeCrc(data.subarray(0, n)));
  });

  it('equals the native CRC at every alignment, for ranges, and when continued', () => {
    const data = random(5000, 11);
    for (let start = 0; start < 16; start++) {
      expect(jsRange(data, start, 4000 + start)).toBe(nativeRange(data, start, 4000 + start));
      expect(jsCrc(data.subarray(start))).toBe(nativeCrc(data.subarray(start)));
    }
    for (const cut of [0, 1, 7, 8, 9, 2500, 5000]) {
      const continued = jsCrc(data.subarray(cut), jsCrc(data.subarray(0, cut)));
      expect(continued).toBe(nativeCrc(data));
    }
  });
});
