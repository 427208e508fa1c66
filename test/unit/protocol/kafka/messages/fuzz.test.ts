/**
 * Hostile bytes: truncated frames at every byte boundary, random bytes, mutated valid requests and
 * absurd lengths must end in a SluiceError (INVALID_REQUEST; UNSUPPORTED_VERSION only when the header's
 * version itself is out of range) — never a RangeError/TypeError, a hang or a huge allocation.
 */

import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../../../src/errors.ts';
import { API_KEYS, API_TABLE, type ApiSpec } from '../../../../../src/protocol/kafka/api-keys.ts';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from '../../../../../src/protocol/kafka/request-codec.ts';
import { model, sampleMessage, type Variant } from './sample-values.ts';

const concat = (chunks: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(chunks));
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/** Deterministic PRNG (mulberry32) so that a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Outcome = 'ok' | 'INVALID_REQUEST' | 'UNSUPPORTED_VERSION';

function attempt(fn: () => unknown): Outcome {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (!(err instanceof SluiceError)) throw err; // a RangeError/TypeError fails the test with its stack
    if (err.code !== 'INVALID_REQUEST' && err.code !== 'UNSUPPORTED_VERSION') throw err;
    return err.code;
  }
}

const SPECS = Object.values(API_TABLE) as ApiSpec[];

/** Versions worth fuzzing for an API: first, last, the last non-flexible and first flexible one. */
function versionsToFuzz(spec: ApiSpec): number[] {
  const [min, max] = spec.validVersions;
  const set = new Set([min, max]);
  if (spec.flexibleVersions !== null) {
    set.add(spec.flexibleVersions);
    if (spec.flexibleVersions > min) set.add(spec.flexibleVersions - 1);
  }
  return [...set];
}

function sampleRequest(spec: ApiSpec, version: number, variant: Variant = 'values'): Uint8Array {
  const body = sampleMessage(model(`${spec.name}Request`), version, variant);
  return concat(
    encodeRequest(spec.apiKey, version, { correlationId: 1234, clientId: 'fuzz' }, body as never),
  );
}

function sampleResponse(spec: ApiSpec, version: number): Uint8Array {
  const body = sampleMessage(model(`${spec.name}Response`), version, 'values');
  return concat(encodeResponse(spec.apiKey, version, 1234, body as never));
}

describe('truncated frames', () => {
  it('every proper prefix of every sample request is rejected with INVALID_REQUEST', () => {
    let frames = 0;
    for (const spec of SPECS) {
      for (const version of versionsToFuzz(spec)) {
        const frame = sampleRequest(spec, version);
        expect(attempt(() => decodeRequest(frame))).toBe('ok');
        for (let n = 0; n < frame.byteLength; n++) {
          expect(
            attempt(() => decodeRequest(frame.subarray(0, n))),
            `${spec.name} v${version} cut at ${n}`,
          ).toBe('INVALID_REQUEST');
          frames++;
        }
      }
    }
    expect(frames).toBeGreaterThan(10_000);
  });

  it('every proper prefix of every sample response is rejected with INVALID_REQUEST', () => {
    for (const spec of SPECS) {
      for (const version of versionsToFuzz(spec)) {
        const frame = sampleResponse(spec, version);
        expect(attempt(() => decodeResponse(spec.apiKey, version, frame))).toBe('ok');
        for (let n = 0; n < frame.byteLength; n++) {
          expect(attempt(() => decodeResponse(spec.apiKey, version, frame.subarray(0, n)))).toBe(
            'INVALID_REQUEST',
          );
        }
      }
    }
  });
});

describe('random and mutated bytes', () => {
  it('mutated valid requests decode or fail with a SluiceError', () => {
    const rand = prng(0x5eed);
    const outcomes = { ok: 0, INVALID_REQUEST: 0, UNSUPPORTED_VERSION: 0 };
    for (const spec of SPECS) {
      for (const version of versionsToFuzz(spec)) {
        const frame = sampleRequest(spec, version);
        for (let i = 0; i < 150; i++) {
          const m = frame.slice();
          const flips = 1 + Math.floor(rand() * 4);
          for (let j = 0; j < flips; j++) {
            const at = Math.floor(rand() * m.byteLength);
            const r = rand();
            // Interesting values for lengths and counts, or random bytes.
            m[at] =
              r < 0.25 ? 0xff : r < 0.4 ? 0x7f : r < 0.5 ? 0x80 : r < 0.6 ? 0 : Math.floor(rand() * 256);
          }
          const outcome = attempt(() => decodeRequest(m));
          // Only a change to the header's api_key/api_version (bytes 0-3) may yield UNSUPPORTED_VERSION.
          if (outcome === 'UNSUPPORTED_VERSION') expect(m.subarray(0, 4)).not.toEqual(frame.subarray(0, 4));
          outcomes[outcome]++;
        }
      }
    }
    expect(outcomes.INVALID_REQUEST).toBeGreaterThan(1000);
  });

  it('random bodies behind a valid header decode or fail with INVALID_REQUEST', () => {
    const rand = prng(42);
    for (const spec of SPECS) {
      for (const version of versionsToFuzz(spec)) {
        const header = sampleRequest(spec, version).subarray(
          0,
          4 + 4 + 2 + 4 + (version >= (spec.flexibleVersions ?? 99) ? 1 : 0),
        );
        for (let i = 0; i < 100; i++) {
          const body = new Uint8Array(Math.floor(rand() * 64));
          for (let j = 0; j < body.byteLength; j++) body[j] = Math.floor(rand() * 256);
          const frame = new Uint8Array(header.byteLength + body.byteLength);
          frame.set(header);
          frame.set(body, header.byteLength);
          expect(['ok', 'INVALID_REQUEST']).toContain(attempt(() => decodeRequest(frame)));
          expect(['ok', 'INVALID_REQUEST']).toContain(
            attempt(() => decodeResponse(spec.apiKey, version, body)),
          );
        }
      }
    }
  });

  it('completely random frames fail with a SluiceError', () => {
    const rand = prng(7);
    for (let i = 0; i < 5000; i++) {
      const frame = new Uint8Array(Math.floor(rand() * 40));
      for (let j = 0; j < frame.byteLength; j++) frame[j] = Math.floor(rand() * 256);
      attempt(() => decodeRequest(frame));
    }
  });
});

