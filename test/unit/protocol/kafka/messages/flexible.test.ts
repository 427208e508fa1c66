/**
 * Byte-level checks of the flexible ("compact") encodings, tagged fields and header versions
 * (KAFKA-PROTOCOL.md §1), written out by hand rather than derived from the codecs under test.
 */

import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../../../src/errors.ts';
import {
  API_KEYS,
  API_TABLE,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../../../../src/protocol/kafka/api-keys.ts';
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
} from '../../../../../src/protocol/kafka/messages/api-versions.ts';
import {
  FetchRequest,
  type FetchRequestData,
  FetchResponse,
} from '../../../../../src/protocol/kafka/messages/fetch.ts';
import { JoinGroupResponse } from '../../../../../src/protocol/kafka/messages/join-group.ts';
import { MetadataRequest } from '../../../../../src/protocol/kafka/messages/metadata.ts';
import { ProduceRequest } from '../../../../../src/protocol/kafka/messages/produce.ts';
import { Reader } from '../../../../../src/protocol/kafka/reader.ts';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  peekRequestHeader,
} from '../../../../../src/protocol/kafka/request-codec.ts';
import { Writer } from '../../../../../src/protocol/kafka/writer.ts';

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

function concat(chunks: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

function enc<T>(codec: { encode(v: number, value: T, w: Writer): void }, version: number, value: T): string {
  const w = new Writer();
  codec.encode(version, value, w);
  return hex(w.toBuffer());
}

function expectInvalid(fn: () => unknown, code = 'INVALID_REQUEST'): SluiceError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe(code);
    return err as SluiceError;
  }
  throw new Error('expected a SluiceError');
}

/** A minimal Fetch v12 request: no topics, every field at its default except max_wait and min_bytes. */
const FETCH_V12: FetchRequestData = { maxWaitMs: 500, minBytes: 1, topics: [] };
const FETCH_V12_HEX =
  'ffffffff' + // replica_id -1
  '000001f4' + // max_wait_ms 500
  '00000001' + // min_bytes 1
  '7fffffff' + // max_bytes default
  '00' + // isolation_level
  '00000000' + // session_id
  'ffffffff' + // session_epoch -1
  '01' + // topics: compact length 0+1
  '01' + // forgotten_topics_data: compact length 0+1
  '01'; // rack_id: compact "" (0+1)

describe('compact encodings', () => {
  it('compact strings carry length+1 as an unsigned varint', () => {
    expect(enc(ApiVersionsRequest, 3, { clientSoftwareName: 'abc', clientSoftwareVersion: '1.0' })).toBe(
      '04616263' + '04312e30' + '00',
    );
    // Non-flexible v2 has no body at all.
    expect(enc(ApiVersionsRequest, 2, {})).toBe('');
  });

  it('compact null is 0, compact arrays carry count+1, every struct ends with a tag section', () => {
    expect(enc(ProduceRequest, 9, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [] })).toBe(
      '00' + 'ffff' + '000003e8' + '01' + '00',
    );
    expect(enc(ProduceRequest, 8, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [] })).toBe(
      'ffff' + 'ffff' + '000003e8' + '00000000',
    );
    const records = new Uint8Array([1, 2, 3]);
    expect(
      enc(ProduceRequest, 9, {
        transactionalId: 'tx',
        acks: 1,
        timeoutMs: 0,
        topicData: [{ name: 't', partitionData: [{ index: 2, records }] }],
      }),
    ).toBe(
      '037478' +
        '0001' +
        '00000000' +
        '02' +
        ('0274' + '02' + ('00000002' + '04010203' + '00') + '00') +
        '00',
    );
  });

  it('lengths above 127 use multi-byte varints', () => {
    const name = 'x'.repeat(200);
    const h = enc(ApiVersionsRequest, 3, { clientSoftwareName: name, clientSoftwareVersion: '' });
    expect(h.slice(0, 4)).toBe('c901'); // 201 = 0xc9 0x01
    expect(new Reader(bytes(h)).remaining).toBe(2 + 200 + 1 + 1);
  });

  it('JoinGroup v6 rejects a null protocol_name (nullable only from v7) on decode and encode', () => {
    // throttle, error, generation, protocol_name compact null (0), …
    const body = bytes('00000000 0000 00000001 00 02 61 02 62 01 00');
    expectInvalid(() => JoinGroupResponse.decode(6, new Reader(body)));
    const ok = JoinGroupResponse.decode(
      7,
      new Reader(bytes('00000000 0000 00000001 00 00 02 61 02 62 01 00')),
    );
    expect(ok.protocolName).toBeNull();
    expectInvalid(() =>
      enc(JoinGroupResponse, 6, {
        errorCode: 0,
        generationId: 1,
        protocolName: null,
        leader: 'a',
        memberId: 'b',
        members: [],
      }),
    );
  });

  it('Metadata v0 rejects a null topics array; v1 accepts it', () => {
    expectInvalid(() => MetadataRequest.decode(0, new Reader(bytes('ffffffff'))));
    expect(MetadataRequest.decode(1, new Reader(bytes('ffffffff'))).topics).toBeNull();
    expect(enc(MetadataRequest, 1, { topics: null })).toBe('ffffffff');
    // topics, allow_auto_topic_creation, include_cluster_authorized_operations (v8-10), include_topic_…, tags
    expect(enc(MetadataRequest, 9, { topics: null })).toBe('00' + '01' + '00' + '00' + '00');
    expect(enc(MetadataRequest, 11, { topics: null })).toBe('00' + '01' + '00' + '00');
  });
});

