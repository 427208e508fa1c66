import { describe, expect, it } from 'vitest';
import { API_KEYS, API_TABLE, type ApiKey } from '../../../../src/protocol/kafka/api-keys.ts';
import { KAFKA_APIS, kafkaApi } from '../../../../src/router/kafka/api-table.ts';
import type { KafkaApi } from '../../../../src/router/kafka/kafka-api.ts';

const advertised = Object.values(KAFKA_APIS) as KafkaApi<ApiKey>[];

function range(name: keyof typeof API_KEYS): readonly [number, number] | undefined {
  return kafkaApi(API_KEYS[name])?.versions;
}

function covers(name: keyof typeof API_KEYS, version: number): boolean {
  const r = range(name);
  return r !== undefined && r[0] <= version && version <= r[1];
}

describe('the Kafka API table', () => {
  it('advertises only versions the generated codecs implement', () => {
    for (const api of advertised) {
      const [min, max] = API_TABLE[api.apiKey].validVersions;
      expect(api.versions[0]).toBeGreaterThanOrEqual(min);
      expect(api.versions[1]).toBeLessThanOrEqual(max);
      expect(api.versions[0]).toBeLessThanOrEqual(api.versions[1]);
    }
  });

  it('contains the old versions librdkafka 2.0.2 gates its features on (KAFKA-PROTOCOL.md §2)', () => {
    expect(covers('ApiVersions', 0) && covers('ApiVersions', 3)).toBe(true);
    expect(covers('Produce', 3) && covers('Fetch', 4)).toBe(true); // record batches v2
    expect(covers('Produce', 7) && covers('Fetch', 10)).toBe(true); // zstd
    expect(covers('FindCoordinator', 0)).toBe(true); // groups and lz4
    expect(covers('InitProducerId', 0)).toBe(true); // idempotence
    expect(covers('ListOffsets', 1)).toBe(true); // offsets for times
    // gzip, snappy and lz4: librdkafka ≤ 2.11.0 asks for a Produce version in [0, 0].
    expect(covers('Produce', 0)).toBe(true);
  });

  it('contains the versions kafkajs 2.2.4 and librdkafka 2.0.2 send', () => {
    for (const [name, versions] of [
      ['Metadata', [4, 6]],
      ['Produce', [7]],
      ['Fetch', [11]],
      ['ListOffsets', [2, 3]],
      ['FindCoordinator', [2]],
      ['CreateTopics', [3, 4]],
      ['DeleteTopics', [1]],
      ['InitProducerId', [1, 4]],
      ['DescribeConfigs', [1, 2]],
    ] as const) {
      for (const v of versions) expect(covers(name, v), `${name} v${v}`).toBe(true);
    }
  });

  it('serves the consumer-group APIs, with the versions the clients send', () => {
    // kafkajs 2.2.4, librdkafka 2.0.2 and platformatic (KAFKA-PROTOCOL.md §2).
    for (const [name, versions] of [
      ['JoinGroup', [0, 5, 6, 9]], // librdkafka's GSSAPI feature check needs 0
      ['SyncGroup', [3, 4, 5]],
      ['Heartbeat', [3, 4]],
      ['LeaveGroup', [1, 3, 4, 5]],
      ['OffsetCommit', [5, 7, 8, 9]],
      ['OffsetFetch', [1, 4, 7, 8]],
      ['DescribeGroups', [2, 4, 5]],
      ['ListGroups', [2, 4]],
      ['DeleteGroups', [1]],
    ] as const) {
      for (const v of versions) expect(covers(name, v), `${name} v${v}`).toBe(true);
    }
  });

  it('is keyed by API key', () => {
    for (const [key, api] of Object.entries(KAFKA_APIS)) expect(api?.apiKey).toBe(Number(key));
  });
});
