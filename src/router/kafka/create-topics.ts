/**
 * CreateTopics (API key 19), v0–7 → the create-topics handler. -1 partitions / replication factor mean
 * the broker defaults on every version (kafkajs sends -1/-1 with v3). A manual replica assignment is
 * accepted when every partition lives on this node alone; it then sets the partition count. From v5
 * the answer carries the topic's configs, from v7 its id.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { CreatableTopic, CreatableTopicResult } from '../../protocol/kafka/messages/create-topics.ts';
import { ZERO_UUID } from '../../protocol/kafka/reader.ts';
import type { CreateTopicsRequest, CreateTopicsResponse, WireError } from '../../protocol/wire/ops.ts';
import type { BrokerContext } from '../broker-context.ts';
import { createTopics } from '../handlers/create-topics.ts';
import { wireError } from '../wire-error.ts';
import { kafkaConfigSource } from './describe-configs.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaError } from './kafka-error.ts';

/** The first version whose response lists the created topic's configs. */
const CONFIGS_VERSION = 5;

type TopicSpec = CreateTopicsRequest['topics'][number];

function toSpec(ctx: BrokerContext, t: CreatableTopic): TopicSpec | WireError {
  const configs: Record<string, string> = {};
  for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
  if (t.assignments.length === 0) {
    return { name: t.name, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor, configs };
  }
  if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
    return wireError(
      'INVALID_REQUEST',
      'give either a replica assignment or partitions and replication factor',
    );
  }
  const sorted = [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
  for (const [i, a] of sorted.entries()) {
    if (a.partitionIndex !== i)
      return wireError('INVALID_PARTITIONS', 'assigned partitions must be numbered 0, 1, 2, …');
    if (a.brokerIds.length !== 1 || a.brokerIds[0] !== ctx.nodeId)
      return wireError('INVALID_REPLICATION_FACTOR', `every partition must live on node ${ctx.nodeId} alone`);
  }
  return { name: t.name, numPartitions: t.assignments.length, replicationFactor: 1, configs };
}

function topicConfigs(ctx: BrokerContext, name: string): CreatableTopicResult['configs'] {
  try {
    return ctx.topics.describeConfigs(name).map((c) => ({
      name: c.name,
      value: c.value,
      readOnly: c.readOnly,
      configSource: kafkaConfigSource(c.source),
      isSensitive: c.sensitive,
    }));
  } catch {
    return null; // deleted meanwhile
  }
}

export const createTopicsApi: KafkaApi<typeof API_KEYS.CreateTopics> = {
  apiKey: API_KEYS.CreateTopics,
  versions: [0, 7],
  async handle({ apiVersion, body }, { ctx }) {
    const specs = body.topics.map((t) => toSpec(ctx, t));
    const valid = specs.filter((s): s is TopicSpec => !('code' in s));
    const answers = (await createTopics(ctx, { validateOnly: body.validateOnly ?? false, topics: valid }))
      .topics;
    let next = 0;
    return {
      throttleTimeMs: 0,
      topics: specs.map((spec, i): CreatableTopicResult => {
        const name = body.topics[i]!.name;
        const answer: CreateTopicsResponse['topics'][number] =
          'code' in spec ? { name, error: spec } : answers[next++]!;
        const ok = answer.error === undefined;
        return {
          name,
          topicId: answer.topicId || ZERO_UUID,
          ...kafkaError(answer.error),
          numPartitions: ok ? (answer.numPartitions ?? -1) : -1,
          replicationFactor: ok ? 1 : -1,
          configs: ok && apiVersion >= CONFIGS_VERSION && !body.validateOnly ? topicConfigs(ctx, name) : null,
        };
      }),
    };
  },
};
