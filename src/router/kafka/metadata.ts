/**
 * Metadata (API key 3), v0–12 → the metadata handler.
 *
 * Topics are asked for by name, or from v10 by topic id (then the name may be null); an unknown id
 * answers UNKNOWN_TOPIC_ID. A null list (v1+) or an empty one in v0 means every topic. The broker list
 * is this node at its advertised host and Kafka port; the controller is this node (kafkajs sends topic
 * admin requests to the controller); topic ids are the registry's persistent UUIDs.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { MetadataResponseTopic } from '../../protocol/kafka/messages/metadata.ts';
import { ZERO_UUID } from '../../protocol/kafka/reader.ts';
import type { TopicMetadata } from '../../protocol/wire/ops.ts';
import { metadata } from '../handlers/metadata.ts';
import { wireError } from '../wire-error.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaError } from './kafka-error.ts';

/** Kafka's "authorized operations were not asked for". */
const OPERATIONS_NOT_REQUESTED = -2147483648;

function toKafkaTopic(t: TopicMetadata): MetadataResponseTopic {
  return {
    errorCode: kafkaError(t.error).errorCode,
    name: t.name,
    topicId: t.topicId || ZERO_UUID,
    isInternal: t.isInternal,
    partitions: t.partitions.map((p) => ({
      errorCode: 0,
      partitionIndex: p.partition,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: p.replicas,
      isrNodes: p.isr,
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
  };
}

export const metadataApi: KafkaApi<typeof API_KEYS.Metadata> = {
  apiKey: API_KEYS.Metadata,
  versions: [0, 12],
  async handle({ apiVersion, body }, { ctx }) {
    const all = body.topics === null || (apiVersion === 0 && body.topics.length === 0);
    // Names in request order, once each (Kafka answers a set); ids resolved through the registry.
    const names = new Set<string>();
    const unknownIds: TopicMetadata[] = [];
    for (const t of all ? [] : (body.topics ?? [])) {
      if (t.name !== null) {
        names.add(t.name);
        continue;
      }
      const record = ctx.topics.getById(t.topicId ?? ZERO_UUID);
      if (record) names.add(record.name);
      else
        unknownIds.push({
          name: '',
          topicId: t.topicId ?? ZERO_UUID,
          isInternal: false,
          partitions: [],
          error: wireError('UNKNOWN_TOPIC_ID', `no topic has id ${t.topicId}`),
        });
    }
    const answer = await metadata(ctx, {
      topics: all ? null : [...names],
      allowAutoTopicCreation: body.allowAutoTopicCreation ?? true,
    });
    return {
      throttleTimeMs: 0,
      brokers: answer.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.kafkaPort, rack: null })),
      clusterId: answer.clusterId,
      controllerId: answer.controllerId,
      topics: [
        ...answer.topics.map(toKafkaTopic),
        ...unknownIds.map((t) => ({ ...toKafkaTopic(t), name: apiVersion >= 12 ? null : '' })),
      ],
      clusterAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
    };
  },
};
