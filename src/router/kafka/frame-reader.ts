/**
 * FrameReader: cuts a TCP byte stream into Kafka request frames.
 *
 *   frame = int32 size (big-endian, excludes itself) · `size` bytes (request header + body)
 *
 * The size is checked against `maxFrameBytes` (Kafka's socket.request.max.bytes) as soon as its four
 * bytes are in, before anything is allocated or buffered for the frame: an oversized or negative size
 * throws and the caller closes the connection. A frame that lies inside one received chunk is returned
 * as a view of that chunk (no copy; Node never reuses a chunk it handed out); only a frame split across
 * chunks is copied once into a buffer of its own.
 *
 * Pure code, no I/O: the connection pushes what the socket delivered and pulls whole frames, one at a
 * time, so that it can stop pulling while it applies backpressure.
 */
import { SluiceError } from '../../errors.ts';

/** Bytes of the size prefix. */
export const FRAME_PREFIX_BYTES = 4;

export class FrameReader {
  private readonly chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Size of the frame being assembled, or -1 while its prefix is still incomplete. */
  private size = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received but not yet returned as frames (prefixes included). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
  }

  /**
   * The next whole frame (without its size prefix), or undefined until more bytes arrive. Throws
   * SluiceError FRAME_TOO_LARGE or INVALID_REQUEST for a size the connection must not accept.
   */
  next(): Uint8Array | undefined {
    if (this.size < 0) {
      if (this.buffered < FRAME_PREFIX_BYTES) return undefined;
      const p = this.take(FRAME_PREFIX_BYTES);
      const size = (p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!;
      if (size < 0) throw new SluiceError('INVALID_REQUEST', `Negative Kafka frame size ${size}`);
      if (size > this.maxFrameBytes) {
        throw new SluiceError(
          'FRAME_TOO_LARGE',
          `Kafka request of ${size} bytes is larger than socket.request.max.bytes ${this.maxFrameBytes}`,
        );
      }
      this.size = size;
    }
    if (this.buffered < this.size) return undefined;
    const frame = this.take(this.size);
    this.size = -1;
    return frame;
  }

  /** Remove the first n buffered bytes (n <= buffered): a view when one chunk holds them, else a copy. */
  private take(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0 || first === undefined) return new Uint8Array(0);
    if (first.byteLength >= n) {
      if (first.byteLength === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const want = n - filled;
      if (chunk.byteLength <= want) {
        out.set(chunk, filled);
        filled += chunk.byteLength;
        this.chunks.shift();
      } else {
        out.set(chunk.subarray(0, want), filled);
        this.chunks[0] = chunk.subarray(want);
        filled = n;
      }
    }
    return out;
  }
}
