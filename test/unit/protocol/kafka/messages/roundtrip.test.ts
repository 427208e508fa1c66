/**
 * Every message (request, response, headers, consumer-protocol data), every valid version: values built
 * from the schema with every carried field non-default survive encode → decode, and re-encoding gives
 * the same bytes. Also: ignorable vs non-ignorable fields outside their versions, nulls outside
 * nullableVersions, unsupported versions, zero-copy chunks.
 */

import { describe, expect, it } from 'vitest';
import { contains, type MessageModel } from '../../../../../scripts/generate-kafka-messages.ts';
import { SluiceError } from '../../../../../src/errors.ts';
import { API_TABLE, type ApiSpec } from '../../../../../src/protocol/kafka/api-keys.ts';
import { ConsumerProtocolAssignment } from '../../../../../src/protocol/kafka/messages/consumer-protocol-assignment.ts';
import { ConsumerProtocolSubscription } from '../../../../../src/protocol/kafka/messages/consumer-protocol-subscription.ts';
import { FetchResponse } from '../../../../../src/protocol/kafka/messages/fetch.ts';
import { ProduceRequest } from '../../../../../src/protocol/kafka/messages/produce.ts';
import { RequestHeader } from '../../../../../src/protocol/kafka/messages/request-header.ts';
import { ResponseHeader } from '../../../../../src/protocol/kafka/messages/response-header.ts';
import { Reader } from '../../../../../src/protocol/kafka/reader.ts';
import type { MessageCodec } from '../../../../../src/protocol/kafka/request-codec.ts';
import { Writer } from '../../../../../src/protocol/kafka/writer.ts';
import {
  defaultOf,
  MODELS,
  model,
  nonDefaultAbsent,
  sampleMessage,
  sampleStruct,
  VARIANTS,
  type Value,
  versionsOf,
} from './sample-values.ts';

type AnyCodec = MessageCodec<Value>;

const CODECS = new Map<string, AnyCodec>();
for (const spec of Object.values(API_TABLE) as ApiSpec[]) {
  CODECS.set(spec.request.name, spec.request as unknown as AnyCodec);
  CODECS.set(spec.response.name, spec.response as unknown as AnyCodec);
}
for (const c of [RequestHeader, ResponseHeader, ConsumerProtocolSubscription, ConsumerProtocolAssignment]) {
  CODECS.set(c.name, c as unknown as AnyCodec);
}

function codecOf(m: MessageModel): AnyCodec {
  const c = CODECS.get(m.name);
  if (c === undefined) throw new Error(`no codec for ${m.name}`);
  return c;
}

function encode(codec: AnyCodec, version: number, value: Value): Uint8Array {
  const w = new Writer();
  codec.encode(version, value, w);
  return w.toBuffer();
}

function decode(codec: AnyCodec, version: number, bytes: Uint8Array): Value {
  const r = new Reader(bytes);
  const v = codec.decode(version, r);
  expect(r.remaining).toBe(0);
  return v;
}

function expectSluiceError(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, 'expected a SluiceError').toBeInstanceOf(SluiceError);
  expect((thrown as SluiceError).code).toBe(code);
}

describe('schema coverage', () => {
  it('has a codec for every modelled schema and the 27 APIs in the table', () => {
    expect(MODELS.size).toBe(27 * 2 + 4);
    for (const m of MODELS.values()) expect(CODECS.has(m.name), m.name).toBe(true);
    expect(Object.keys(API_TABLE)).toHaveLength(27);
    for (const m of MODELS.values()) {
      const c = codecOf(m);
      expect(c.validVersions).toEqual([m.validVersions.min, m.validVersions.max]);
      expect(c.flexibleVersions).toBe(m.flexibleVersions === null ? null : m.flexibleVersions.min);
      expect(c.apiKey).toBe(m.apiKey);
    }
  });
});

