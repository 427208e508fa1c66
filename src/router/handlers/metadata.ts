/**
 * Metadata: the broker list (this one node), and topics with their partitions (leader = this node,
 * epoch 0). Named topics that do not exist are auto-created when the request and the broker allow
 * it, else reported as UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for a bad name).
 */
import type { TopicRecord } from '../../broker/topic-registry.ts';
import type { MetadataRequest, MetadataResponse, TopicMetadata } from '../../protocol/wire/ops.ts';
import type { BrokerContext } from '../broker-context.ts';
import { toWireError, wireError } from '../wire-error.ts';

export type MetadataBody = Omit<MetadataRequest, 'op'>;

export function describeTopic(ctx: BrokerContext, topic: TopicRecord): TopicMetadata {
  const nodes = [ctx.nodeId];
  return {
    name: topic.name,
    topicId: topic.topicId,
    isInternal: topic.internal,
    partitions: Array.from({ length: topic.partitions }, (_, partition) => ({
      partition,
      leader: ctx.nodeId,
      leaderEpoch: 0,
      replicas: nodes,
      isr: nodes,
    })),
  };
}

export async function metadata(ctx: BrokerContext, req: MetadataBody): Promise<MetadataResponse> {
  const base = {
    clusterId: ctx.clusterId,
    controllerId: ctx.nodeId,
    brokers: [
      {
        nodeId: ctx.nodeId,
        host: ctx.advertised.host,
        port: ctx.advertised.port,
        kafkaPort: ctx.advertised.kafkaPort,
      },
    ],
  };
  if (req.topics === undefined || req.topics === null) {
    return { ...base, topics: ctx.topics.list().map((t) => describeTopic(ctx, t)) };
  }
  const topics = await Promise.all(
    req.topics.map(async (name): Promise<TopicMetadata> => {
      try {
        const record = await ctx.topics.ensure(name, req.allowAutoTopicCreation ?? true);
        if (record) return describeTopic(ctx, record);
        return {
          name,
          topicId: '00000000-0000-0000-0000-000000000000',
          isInternal: false,
          partitions: [],
          error: wireError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`),
        };
      } catch (err) {
        return {
          name,
          topicId: '00000000-0000-0000-0000-000000000000',
          isInternal: false,
          partitions: [],
          error: toWireError(err),
        };
      }
    }),
  );
  return { ...base, topics };
}