describe('tagged fields', () => {
  it('are written only when they differ from the default', () => {
    expect(enc(FetchRequest, 12, FETCH_V12)).toBe(`${FETCH_V12_HEX}00`);
    expect(enc(FetchRequest, 12, { ...FETCH_V12, clusterId: null })).toBe(`${FETCH_V12_HEX}00`);
    // cluster_id is tag 0: count 1, tag 0, size 2, compact string "c".
    expect(enc(FetchRequest, 12, { ...FETCH_V12, clusterId: 'c' })).toBe(
      `${FETCH_V12_HEX}01000202 63`.replace(' ', ''),
    );
    // replica_state (tag 1, v15+) at its default is not written; replica_id is gone from v15.
    const v15 = enc(FetchRequest, 15, { ...FETCH_V12, replicaState: { replicaId: -1, replicaEpoch: -1 } });
    expect(v15.endsWith('010101' + '00')).toBe(true);
    expect(enc(FetchRequest, 15, { ...FETCH_V12, replicaState: { replicaId: 3, replicaEpoch: -1 } })).toBe(
      `${FETCH_V12_HEX.slice(8)}0101 0d 00000003 ffffffffffffffff 00`.replace(/ /g, ''),
    );
  });

  it('a tagged struct ends with its own tag section', () => {
    const body = {
      sessionId: 0,
      responses: [
        {
          topic: 't',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 5,
              currentLeader: { leaderId: 1, leaderEpoch: 2 },
              records: null,
            },
          ],
        },
      ],
    };
    const h = enc(FetchResponse, 12, body);
    // partition tags: count 1, tag 1, size 9: leader_id, leader_epoch, empty tag section; then records null (00).
    expect(h).toContain('00' + '01' + '01' + '09' + '00000001' + '00000002' + '00');
    const decoded = FetchResponse.decode(12, new Reader(bytes(h)));
    expect(decoded.responses[0]!.partitions[0]!.currentLeader).toEqual({ leaderId: 1, leaderEpoch: 2 });
    expect(decoded.responses[0]!.partitions[0]!.divergingEpoch).toEqual({ epoch: -1, endOffset: -1 });
  });

  it('ApiVersions v3 response: features are tagged; defaults are left out', () => {
    const base = { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }], throttleTimeMs: 0 };
    expect(enc(ApiVersionsResponse, 3, base)).toBe(
      '0000' + '02' + '0012 0000 0004 00'.replace(/ /g, '') + '00000000' + '00',
    );
    const withFeatures = enc(ApiVersionsResponse, 3, {
      ...base,
      supportedFeatures: [{ name: 'f', minVersion: 1, maxVersion: 2 }],
      zkMigrationReady: true,
    });
    expect(
      withFeatures.endsWith(
        '02' + '00' + '08' + ('02' + '0266' + '0001' + '0002' + '00') + '03' + '01' + '01',
      ),
    ).toBe(true);
  });

  it('unknown tags are skipped, or kept and written back in tag order', () => {
    const withUnknown = bytes(`${FETCH_V12_HEX}02 05 01 aa 07 02 bbcc`);
    const plain = FetchRequest.decode(12, new Reader(withUnknown));
    expect(plain).toEqual(FetchRequest.decode(12, new Reader(bytes(`${FETCH_V12_HEX}00`))));
    expect(plain._unknownTaggedFields).toBeUndefined();

    const kept = FetchRequest.decode(12, new Reader(withUnknown, { keepUnknownTaggedFields: true }));
    expect(kept._unknownTaggedFields).toEqual([
      { tag: 5, data: bytes('aa') },
      { tag: 7, data: bytes('bbcc') },
    ]);
    expect(enc(FetchRequest, 12, kept)).toBe(hex(withUnknown));
    // Merged with a known tag (cluster_id = tag 0) in ascending order.
    expect(enc(FetchRequest, 12, { ...kept, clusterId: 'c' })).toBe(
      `${FETCH_V12_HEX}03 00020263 0501aa 0702bbcc`.replace(/ /g, ''),
    );
  });

  it('a tag the version does not define is unknown; a known tag must fill its declared size', () => {
    // Tag 1 (replica_state) exists from v15 only: in v12 it is skipped like any unknown tag.
    const v12 = FetchRequest.decode(12, new Reader(bytes(`${FETCH_V12_HEX}01 01 02 abcd`)));
    expect(v12.replicaState).toEqual({ replicaId: -1, replicaEpoch: -1 });
    // cluster_id declared as 3 bytes but its compact string takes 2.
    expectInvalid(() => FetchRequest.decode(12, new Reader(bytes(`${FETCH_V12_HEX}01 00 03 0263 00`))));
    // cluster_id declared as 1 byte but its compact string needs 2.
    expectInvalid(() => FetchRequest.decode(12, new Reader(bytes(`${FETCH_V12_HEX}01 00 01 0263`))));
    // A tag size beyond the end.
    expectInvalid(() => FetchRequest.decode(12, new Reader(bytes(`${FETCH_V12_HEX}01 09 7f 00`))));
  });
});

