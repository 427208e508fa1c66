import { createRequire } from 'node:module';
import * as zstd from '@mongodb-js/zstd';
import { compressFrame } from 'lz4-napi';
import { compress as snappyCompress } from 'snappy';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../../src/errors.ts';
import {
  compress,
  decompress,
  lz4FrameBound,
  zstdFrameBound,
} from '../../../../src/protocol/kafka/compression.ts';
import type { CompressionName } from '../../../../src/protocol/kafka/record-batch.ts';
import { expectSluiceError, seeded } from './batch-helpers.ts';

const require = createRequire(import.meta.url);
const CODECS: CompressionName[] = ['gzip', 'snappy', 'lz4', 'zstd'];
const text = new TextEncoder().encode('sluice record batch '.repeat(500));

const expectError = (promise: Promise<unknown>, code: string): Promise<SluiceError> =>
  expectSluiceError(() => promise, code);

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

describe('compress / decompress', () => {
  it.each(CODECS)('%s round-trips text, random bytes and empty input', async (codec) => {
    const rand = seeded(7);
    const random = Uint8Array.from({ length: 70_000 }, () => Math.floor(rand() * 256));
    for (const data of [text, random, new Uint8Array(0)]) {
      const packed = await compress(codec, data);
      if (data === text) expect(packed.length).toBeLessThan(data.length / 4);
      expect(Buffer.from(await decompress(codec, packed)).equals(Buffer.from(data))).toBe(true);
    }
  });

  it('accepts codec ids as well as names, and passes `none` through', async () => {
    expect(await compress(0, text)).toBe(text);
    expect(await decompress('none', text)).toBe(text);
    const packed = await compress(4, text);
    expect(Buffer.from(await decompress('zstd', packed)).equals(Buffer.from(text))).toBe(true);
  });

  it.each([5, 6, 7])('codec %d is UNSUPPORTED_COMPRESSION_TYPE', async (codec) => {
    await expectError(decompress(codec, text), 'UNSUPPORTED_COMPRESSION_TYPE');
    await expectError(compress(codec, text), 'UNSUPPORTED_COMPRESSION_TYPE');
  });

  it('an unknown codec name is UNSUPPORTED_COMPRESSION_TYPE', async () => {
    await expectError(compress('brotli' as CompressionName, text), 'UNSUPPORTED_COMPRESSION_TYPE');
  });
});

describe('snappy framings', () => {
  function xerial(blocks: Uint8Array[]): Uint8Array {
    const header = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1];
    const parts: Buffer[] = [Buffer.from(header)];
    for (const block of blocks) {
      const length = Buffer.alloc(4);
      length.writeInt32BE(block.length);
      parts.push(length, Buffer.from(block));
    }
    return Buffer.concat(parts);
  }

  it('reads the xerial/snappy-java framing (several blocks) as well as raw snappy', async () => {
    const a = text.subarray(0, 3000);
    const b = text.subarray(3000);
    const framed = xerial([(await snappyCompress(a)) as Uint8Array, (await snappyCompress(b)) as Uint8Array]);
    expect(Buffer.from(await decompress('snappy', framed)).equals(Buffer.from(text))).toBe(true);
    expect((await decompress('snappy', xerial([]))).length).toBe(0);
  });

  it('rejects broken xerial block lengths and blocks', async () => {
    const block = (await snappyCompress(text)) as Uint8Array;
    const framed = xerial([block]);
    await expectError(decompress('snappy', framed.subarray(0, framed.length - 1)), 'CORRUPT_MESSAGE');
    await expectError(decompress('snappy', framed.subarray(0, 18)), 'CORRUPT_MESSAGE');
    const negative = Uint8Array.from(framed);
    negative.set([0xff, 0xff, 0xff, 0xff], 16);
    await expectError(decompress('snappy', negative), 'CORRUPT_MESSAGE');
    const garbage = Uint8Array.from(framed);
    garbage.fill(0xee, 21);
    await expectError(decompress('snappy', garbage), 'CORRUPT_MESSAGE');
  });

  it('decodes what kafkajs-snappy (snappyjs) writes', async () => {
    const codec = (require('kafkajs-snappy') as () => { compress(e: { buffer: Buffer }): Promise<Buffer> })();
    const packed = await codec.compress({ buffer: Buffer.from(text) });
    expect(Buffer.from(await decompress('snappy', packed)).equals(Buffer.from(text))).toBe(true);
  });
});

describe('lz4 frames', () => {
  it('decodes frames with block and content checksums (lz4-napi options)', async () => {
    const packed = await compressFrame(Buffer.from(text), { blockChecksums: true, contentChecksum: true });
    expect(Buffer.from(await decompress('lz4', packed)).equals(Buffer.from(text))).toBe(true);
  });

  it('decodes what kafkajs-lz4 (node-lz4: 4 MiB blocks, content checksum) writes', async () => {
    const LZ4Codec = require('kafkajs-lz4') as new () => {
      codec: () => { compress(e: { buffer: Buffer }): Promise<Buffer> };
    };
    const packed = await new LZ4Codec().codec().compress({ buffer: Buffer.from(text) });
    expect(Buffer.from(await decompress('lz4', packed)).equals(Buffer.from(text))).toBe(true);
  });

  it('decodes a frame with a content size field (lz4 CLI --content-size -BX)', async () => {
    const frame = hex(
      '04224d187c404b000000000000006d44000000f328736c75696365206c7a34206672616d65207769746820636f6e74656e742073697a6520616e6420626c6f636b20636865636b73756d73203700040700506c756963650e9d509000000000e16449a3',
    );
    expect(new TextDecoder().decode(await decompress('lz4', frame))).toBe(
      'sluice lz4 frame with content size and block checksums sluice sluice sluice',
    );
  });

  it('bounds the output from block headers, skipping skippable frames', async () => {
    const packed = await compressFrame(Buffer.from(text));
    const bound = lz4FrameBound(packed);
    expect(bound).toBeGreaterThanOrEqual(text.length);
    const skippable = Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    expect(lz4FrameBound(Buffer.concat([skippable, packed]))).toBe(bound);
    expect(() => lz4FrameBound(packed.subarray(0, packed.length - 2))).toThrow(SluiceError);
    expect(() => lz4FrameBound(new Uint8Array(0))).toThrow(SluiceError);
  });
});

