/**
 * The record-batch compression codecs: the bytes after the 61-byte batch header are either the
 * concatenated records (codec 0) or one compressed blob of them (codecs 1–4, attribute bits 0–2).
 *
 * Framings, as Kafka clients write them:
 *   gzip   (1) a gzip stream (RFC 1952), possibly several members          node:zlib
 *   snappy (2) raw snappy (librdkafka, kafkajs), or the xerial/snappy-java framing (Java client):
 *              0x82 'SNAPPY' 0x00 · int32 version · int32 compatible version ·
 *              { int32 length · raw snappy block }*                         npm snappy
 *              We write raw snappy (snappy-java's reader falls back to it) and read both.
 *   lz4    (3) the LZ4 frame format (magic 0x184D2204), not raw blocks       npm lz4-napi
 *   zstd   (4) zstd frames (magic 0xFD2FB528)                               npm @mongodb-js/zstd
 *
 * Invariants: decompression never returns more than `maxBytes` (default 64 MiB), and the limit is
 * checked BEFORE the native decoder allocates: from the size preamble (snappy), the block headers
 * (lz4, zstd: a walk over the frame that costs a few comparisons per 64–128 KiB block) or zlib's
 * own output limit (gzip). The lz4 bound assumes the worst-case 255:1 ratio for compressed blocks,
 * so data that really compresses that well is refused up to ~0.5% below the limit. Any failure, including garbage input, is CORRUPT_MESSAGE; codecs 5–7
 * are UNSUPPORTED_COMPRESSION_TYPE. This module is Node-only (native codecs); record-batch.ts loads
 * it lazily so that the batch format itself stays portable.
 */
import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip } from 'node:zlib';
import * as zstd from '@mongodb-js/zstd';
import { compressFrame, compressFrameSync, decompressFrame, decompressFrameSync } from 'lz4-napi';
import {
  compress as snappyCompress,
  compressSync as snappyCompressSync,
  uncompress as snappyUncompress,
  uncompressSync as snappyUncompressSync,
} from 'snappy';
import { SluiceError } from '../../errors.ts';
import { Compression, type CompressionName, compressionCode } from './record-batch.ts';

/** Default ceiling on the decompressed size of one batch's records. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/** Kafka's default zstd level (compression.zstd.level). */
const ZSTD_LEVEL = 3;

/**
 * Below this input size, snappy, lz4 and gunzip run on the calling thread: for a 16 KiB batch they
 * take 3–35 µs, less than a round trip through libuv's thread pool (which file I/O also uses).
 * gzip compression (~100 µs+) and zstd (no synchronous binding) always go to the pool.
 */
const SYNC_BELOW = 64 * 1024;

/**
 * snappy's default output is an external buffer, which costs ~40 µs per call in napi bookkeeping
 * (measured on Node 20 with 16 KiB batches: uncompress 46 µs → 9 µs, compress 57 µs → 3 µs);
 * copying the output into a V8-allocated buffer is far cheaper.
 */
const SNAPPY_OPTIONS = { copyOutputData: true } as const;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Compress a records section with `codec`. `none` returns `data` itself. */
export async function compress(codec: CompressionName | number, data: Uint8Array): Promise<Uint8Array> {
  switch (toCode(codec)) {
    case Compression.none:
      return data;
    case Compression.gzip:
      return await gzipAsync(data);
    case Compression.snappy:
      return data.length < SYNC_BELOW
        ? snappyCompressSync(data, SNAPPY_OPTIONS)
        : await snappyCompress(data, SNAPPY_OPTIONS);
    case Compression.lz4:
      return data.length < SYNC_BELOW ? compressFrameSync(asBuffer(data)) : await compressFrame(data);
    default:
      return await zstd.compress(asBuffer(data), ZSTD_LEVEL);
  }
}

/**
 * Decompress a records section. Throws CORRUPT_MESSAGE for anything that does not decode or that
 * would exceed `maxBytes`, UNSUPPORTED_COMPRESSION_TYPE for codecs 5–7.
 */