for (const m of MODELS.values()) {
  const codec = codecOf(m);
  describe(m.name, () => {
    for (const version of versionsOf(m)) {
      it(`v${version}: encode → decode → equal, re-encode → same bytes`, () => {
        for (const variant of VARIANTS) {
          const value = sampleMessage(m, version, variant);
          const bytes = encode(codec, version, value);
          const decoded = decode(codec, version, bytes);
          expect(decoded, variant).toEqual(value);
          expect(encode(codec, version, decoded), variant).toEqual(bytes);
          // The chunked output is the same bytes as the concatenated one.
          const w = new Writer({ initialSize: 16 });
          codec.encode(version, value, w);
          const chunks = w.finish();
          expect(concat(chunks)).toEqual(bytes);
          expect(w.length).toBe(bytes.byteLength);
        }
      });

      it(`v${version}: an all-defaults value round-trips`, () => {
        const value = sampleStruct(m.root, -1, 'values'); // no field is carried at version -1: all defaults
        const bytes = encode(codec, version, value);
        expect(decode(codec, version, bytes)).toEqual(value);
      });
    }

    it('fields outside their versions: ignorable ones are dropped, others throw UNSUPPORTED_VERSION', () => {
      let checked = 0;
      for (const version of versionsOf(m)) {
        const structs: { fields: MessageModel['root']['fields']; target: (v: Value) => Value | undefined }[] =
          [{ fields: m.root.fields, target: (v) => v }];
        // First-level nested structs: mutate the first element of each array of structs.
        for (const f of m.root.fields) {
          if (!contains(f.versions, version)) continue;
          const t = f.type.kind === 'array' ? f.type.element : f.type;
          if (t.kind !== 'struct') continue;
          structs.push({
            fields: t.struct.fields,
            target: (v) => {
              const x = v[f.prop];
              return Array.isArray(x) ? (x[0] as Value | undefined) : ((x as Value | null) ?? undefined);
            },
          });
        }
        for (const s of structs) {
          for (const f of s.fields) {
            if (contains(f.versions, version)) continue;
            const value = sampleMessage(m, version, 'values');
            const target = s.target(value);
            if (target === undefined) continue;
            target[f.prop] = nonDefaultAbsent(f);
            checked++;
            if (f.ignorable) {
              const bytes = encode(codec, version, value);
              target[f.prop] = defaultOf(f);
              expect(decode(codec, version, bytes), `${f.name} v${version}`).toEqual(value);
            } else {
              expectSluiceError(() => encode(codec, version, value), 'UNSUPPORTED_VERSION');
            }
          }
        }
      }
      const someAbsent = m.root.fields.some((f) => versionsOf(m).some((v) => !contains(f.versions, v)));
      if (someAbsent) expect(checked).toBeGreaterThan(0);
    });

    it('null outside nullableVersions is rejected on encode', () => {
      for (const version of versionsOf(m)) {
        for (const f of m.root.fields) {
          if (!contains(f.versions, version) || contains(f.nullableVersions, version)) continue;
          if (f.nullableVersions === null) continue; // the type does not admit null at all
          const value = sampleMessage(m, version, 'values');
          value[f.prop] = null;
          expectSluiceError(() => encode(codec, version, value), 'INVALID_REQUEST');
        }
      }
    });

    it('versions outside validVersions throw UNSUPPORTED_VERSION', () => {
      const value = sampleMessage(m, m.validVersions.max, 'values');
      expectSluiceError(() => encode(codec, m.validVersions.max + 1, value), 'UNSUPPORTED_VERSION');
      expectSluiceError(() => codec.decode(-1, new Reader(new Uint8Array(64))), 'UNSUPPORTED_VERSION');
    });
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.byteLength;
  }
  return out;
}

describe('zero copy', () => {
  it('Fetch response records of 4 KiB and more go out as their own chunks, uncopied', () => {
    const records = new Uint8Array(64 * 1024).fill(7);
    const small = new Uint8Array(100).fill(9);
    const body = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: 't',
          partitions: [
            { partitionIndex: 0, errorCode: 0, highWatermark: 10, records },
            { partitionIndex: 1, errorCode: 0, highWatermark: 10, records: small },
          ],
        },
      ],
    };
    for (const version of [4, 11, 12, 16]) {
      const w = new Writer();
      FetchResponse.encode(version, body, w);
      const chunks = w.finish();
      expect(chunks.some((c) => c === records)).toBe(true);
      expect(chunks.some((c) => c === small)).toBe(false);
      const decoded = FetchResponse.decode(version, new Reader(concat(chunks)));
      const got = decoded.responses[0]!.partitions[0]!.records!;
      expect(got.byteLength).toBe(records.byteLength);
      expect(got).toEqual(records);
    }
  });

  it('Produce request records decode as views into the frame (no copy)', () => {
    const records = new Uint8Array(10_000).fill(3);
    for (const version of [3, 7, 9, 11]) {
      const w = new Writer();
      ProduceRequest.encode(
        version,
        { acks: -1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records }] }] },
        w,
      );
      const frame = w.toBuffer();
      const decoded = ProduceRequest.decode(version, new Reader(frame));
      const view = decoded.topicData[0]!.partitionData[0]!.records!;
      expect(view.buffer).toBe(frame.buffer);
      expect(view).toEqual(records);
    }
  });

  it('non-zeroCopy bytes fields (group metadata) are copied out of the frame', () => {
    const m = model('JoinGroupRequest');
    const codec = codecOf(m);
    const value = sampleMessage(m, 5, 'values');
    const frame = encode(codec, 5, value);
    const decoded = decode(codec, 5, frame) as { protocols: { metadata: Uint8Array }[] };
    expect(decoded.protocols[0]!.metadata.buffer).not.toBe(frame.buffer);
    // Also when the frame is a Node Buffer (whose slice() would be a view, not a copy).
    const buffer = Buffer.from(frame);
    const fromBuffer = codec.decode(5, new Reader(buffer)) as { protocols: { metadata: Uint8Array }[] };
    const metadata = fromBuffer.protocols[0]!.metadata;
    expect(metadata.buffer).not.toBe(buffer.buffer);
    const before = metadata[0]!;
    buffer.fill(before ^ 0xff);
    expect(metadata[0]).toBe(before);
  });
});