describe('zstd frames', () => {
  it('decodes a single-segment frame with content size and checksum (zstd CLI)', async () => {
    const frame = hex(
      '28b52ffd244b0d02007403736c75696365206c7a34206672616d65207769746820636f6e74656e742073697a6520616e6420626c6f636b20636865636b73756d732002002a079cce14142109043f',
    );
    expect(new TextDecoder().decode(await decompress('zstd', frame))).toBe(
      'sluice lz4 frame with content size and block checksums sluice sluice sluice',
    );
  });

  /** A hand-made frame: magic, FHD (no content size, no checksum), window descriptor, then blocks. */
  function frame(blocks: number[][]): Buffer {
    return Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50, ...blocks.flat()]);
  }
  const rawBlock = (payload: number[], last: boolean): number[] => {
    const h = (payload.length << 3) | (last ? 1 : 0);
    return [h & 0xff, (h >> 8) & 0xff, h >> 16, ...payload];
  };
  const rleBlock = (byte: number, size: number, last: boolean): number[] => {
    const h = (size << 3) | (1 << 1) | (last ? 1 : 0);
    return [h & 0xff, (h >> 8) & 0xff, h >> 16, byte];
  };

  it('bounds raw, RLE and concatenated frames exactly, and decodes them', async () => {
    const a = frame([rawBlock([1, 2, 3], false), rleBlock(9, 5, true)]);
    const b = frame([rleBlock(7, 4, true)]);
    const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 0xaa, 0xbb]);
    const all = Buffer.concat([a, skippable, b]);
    expect(zstdFrameBound(all)).toBe(12);
    expect([...(await decompress('zstd', all))]).toEqual([1, 2, 3, 9, 9, 9, 9, 9, 7, 7, 7, 7]);
  });

  it('refuses an RLE bomb before decoding it', async () => {
    // 1,000 RLE blocks of 128 KiB each: 28 bytes per MiB claimed, 125 MiB in all.
    const blocks = Array.from({ length: 1000 }, (_, i) => rleBlock(0, 128 * 1024, i === 999));
    const bomb = frame(blocks);
    expect(zstdFrameBound(bomb)).toBe(1000 * 128 * 1024);
    await expectError(decompress('zstd', bomb), 'CORRUPT_MESSAGE');
  });

  it('rejects truncated frames, reserved block types and reserved header bits', () => {
    const ok = frame([rawBlock([1, 2, 3], true)]);
    expect(() => zstdFrameBound(ok.subarray(0, ok.length - 1))).toThrow(SluiceError);
    expect(() => zstdFrameBound(frame([[0x07, 0, 0]]))).toThrow(SluiceError);
    const reserved = Buffer.from(ok);
    reserved[4] = 0x08;
    expect(() => zstdFrameBound(reserved)).toThrow(SluiceError);
  });

  it('decodes what @mongodb-js/zstd writes at other levels', async () => {
    for (const level of [1, 9, 19]) {
      const packed = await zstd.compress(Buffer.from(text), level);
      expect(Buffer.from(await decompress('zstd', packed)).equals(Buffer.from(text))).toBe(true);
    }
  });
});

describe('decompression limits and garbage', () => {
  const zeros = new Uint8Array(2 * 1024 * 1024);

  // lz4's bound is its worst-case ratio (255:1) per block, so all-zero data (which compresses at
  // nearly that ratio) may be refused up to ~0.5% below the limit: the decoding case leaves headroom.
  it.each(CODECS)('%s: output above maxBytes is CORRUPT_MESSAGE, below it decodes', async (codec) => {
    const packed = await compress(codec, zeros);
    expect(packed.length).toBeLessThan(zeros.length / 20);
    const error = await expectError(decompress(codec, packed, 1024 * 1024), 'CORRUPT_MESSAGE');
    expect(error.message).toMatch(/exceed|larger|buffer/i);
    expect((await decompress(codec, packed, zeros.length + 64 * 1024)).length).toBe(zeros.length);
  });

  it.each(CODECS)('%s: random bytes and empty input are CORRUPT_MESSAGE', async (codec) => {
    const rand = seeded(42);
    await expectError(decompress(codec, new Uint8Array(0)), 'CORRUPT_MESSAGE');
    for (let i = 0; i < 300; i++) {
      const data = Uint8Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256));
      await expectError(decompress(codec, data), 'CORRUPT_MESSAGE');
    }
  });

  it.each(CODECS)(
    '%s: a valid blob with flipped or cut bytes never throws anything but SluiceError',
    async (codec) => {
      const rand = seeded(99);
      const packed = await compress(codec, text);
      for (let i = 0; i < 300; i++) {
        const mutated = Uint8Array.from(packed).subarray(
          0,
          rand() < 0.3 ? Math.floor(rand() * packed.length) : undefined,
        );
        for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) {
          mutated[Math.floor(rand() * mutated.length)] = Math.floor(rand() * 256);
        }
        try {
          const out = await decompress(codec, mutated);
          expect(out.length).toBeLessThanOrEqual(64 * 1024 * 1024);
        } catch (err) {
          expect(err).toBeInstanceOf(SluiceError);
          expect((err as SluiceError).code).toBe('CORRUPT_MESSAGE');
        }
      }
    },
  );
});
