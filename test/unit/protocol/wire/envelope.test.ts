import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  encodeMessageChunks,
  ZERO_COPY_MIN_BYTES,
} from '../../../../src/protocol/wire/envelope.ts';

function concat(chunks: Uint8Array[]): Buffer {
  return Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
}

describe('envelope', () => {
  it('decodes only unsigned-id CBOR maps, with typed errors', () => {
    expect(decodeMessage(encodeMessage({ id: 7, op: 'x' }))).toEqual({ id: 7, op: 'x' });
    for (const bad of [
      Buffer.from([0xff]),
      encodeMessage([1, 2]),
      encodeMessage({ id: -1 }),
      encodeMessage({ op: 'x' }),
    ]) {
      expect(() => decodeMessage(bad)).toThrowError(expect.objectContaining({ code: 'INVALID_FRAME' }));
    }
  });

  it('sends large byte strings without copying them, and the chunks equal the plain encoding', () => {
    const big = (n: number, fill: number) => new Uint8Array(n).fill(fill);
    const records = [big(ZERO_COPY_MIN_BYTES, 1), big(70_000, 2), big(5_000_000, 3)];
    const message = {
      id: 42,
      topics: [
        {
          topic: 't',
          partitions: records.map((r, partition) => ({ partition, records: r, highWatermark: 9 })),
        },
        {
          topic: 'small',
          partitions: [
            { partition: 0, records: big(100, 4) },
            { partition: 1, records: null },
          ],
        },
      ],
    };
    const chunks = encodeMessageChunks(message);
    expect(concat(chunks).equals(Buffer.from(encodeMessage(message)))).toBe(true);
    for (const r of records) expect(chunks).toContain(r); // the caller's own views, not copies
    const decoded = decodeMessage(concat(chunks)) as unknown as typeof message;
    expect(Buffer.from(decoded.topics[0]!.partitions[2]!.records!).equals(Buffer.from(records[2]!))).toBe(
      true,
    );
    expect(encodeMessageChunks({ id: 1, op: 'none' })).toHaveLength(1);
  });
});