export async function decompress(
  codec: CompressionName | number,
  data: Uint8Array,
  maxBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES,
): Promise<Uint8Array> {
  const code = toCode(codec);
  if (code === Compression.none) {
    if (data.length > maxBytes) throw tooLarge(maxBytes);
    return data;
  }
  try {
    let out: Uint8Array;
    switch (code) {
      case Compression.gzip: {
        const options = { maxOutputLength: Math.max(1, maxBytes) };
        out = data.length < SYNC_BELOW ? gunzipSync(data, options) : await gunzipAsync(data, options);
        break;
      }
      case Compression.snappy:
        out = await snappyDecompress(data, maxBytes);
        break;
      case Compression.lz4:
        if (lz4FrameBound(data) > maxBytes) throw tooLarge(maxBytes);
        out = data.length < SYNC_BELOW ? decompressFrameSync(asBuffer(data)) : await decompressFrame(data);
        break;
      default:
        if (zstdFrameBound(data) > maxBytes) throw tooLarge(maxBytes);
        out = await zstd.decompress(asBuffer(data));
    }
    if (out.length > maxBytes) throw tooLarge(maxBytes);
    return out;
  } catch (err) {
    if (err instanceof SluiceError) throw err;
    // Native codecs throw plain Errors (and zlib a RangeError past maxOutputLength): all mean the
    // blob is not what its header claims.
    const detail = err instanceof Error ? err.message : String(err);
    throw new SluiceError(
      'CORRUPT_MESSAGE',
      `Cannot decompress ${Object.keys(Compression)[code]} records: ${detail}`,
      {
        cause: err,
      },
    );
  }
}

function toCode(codec: CompressionName | number): number {
  const code = typeof codec === 'string' ? compressionCode(codec) : codec;
  if (!(code >= 0 && code <= 4 && Number.isInteger(code))) {
    throw new SluiceError('UNSUPPORTED_COMPRESSION_TYPE', `Unsupported compression codec ${String(codec)}`);
  }
  return code;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function corrupt(message: string): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', message);
}

function tooLarge(maxBytes: number): SluiceError {
  return corrupt(`Decompressed records would exceed ${maxBytes} bytes`);
}

