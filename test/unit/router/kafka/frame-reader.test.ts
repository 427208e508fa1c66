import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../../../src/router/kafka/frame-reader.ts';

function framed(...payloads: number[][]): Buffer {
  return Buffer.concat(
    payloads.map((p) => {
      const size = Buffer.alloc(4);
      size.writeInt32BE(p.length);
      return Buffer.concat([size, Buffer.from(p)]);
    }),
  );
}

function drain(reader: FrameReader): number[][] {
  const out: number[][] = [];
  for (let f = reader.next(); f !== undefined; f = reader.next()) out.push([...f]);
  return out;
}

describe('FrameReader', () => {
  it('cuts several frames out of one chunk, as views of that chunk', () => {
    const chunk = framed([1, 2, 3], [], [4]);
    const reader = new FrameReader(100);
    reader.push(chunk);
    const first = reader.next()!;
    expect([...first]).toEqual([1, 2, 3]);
    expect(first.buffer).toBe(chunk.buffer);
    expect(drain(reader)).toEqual([[], [4]]);
    expect(reader.bufferedBytes).toBe(0);
  });

  it('assembles frames and size prefixes split across chunks, byte by byte', () => {
    const bytes = framed([1, 2, 3, 4, 5], [6, 7]);
    const reader = new FrameReader(100);
    const frames: number[][] = [];
    for (const b of bytes) {
      reader.push(Buffer.from([b]));
      frames.push(...drain(reader));
    }
    expect(frames).toEqual([
      [1, 2, 3, 4, 5],
      [6, 7],
    ]);
  });

  it('refuses an oversized frame from its prefix alone, before the body arrives', () => {
    const reader = new FrameReader(1024);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(1025);
    reader.push(prefix);
    expect(() => reader.next()).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }));
    const ok = new FrameReader(1024);
    prefix.writeInt32BE(1024);
    ok.push(prefix);
    expect(ok.next()).toBeUndefined();
  });

  it('refuses a negative size', () => {
    const reader = new FrameReader(1024);
    reader.push(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
    expect(() => reader.next()).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });

  it('waits for the rest of a truncated frame', () => {
    const reader = new FrameReader(100);
    reader.push(framed([1, 2, 3, 4]).subarray(0, 6));
    expect(reader.next()).toBeUndefined();
    expect(reader.bufferedBytes).toBe(2);
  });
});
