/**
 * DescribeConfigs (API key 32), v0–4 → the describe-configs handler. Resource types: 2 topic, 4 broker
 * (Kafka's ConfigResource.Type); others are answered with INVALID_REQUEST. kafkajs sends v2,
 * librdkafka v1; v4 is the flexible one.
 *
 * Sources map onto Kafka's ConfigSource: a topic override is DYNAMIC_TOPIC_CONFIG, a broker setting
 * given in flags/env/file is STATIC_BROKER_CONFIG, anything else DEFAULT_CONFIG. With
 * include_synonyms (v1+) each entry lists itself as its only synonym.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { DescribeConfigsResourceResult } from '../../protocol/kafka/messages/describe-configs.ts';
import type { ConfigEntry, ConfigResourceType } from '../../protocol/wire/ops.ts';
import { describeConfigs } from '../handlers/describe-configs.ts';
import { wireError } from '../wire-error.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaError } from './kafka-error.ts';

/** Kafka's ConfigResource.Type codes. */
const RESOURCE_TYPES: Record<number, ConfigResourceType> = { 2: 'topic', 4: 'broker' };

/** Kafka's ConfigEntry.ConfigSource codes. */
const CONFIG_SOURCES: Record<ConfigEntry['source'], number> = { TOPIC: 1, BROKER: 4, DEFAULT: 5 };

export function kafkaConfigSource(source: ConfigEntry['source']): number {
  return CONFIG_SOURCES[source];
}

export const describeConfigsApi: KafkaApi<typeof API_KEYS.DescribeConfigs> = {
  apiKey: API_KEYS.DescribeConfigs,
  versions: [0, 4],
  handle({ apiVersion, body }, { ctx }) {
    const known = body.resources.filter((r) => RESOURCE_TYPES[r.resourceType] !== undefined);
    const answers = describeConfigs(ctx, {
      resources: known.map((r) => ({
        type: RESOURCE_TYPES[r.resourceType]!,
        name: r.resourceName,
        ...(r.configurationKeys !== null && { keys: r.configurationKeys }),
      })),
    }).resources;
    const byResource = new Map(known.map((r, i) => [r, answers[i]!]));
    return {
      throttleTimeMs: 0,
      results: body.resources.map((r) => {
        const answer = byResource.get(r);
        const error = answer
          ? answer.error
          : wireError('INVALID_REQUEST', `resource type ${r.resourceType} is not supported`);
        return {
          ...kafkaError(error),
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          configs: (answer?.configs ?? []).map(
            (c): DescribeConfigsResourceResult => ({
              name: c.name,
              value: c.value,
              readOnly: c.readOnly,
              // v0 only, and not ignorable: later versions say it with configSource.
              ...(apiVersion === 0 && { isDefault: c.isDefault }),
              configSource: kafkaConfigSource(c.source),
              isSensitive: c.sensitive,
              synonyms: body.includeSynonyms
                ? [{ name: c.name, value: c.value, source: kafkaConfigSource(c.source) }]
                : [],
              documentation: null,
            }),
          ),
        };
      }),
    };
  },
};