function readUint32LE(buf: Uint8Array, pos: number): number {
  return (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0;
}

function readInt32BE(buf: Uint8Array, pos: number): number {
  return (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
}

// --- snappy -------------------------------------------------------------------------------------

const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
const XERIAL_HEADER_SIZE = 16; // magic (8) + version (4) + compatible version (4)

function isXerial(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** The uncompressed length a raw snappy block declares (its leading unsigned varint, ≤ 32 bits). */
function snappyDeclaredLength(data: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (start + i >= end) throw corrupt('Truncated snappy block');
    const b = data[start + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return value;
  }
  throw corrupt('Malformed snappy length preamble');
}

async function snappyDecompress(data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  if (!isXerial(data)) {
    if (snappyDeclaredLength(data, 0, data.length) > maxBytes) throw tooLarge(maxBytes);
    return snappyRaw(data);
  }
  // Xerial framing: validate every block length and the declared total before decoding any.
  const blocks: Uint8Array[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (data.length - pos < 4) throw corrupt('Truncated xerial snappy block length');
    const length = readInt32BE(data, pos);
    pos += 4;
    if (length < 0 || length > data.length - pos) throw corrupt(`Bad xerial snappy block length ${length}`);
    total += snappyDeclaredLength(data, pos, pos + length);
    if (total > maxBytes) throw tooLarge(maxBytes);
    blocks.push(data.subarray(pos, pos + length));
    pos += length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const block of blocks) {
    const part = await snappyRaw(block);
    if (at + part.length > total) throw corrupt('Snappy block longer than declared');
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function snappyRaw(block: Uint8Array): Promise<Uint8Array> {
  const out =
    block.length < SYNC_BELOW
      ? snappyUncompressSync(block, SNAPPY_OPTIONS)
      : await snappyUncompress(block, SNAPPY_OPTIONS);
  return out as Uint8Array; // a Buffer: `asBuffer` defaults to true
}

// --- lz4 frame ----------------------------------------------------------------------------------

const LZ4_MAGIC = 0x184d2204;
/** Skippable frames (lz4 and zstd share the range 0x184D2A50–0x184D2A5F). */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** LZ4 cannot expand a block more than ~255×: a match-length byte encodes at most 255 output bytes. */
const LZ4_MAX_RATIO = 255;

/**
 * An upper bound on what the LZ4 frames in `data` decode to, from their block headers alone.
 * Throws CORRUPT_MESSAGE when the framing itself is broken (the decoder would reject it anyway).
 */
export function lz4FrameBound(data: Uint8Array): number {
  let pos = 0;
  let bound = 0;
  if (data.length === 0) throw corrupt('Empty lz4 data');
  while (pos < data.length) {
    if (data.length - pos < 7) throw corrupt('Truncated lz4 frame header');
    const magic = readUint32LE(data, pos);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      pos = skipSkippable(data, pos);
      continue;
    }
    if (magic !== LZ4_MAGIC) throw corrupt('Not an lz4 frame');
    const flg = data[pos + 4]!;
    const bd = data[pos + 5]!;
    if (flg >>> 6 !== 1 || (flg & 0x02) !== 0 || (bd & 0x8f) !== 0) throw corrupt('Bad lz4 frame descriptor');
    const blockMaxId = (bd >>> 4) & 0x07;
    if (blockMaxId < 4) throw corrupt('Bad lz4 block size');
    const blockMax = 1 << (2 * blockMaxId + 8); // 4 → 64 KiB … 7 → 4 MiB
    const blockChecksum = (flg & 0x10) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    pos += 6 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0) + 1; // + content size, dict id, HC
    for (;;) {
      if (data.length - pos < 4) throw corrupt('Truncated lz4 block');
      const word = readUint32LE(data, pos);
      pos += 4;
      if (word === 0) break; // end mark
      const size = word & 0x7fffffff;
      if (size > blockMax || size > data.length - pos) throw corrupt('Bad lz4 block length');
      bound += word >>> 31 ? size : Math.min(blockMax, size * LZ4_MAX_RATIO + 64);
      pos += size + (blockChecksum ? 4 : 0);
    }
    pos += contentChecksum ? 4 : 0;
    if (pos > data.length) throw corrupt('Truncated lz4 frame');
  }
  return bound;
}

function skipSkippable(data: Uint8Array, pos: number): number {
  if (data.length - pos < 8) throw corrupt('Truncated skippable frame');
  const size = readUint32LE(data, pos + 4);
  if (size > data.length - pos - 8) throw corrupt('Truncated skippable frame');
  return pos + 8 + size;
}

// --- zstd frame ---------------------------------------------------------------------------------

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_BLOCK_MAX = 128 * 1024;

/**
 * An upper bound on what the zstd frames in `data` decode to, from their block headers alone:
 * raw and RLE blocks state their size, a compressed block yields at most 128 KiB. Needed because
 * a few bytes of RLE blocks can claim gigabytes, and the binding offers no output limit.
 */
export function zstdFrameBound(data: Uint8Array): number {
  let pos = 0;
  let bound = 0;
  if (data.length === 0) throw corrupt('Empty zstd data');
  while (pos < data.length) {
    if (data.length - pos < 4) throw corrupt('Truncated zstd frame');
    const magic = readUint32LE(data, pos);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      pos = skipSkippable(data, pos);
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw corrupt('Not a zstd frame');
    if (data.length - pos < 5) throw corrupt('Truncated zstd frame header');
    const fhd = data[pos + 4]!;
    if ((fhd & 0x08) !== 0) throw corrupt('Bad zstd frame header');
    const singleSegment = (fhd & 0x20) !== 0;
    const fcsFlag = fhd >>> 6;
    const dictIdSize = [0, 1, 2, 4][fhd & 0x03]!;
    const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
    pos += 5 + (singleSegment ? 0 : 1) + dictIdSize + fcsSize;
    for (;;) {
      if (data.length - pos < 3) throw corrupt('Truncated zstd block');
      const header = data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16);
      pos += 3;
      const type = (header >>> 1) & 0x03;
      const size = header >>> 3;
      if (type === 3) throw corrupt('Reserved zstd block type');
      if (type === 1) {
        bound += size; // RLE: one byte repeated `size` times
        pos += 1;
      } else {
        bound += type === 0 ? size : ZSTD_BLOCK_MAX;
        pos += size;
      }
      if (pos > data.length) throw corrupt('Truncated zstd block');
      if (header & 1) break; // last block
    }
    pos += (fhd & 0x04) !== 0 ? 4 : 0; // content checksum
    if (pos > data.length) throw corrupt('Truncated zstd frame');
  }
  return bound;
}