describe('headers', () => {
  it('request header v2 keeps client_id as an int16 string, then a tag section', () => {
    const chunks = encodeRequest(
      API_KEYS.ApiVersions,
      3,
      { correlationId: 7, clientId: 'kc' },
      { clientSoftwareName: 'a', clientSoftwareVersion: 'b' },
    );
    expect(hex(concat(chunks))).toBe(
      '0012' + '0003' + '00000007' + '0002' + '6b63' + '00' + '0261' + '0262' + '00',
    );
    const req = decodeRequest(concat(chunks));
    expect(req.apiKey).toBe(18);
    expect(req.header.clientId).toBe('kc');
    expect(req.body).toEqual({ clientSoftwareName: 'a', clientSoftwareVersion: 'b' });

    // A long client id still has a 2-byte length, and null is -1.
    const long = concat(
      encodeRequest(API_KEYS.Metadata, 12, { correlationId: 1, clientId: 'x'.repeat(200) }, { topics: null }),
    );
    expect(hex(long.subarray(8, 10))).toBe('00c8');
    const nul = concat(
      encodeRequest(API_KEYS.Metadata, 12, { correlationId: 1, clientId: null }, { topics: null }),
    );
    expect(hex(nul.subarray(8, 11))).toBe('ffff00');
    expect(decodeRequest(nul).header.clientId).toBeNull();
  });

  it('request header v1 for non-flexible versions has no tag section', () => {
    const frame = concat(encodeRequest(API_KEYS.ApiVersions, 2, { correlationId: 9, clientId: 'k' }, {}));
    expect(hex(frame)).toBe('0012' + '0002' + '00000009' + '0001' + '6b');
    expect(peekRequestHeader(frame)).toEqual({ apiKey: 18, apiVersion: 2, correlationId: 9 });
  });

  it('ApiVersions responses use header v0 even for flexible versions; others use v1', () => {
    const body = { errorCode: 0, apiKeys: [], throttleTimeMs: 0 };
    const av = concat(encodeResponse(API_KEYS.ApiVersions, 3, 7, body));
    expect(hex(av)).toBe('00000007' + '0000' + '01' + '00000000' + '00');
    expect(decodeResponse(API_KEYS.ApiVersions, 3, av).body).toMatchObject(body);

    const md = concat(encodeResponse(API_KEYS.Metadata, 9, 7, { brokers: [], topics: [] }));
    expect(hex(md.subarray(0, 5))).toBe('0000000700'); // correlation id + empty header tag section
    const md8 = concat(encodeResponse(API_KEYS.Metadata, 8, 7, { brokers: [], topics: [] }));
    expect(hex(md8.subarray(0, 8))).toBe('0000000700000000'); // no tag section; throttle_time_ms follows
  });

  it('header versions follow each API’s flexible versions', () => {
    expect(requestHeaderVersion(API_KEYS.Fetch, 11)).toBe(1);
    expect(requestHeaderVersion(API_KEYS.Fetch, 12)).toBe(2);
    expect(responseHeaderVersion(API_KEYS.Fetch, 11)).toBe(0);
    expect(responseHeaderVersion(API_KEYS.Fetch, 12)).toBe(1);
    expect(requestHeaderVersion(API_KEYS.ApiVersions, 3)).toBe(2);
    expect(responseHeaderVersion(API_KEYS.ApiVersions, 3)).toBe(0);
    expect(responseHeaderVersion(API_KEYS.ApiVersions, 4)).toBe(0);
    expect(requestHeaderVersion(API_KEYS.DescribeCluster, 0)).toBe(2);
    expect(requestHeaderVersion(API_KEYS.SaslHandshake, 1)).toBe(1);
    expect(requestHeaderVersion(API_KEYS.OffsetDelete, 0)).toBe(1);
    for (const spec of Object.values(API_TABLE)) {
      const [min, max] = spec.validVersions;
      for (let v = min; v <= max; v++) {
        const flexible = spec.flexibleVersions !== null && v >= spec.flexibleVersions;
        expect(requestHeaderVersion(spec.apiKey, v)).toBe(flexible ? 2 : 1);
        expect(responseHeaderVersion(spec.apiKey, v)).toBe(flexible && spec.apiKey !== 18 ? 1 : 0);
      }
    }
    expectInvalid(() => requestHeaderVersion(4, 0)); // LeaderAndIsr: not implemented
  });

  it('the API table matches the versions KAFKA-PROTOCOL.md lists', () => {
    expect(API_TABLE[0].validVersions).toEqual([0, 11]);
    expect(API_TABLE[1].validVersions).toEqual([0, 17]);
    expect(API_TABLE[3].validVersions).toEqual([0, 12]);
    expect(API_TABLE[2].validVersions).toEqual([0, 10]);
    expect(API_TABLE[18].flexibleVersions).toBe(3);
    expect(API_TABLE[17].flexibleVersions).toBeNull();
    expect(API_TABLE[60].flexibleVersions).toBe(0);
  });

  it('unknown API keys and unsupported versions are typed errors', () => {
    const frame = concat(encodeRequest(API_KEYS.ApiVersions, 2, { correlationId: 1 }, {}));
    const unknownKey = frame.slice();
    unknownKey[1] = 99;
    expectInvalid(() => decodeRequest(unknownKey));
    const badVersion = frame.slice();
    badVersion[3] = 77;
    const err = expectInvalid(() => decodeRequest(badVersion), 'UNSUPPORTED_VERSION');
    expect(err.message).toContain('ApiVersions');
    // What the ApiVersions fallback answer needs is still readable.
    expect(peekRequestHeader(badVersion)).toEqual({ apiKey: 18, apiVersion: 77, correlationId: 1 });
  });

  it('errors name the API and version', () => {
    const frame = concat(
      encodeRequest(API_KEYS.Fetch, 11, { correlationId: 1 }, { maxWaitMs: 1, minBytes: 1, topics: [] }),
    );
    const err = expectInvalid(() => decodeRequest(frame.subarray(0, frame.byteLength - 3)));
    expect(err.message).toMatch(/Fetch v11 request/);
  });
});