describe('absurd lengths are rejected before allocating', () => {
  // Request header v1 for an API key/version, correlation id 1, client id "c".
  const v1 = (key: number, version: number): string =>
    `${key.toString(16).padStart(4, '0')}${version.toString(16).padStart(4, '0')}00000001 0001 63`;
  const v2 = (key: number, version: number): string => `${v1(key, version)} 00`;

  const cases: [string, string][] = [
    ['Produce v7 topic_data count 0x7fffffff', `${v1(0, 7)} ffff ffff 00007530 7fffffff`],
    [
      'Produce v7 records length 0x7fffffff',
      `${v1(0, 7)} ffff ffff 00007530 00000001 0001 74 00000001 00000000 7fffffff 00`,
    ],
    ['Produce v9 compact count 2^32-2', `${v2(0, 9)} 00 ffff 00007530 ffffffff0f`],
    ['Produce v9 varint longer than 5 bytes', `${v2(0, 9)} 00 ffff 00007530 ffffffffff0f`],
    ['Metadata v1 topics count 0x7fffffff', `${v1(3, 1)} 7fffffff`],
    ['Metadata v1 topics count -2', `${v1(3, 1)} fffffffe`],
    ['Metadata v0 null topics', `${v1(3, 0)} ffffffff`],
    [
      'Fetch v11 int32 partitions count',
      `${v1(1, 11)} ffffffff 00000000 00000000 00000000 00 00000000 00000000 00000001 0001 74 40000000 00000000`,
    ],
    ['OffsetCommit v5 string length 0x7fff', `${v1(8, 5)} 7fff 61`],
    ['ApiVersions v3 string length > 32767', `${v2(18, 3)} 818002 61`],
    [
      'JoinGroup v5 metadata length 0x7fffffff',
      `${v1(11, 5)} 0001 67 00007530 0000ea60 0000 ffff 0008 636f6e73756d6572 00000001 0001 72 7fffffff`,
    ],
    [
      'Fetch v12 tag count 2^32-1',
      `${v2(1, 12)} ffffffff 00000000 00000000 00000000 00 00000000 00000000 01 01 01 ffffffff0f`,
    ],
    [
      'Fetch v12 tag size 0x7fffffff',
      `${v2(1, 12)} ffffffff 00000000 00000000 00000000 00 00000000 00000000 01 01 01 01 00 ffffffff07`,
    ],
    ['header client id length 0x7fff', `0012 0002 00000001 7fff`],
    ['header v2 tag count huge', `0012 0003 00000001 ffff ffffffff0f`],
  ];

  for (const [name, h] of cases) {
    it(name, () => {
      const before = process.memoryUsage().heapUsed;
      const start = performance.now();
      expect(attempt(() => decodeRequest(bytes(h)))).toBe('INVALID_REQUEST');
      expect(performance.now() - start).toBeLessThan(250); // microseconds in practice; slack for a loaded CI machine
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(16 * 1024 * 1024);
    });
  }

  it('a 1 MiB frame claiming one more element than it holds fails at its real end, in bounded time', () => {
    // Metadata v1: 2^19 + 1 topics claimed, 2^20 zero bytes = 2^19 empty topic names, then nothing.
    const header = bytes(`${v1(3, 1)} 00080001`);
    const frame = new Uint8Array(header.byteLength + (1 << 20));
    frame.set(header);
    const start = performance.now();
    expect(attempt(() => decodeRequest(frame))).toBe('INVALID_REQUEST');
    expect(performance.now() - start).toBeLessThan(2000);
  });

  it('an ApiVersions request with an unknown version is recognisable for the v0 fallback', () => {
    expect(attempt(() => decodeRequest(bytes(`${v1(18, 99)}`)))).toBe('UNSUPPORTED_VERSION');
    expect(attempt(() => decodeRequest(bytes(`${v1(API_KEYS.Produce, 12)}`)))).toBe('UNSUPPORTED_VERSION');
    expect(attempt(() => decodeRequest(bytes(`${v1(1000, 0)}`)))).toBe('INVALID_REQUEST');
  });
});
