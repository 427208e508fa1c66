/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) in plain JavaScript: the drop-in replacement
 * for crc32c.ts in browser bundles, where @node-rs/crc32 (a native addon) cannot load. Same
 * signatures and results as crc32c.ts (test/unit/client/crc32c-js.test.ts compares them).
 *
 * Slicing-by-8: eight 256-entry tables let the loop fold 8 input bytes per iteration, about 1 GB/s
 * in V8, several times the byte-at-a-time loop. The tables (8 KiB) are built once at load time.
 * Pure code, no imports: safe in any bundle and on any thread.
 */

const POLY = 0x82f63b78;

function makeTables(): Int32Array[] {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  const t0 = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t0[n]!;
    for (let t = 1; t < 8; t++) {
      c = t0[c & 0xff]! ^ (c >>> 8);
      tables[t]![n] = c;
    }
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = makeTables() as [
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
];

/** Update a raw (pre-inverted) CRC register with `buf[start, end)`. */
function update(crc: number, buf: Uint8Array, start: number, end: number): number {
  let c = crc;
  let i = start;
  const end8 = start + ((end - start) & ~7);
  while (i < end8) {
    const lo = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    c =
      T7[lo & 0xff]! ^
      T6[(lo >>> 8) & 0xff]! ^
      T5[(lo >>> 16) & 0xff]! ^
      T4[lo >>> 24]! ^
      T3[buf[i + 4]!]! ^
      T2[buf[i + 5]!]! ^
      T1[buf[i + 6]!]! ^
      T0[buf[i + 7]!]!;
    i += 8;
  }
  while (i < end) c = T0[(c ^ buf[i++]!) & 0xff]! ^ (c >>> 8);
  return c;
}

/** CRC-32C of `data`, continuing from `initial` (the result of a previous call) when given. Unsigned. */
export function crc32c(data: Uint8Array, initial = 0): number {
  return ~update(~initial, data, 0, data.length) >>> 0;
}

/** CRC-32C of `buf[start, end)`. */
export function crc32cRange(buf: Uint8Array, start: number, end: number): number {
  return ~update(~0, buf, start, end) >>> 0;
}
