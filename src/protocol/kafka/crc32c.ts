/**
 * CRC-32C (Castagnoli), the checksum of RecordBatch v2: it covers the bytes from `attributes`
 * (offset 21) to the end of the batch, and is stored as an unsigned int32 at offset 17.
 *
 * Backed by @node-rs/crc32 (hardware CRC instructions where the CPU has them) rather than a JS table
 * loop, because the broker checks every produced batch and every batch it reads back in recovery.
 * A browser bundle can alias this module to a pure-JS implementation with the same signature.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C of `data`, continuing from `initial` (the result of a previous call) when given. Unsigned. */
export function crc32c(data: Uint8Array, initial?: number): number {
  return nativeCrc32c(data, initial) >>> 0;
}

/** CRC-32C of `buf[start, end)`. */
export function crc32cRange(buf: Uint8Array, start: number, end: number): number {
  // The native call needs a view; one small object per call, no copy of the bytes.
  return nativeCrc32c(buf.subarray(start, end)) >>> 0;
}
