/**
 * The Kafka APIs this broker serves, keyed by API key: what ApiVersions advertises, what the
 * connection accepts (any other key or version closes the connection, as in Kafka), and the adapter
 * that answers. The consumer-group APIs (JoinGroup … DeleteGroups) adapt the group coordinator, which
 * the WebSocket front door shares.
 *
 * Why these ranges (KAFKA-PROTOCOL.md §2): kafkajs 2.2.4 takes min(its max, our max) and ignores our
 * minimum; librdkafka 2.0.2 takes the highest common version and switches features on only when the
 * range contains particular old versions: Produce 3 + Fetch 4 (RecordBatch v2), Produce 7 + Fetch 10
 * (zstd), FindCoordinator 0 (groups, and lz4), InitProducerId 0 (idempotence), JoinGroup 0 (SASL
 * GSSAPI). Each adapter's file says which versions the clients send.
 */
import type { ApiKey } from '../../protocol/kafka/api-keys.ts';
import { apiVersionsApi } from './api-versions.ts';
import { createPartitionsApi } from './create-partitions.ts';
import { createTopicsApi } from './create-topics.ts';
import { deleteGroupsApi } from './delete-groups.ts';
import { deleteTopicsApi } from './delete-topics.ts';
import { describeConfigsApi } from './describe-configs.ts';
import { describeGroupsApi } from './describe-groups.ts';
import { fetchApi } from './fetch.ts';
import { findCoordinatorApi } from './find-coordinator.ts';
import { heartbeatApi } from './heartbeat.ts';
import { initProducerIdApi } from './init-producer-id.ts';
import { joinGroupApi } from './join-group.ts';
import type { KafkaApi } from './kafka-api.ts';
import { leaveGroupApi } from './leave-group.ts';
import { listGroupsApi } from './list-groups.ts';
import { listOffsetsApi } from './list-offsets.ts';
import { metadataApi } from './metadata.ts';
import { offsetCommitApi } from './offset-commit.ts';
import { offsetFetchApi } from './offset-fetch.ts';
import { produceApi } from './produce.ts';
import { syncGroupApi } from './sync-group.ts';

export type KafkaApiTable = { readonly [K in ApiKey]?: KafkaApi<K> };

// Integer keys enumerate in ascending order: ApiVersions lists the APIs sorted by key.
export const KAFKA_APIS: KafkaApiTable = {
  0: produceApi,
  1: fetchApi,
  2: listOffsetsApi,
  3: metadataApi,
  8: offsetCommitApi,
  9: offsetFetchApi,
  10: findCoordinatorApi,
  11: joinGroupApi,
  12: heartbeatApi,
  13: leaveGroupApi,
  14: syncGroupApi,
  15: describeGroupsApi,
  16: listGroupsApi,
  18: apiVersionsApi(() => Object.values(KAFKA_APIS) as KafkaApi<ApiKey>[]),
  19: createTopicsApi,
  20: deleteTopicsApi,
  22: initProducerIdApi,
  32: describeConfigsApi,
  37: createPartitionsApi,
  42: deleteGroupsApi,
};

const byKey: (KafkaApi<ApiKey> | undefined)[] = [];
for (const api of Object.values(KAFKA_APIS) as KafkaApi<ApiKey>[]) byKey[api.apiKey] = api;

/** The adapter for this API key, or undefined when the broker does not serve it. */
export function kafkaApi(apiKey: number): KafkaApi<ApiKey> | undefined {
  return byKey[apiKey];
}
