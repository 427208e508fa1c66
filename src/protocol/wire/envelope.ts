/**
 * Envelope codec of the WebSocket protocol: one CBOR map per message (docs/protocol.md).
 *
 * Plain CBOR, readable by any CBOR library: maps decode to plain objects, byte strings to
 * Uint8Array views of the input (no copy; record batches ride through untouched), no cbor-x record
 * extension, no typed-array tags. Pure code: runs in Node and in browsers.
 */
import { Encoder } from 'cbor-x';
import { SluiceError } from '../../errors.ts';

const codec = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  // Not in cbor-x's type declarations, but honoured: plain CBOR maps, no tag 259.
  ...({ useTag259ForMaps: false } as object),
  // Decoded byte strings are views of the frame, so a produced batch is handed on without a copy.
  copyBuffers: false,
});

/** Encode one message (request or response) as a CBOR map. */
export function encodeMessage(message: object): Uint8Array {
  return codec.encode(message);
}

/** What every message carries besides its op-specific fields. */
export interface Envelope {
  id: number;
  [field: string]: unknown;
}

/**
 * Decode one message. Throws SluiceError INVALID_FRAME unless the bytes are exactly one CBOR map
 * with an unsigned 32-bit integer `id`.
 */
export function decodeMessage(bytes: Uint8Array): Envelope {
  let value: unknown;
  try {
    value = codec.decode(bytes);
  } catch (err) {
    // cbor-x reports truncation, bad major types and nesting too deep (RangeError) alike.
    throw new SluiceError('INVALID_FRAME', `not a CBOR item: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new SluiceError('INVALID_FRAME', 'a message must be a CBOR map');
  }
  const id = (value as { id?: unknown }).id;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw new SluiceError('INVALID_FRAME', 'a message needs an unsigned 32-bit integer "id"');
  }
  return value as Envelope;
}

/** Byte strings at least this long are sent as they are rather than copied into the envelope. */
export const ZERO_COPY_MIN_BYTES = 4096;

const MARKER_BYTES = 16;

/** The CBOR head of a byte string of `length` bytes (major type 2). */
function byteStringHead(length: number): Uint8Array {
  if (length < 24) return Uint8Array.of(0x40 | length);
  if (length < 0x100) return Uint8Array.of(0x58, length);
  if (length < 0x10000) return Uint8Array.of(0x59, length >>> 8, length & 0xff);
  return Uint8Array.of(0x5a, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
}

function randomMarker(): Uint8Array {
  const m = new Uint8Array(MARKER_BYTES);
  for (let i = 0; i < MARKER_BYTES; i++) m[i] = (Math.random() * 256) | 0;
  return m;
}

/** Copy `value` with large byte strings replaced by markers, remembering which is which. */
function withMarkers(
  value: unknown,
  found: { marker: Uint8Array; bytes: Uint8Array }[],
  depth: number,
): unknown {
  if (value instanceof Uint8Array) {
    if (value.byteLength < ZERO_COPY_MIN_BYTES) return value;
    const marker = randomMarker();
    found.push({ marker, bytes: value });
    return marker;
  }
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => withMarkers(v, found, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = withMarkers(v, found, depth + 1);
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Encode one message as a list of chunks whose concatenation is exactly `encodeMessage(message)`,
 * but with every byte string of `ZERO_COPY_MIN_BYTES` or more left where it is (its chunk is the
 * caller's own view): a fetch response's record batches go from the worker's read buffer to the
 * socket without being copied into the envelope ("the bytes on disk are the bytes on the wire").
 * The envelope is encoded with a random 16-byte marker in place of each large byte string; the
 * marker's CBOR encoding is then swapped for the real head and bytes.
 */
export function encodeMessageChunks(message: object): Uint8Array[] {
  const found: { marker: Uint8Array; bytes: Uint8Array }[] = [];
  const stripped = withMarkers(message, found, 0) as object;
  const encoded = codec.encode(stripped);
  if (found.length === 0) return [encoded];
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const { marker, bytes } of found) {
    // A 16-byte byte string is encoded as 0x50 followed by its bytes.
    const pos = indexOf(encoded, marker, at) - 1;
    if (pos < at || encoded[pos] !== 0x40 + MARKER_BYTES) return [codec.encode(message)];
    chunks.push(encoded.subarray(at, pos), byteStringHead(bytes.byteLength), bytes);
    at = pos + 1 + MARKER_BYTES;
  }
  chunks.push(encoded.subarray(at));
  return chunks.filter((c) => c.byteLength > 0);
}