describe('consumer protocol data', () => {
  it('encodeVersioned / decodeVersioned carry an int16 version prefix', () => {
    for (const codec of [ConsumerProtocolSubscription, ConsumerProtocolAssignment]) {
      const m = model(codec.name);
      for (const version of versionsOf(m)) {
        const value = sampleMessage(m, version, 'values');
        const bytes = codec.encodeVersioned(version, value as never);
        expect(bytes[0]).toBe(0);
        expect(bytes[1]).toBe(version);
        expect(codec.decodeVersioned(bytes)).toEqual({ version, value });
      }
    }
  });

  it('reads a newer version as the newest known one, ignoring what follows', () => {
    const value = { topics: ['a', 'b'], userData: null, ownedPartitions: [], generationId: 5, rackId: 'r1' };
    const v3 = ConsumerProtocolSubscription.encodeVersioned(3, value);
    const newer = new Uint8Array(v3.byteLength + 4);
    newer.set(v3);
    newer[1] = 9; // version 9, plus four bytes of fields we do not know
    const decoded = ConsumerProtocolSubscription.decodeVersioned(newer);
    expect(decoded.version).toBe(9);
    expect(decoded.value).toEqual(value);
  });

  it('rejects a negative version and truncated bytes', () => {
    expectSluiceError(
      () => ConsumerProtocolAssignment.decodeVersioned(new Uint8Array([0xff, 0xff, 0, 0, 0, 0])),
      'INVALID_REQUEST',
    );
    expectSluiceError(
      () => ConsumerProtocolAssignment.decodeVersioned(new Uint8Array([0, 1, 0, 0])),
      'INVALID_REQUEST',
    );
  });
});
