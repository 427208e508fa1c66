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
