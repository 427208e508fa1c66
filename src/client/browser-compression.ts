/**
 * Record-batch compression for browser bundles: the stand-in for src/protocol/kafka/compression.ts,
 * whose codecs are native Node addons. A browser build aliases that module to this one
 * (browser-build.ts lists the aliases); record-batch.ts loads whichever it gets with a dynamic import.
 *
 * gzip works through the platform's CompressionStream / DecompressionStream (every current browser,
 * and Node ≥ 18). snappy, lz4 and zstd have no built-in browser implementation: producing with them
 * or reading batches written with them fails with UNSUPPORTED_COMPRESSION_TYPE, saying so.
 * Same contract as compression.ts: the output never exceeds `maxBytes`, and undecodable input is
 * CORRUPT_MESSAGE.
 */
import { SluiceError } from '../errors.ts';

/** Default ceiling on the decompressed size of one batch's records (as in compression.ts). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

const NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

function codecCode(codec: string | number): number {
  const code = typeof codec === 'number' ? codec : NAMES.indexOf(codec);
  if (!(Number.isInteger(code) && code >= 0 && code <= 4)) {
    throw new SluiceError('UNSUPPORTED_COMPRESSION_TYPE', `Unsupported compression codec ${String(codec)}`);
  }
  return code;
}

function unsupported(code: number): SluiceError {
  return new SluiceError(
    'UNSUPPORTED_COMPRESSION_TYPE',
    `${NAMES[code]} compression is not available in the browser build of the Sluice client (only gzip)`,
  );
}

interface TransformStreamLike {
  readonly writable: WritableStream<Uint8Array>;
  readonly readable: ReadableStream<Uint8Array>;
}

async function pipeThrough(
  stream: TransformStreamLike,
  data: Uint8Array,
  maxBytes: number,
): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // Errors surface on the reader; the writer's own promises would otherwise be unhandled rejections.
  writer.write(data).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new SluiceError('CORRUPT_MESSAGE', `Decompressed records would exceed ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function streams(): {
  Compression: new (f: 'gzip') => TransformStreamLike;
  Decompression: new (f: 'gzip') => TransformStreamLike;
} {
  const g = globalThis as {
    CompressionStream?: new (f: 'gzip') => TransformStreamLike;
    DecompressionStream?: new (f: 'gzip') => TransformStreamLike;
  };
  if (!g.CompressionStream || !g.DecompressionStream) {
    throw new SluiceError(
      'UNSUPPORTED_COMPRESSION_TYPE',
      'gzip needs CompressionStream, which this platform lacks',
    );
  }
  return { Compression: g.CompressionStream, Decompression: g.DecompressionStream };
}

/** Compress a records section with `codec` (only none and gzip here). */
export async function compress(codec: string | number, data: Uint8Array): Promise<Uint8Array> {
  const code = codecCode(codec);
  if (code === 0) return data;
  if (code !== 1) throw unsupported(code);
  return pipeThrough(new (streams().Compression)('gzip'), data, Number.MAX_SAFE_INTEGER);
}

/** Decompress a records section (only none and gzip here), never returning more than `maxBytes`. */
export async function decompress(
  codec: string | number,
  data: Uint8Array,
  maxBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES,
): Promise<Uint8Array> {
  const code = codecCode(codec);
  if (code === 0) {
    if (data.length > maxBytes) {
      throw new SluiceError('CORRUPT_MESSAGE', `Decompressed records would exceed ${maxBytes} bytes`);
    }
    return data;
  }
  if (code !== 1) throw unsupported(code);
  const { Decompression } = streams();
  try {
    return await pipeThrough(new Decompression('gzip'), data, maxBytes);
  } catch (err) {
    if (err instanceof SluiceError) throw err;
    throw new SluiceError('CORRUPT_MESSAGE', `Cannot decompress gzip records: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
