/**
 * Golden bytes: request frames captured from kcat (librdkafka 2.0.2) and kafkajs 2.2.4 talking to
 * Sluice (scripts/capture-kafka-requests.ts for produce, fetch and admin traffic;
 * scripts/capture-group-requests.ts for consumer groups). Each must decode, re-encode to the very same
 * bytes, be of a version the broker advertises, and — mutated at random — fail only with a typed error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../../src/errors.ts';
import type { ApiKey } from '../../../../src/protocol/kafka/api-keys.ts';
import { decodeRequest, encodeRequest } from '../../../../src/protocol/kafka/request-codec.ts';
import { kafkaApi } from '../../../../src/router/kafka/api-table.ts';

interface Capture {
  client: string;
  frames: { api: string; apiKey: number; apiVersion: number; shape: string; hex: string }[];
}

const DIR = path.resolve(import.meta.dirname, '../../../fixtures/kafka-capture');
/** Each capture file and the APIs its client must have sent. */
const GROUP_APIS = [
  'FindCoordinator',
  'JoinGroup',
  'SyncGroup',
  'Heartbeat',
  'LeaveGroup',
  'OffsetCommit',
  'OffsetFetch',
];
const FILES: [file: string, apis: string[]][] = [
  ['kcat.json', ['ApiVersions', 'Metadata', 'Produce', 'InitProducerId', 'ListOffsets']],
  ['kafkajs.json', ['ApiVersions', 'Metadata', 'Produce', 'InitProducerId', 'ListOffsets']],
  ['kcat-groups.json', GROUP_APIS],
  ['kafkajs-groups.json', [...GROUP_APIS, 'DescribeGroups', 'ListGroups', 'DeleteGroups']],
];
const captures = FILES.map(([file, apis]) => ({
  ...(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as Capture),
  file,
  apis,
}));

/** A small deterministic PRNG, so that a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.each(captures)('requests captured from $client ($file)', ({ frames, apis: needed }) => {
  it('cover the APIs each client needs', () => {
    const apis = new Set(frames.map((f) => f.api));
    for (const api of needed) expect(apis).toContain(api);
  });

  it.each(frames.map((f, i) => [`${f.api} v${f.apiVersion} ${f.shape} #${i}`, f] as const))(
    '%s: decode → encode gives the same bytes, at an advertised version',
    (_, f) => {
      const frame = Buffer.from(f.hex, 'hex');
      const request = decodeRequest(frame, { keepUnknownTaggedFields: true });
      expect([request.apiKey, request.apiVersion]).toEqual([f.apiKey, f.apiVersion]);
      const [min, max] = kafkaApi(f.apiKey)!.versions;
      expect(f.apiVersion).toBeGreaterThanOrEqual(min);
      expect(f.apiVersion).toBeLessThanOrEqual(max);
      const again = encodeRequest(
        request.apiKey as ApiKey,
        request.apiVersion,
        { correlationId: request.header.correlationId, clientId: request.header.clientId },
        request.body as never,
      );
      expect(Buffer.concat(again).toString('hex')).toBe(f.hex);
    },
  );

  it('mutated at random, fail only with SluiceError (or still decode)', () => {
    const next = random(0x5eed);
    let failures = 0;
    for (const f of frames) {
      const original = Buffer.from(f.hex, 'hex');
      for (let round = 0; round < 200; round++) {
        const mutated = Buffer.from(original);
        const flips = 1 + Math.floor(next() * 4);
        for (let i = 0; i < flips; i++)
          mutated[Math.floor(next() * mutated.length)] = Math.floor(next() * 256);
        const cut = next() < 0.2 ? mutated.subarray(0, Math.floor(next() * mutated.length)) : mutated;
        try {
          decodeRequest(cut);
        } catch (err) {
          expect(err).toBeInstanceOf(SluiceError);
          failures++;
        }
      }
    }
    expect(failures).toBeGreaterThan(0);
  });
});
