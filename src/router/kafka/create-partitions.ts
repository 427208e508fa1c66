/**
 * CreatePartitions (API key 37), v0–3 → the create-partitions handler (grow a topic; never shrink).
 * Manual assignments are ignored: every partition lives on this node.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import { createPartitions } from '../handlers/create-partitions.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaError } from './kafka-error.ts';

export const createPartitionsApi: KafkaApi<typeof API_KEYS.CreatePartitions> = {
  apiKey: API_KEYS.CreatePartitions,
  versions: [0, 3],
  async handle({ body }, { ctx }) {
    const answer = await createPartitions(ctx, {
      validateOnly: body.validateOnly,
      topics: body.topics.map((t) => ({ name: t.name, count: t.count })),
    });
    return {
      throttleTimeMs: 0,
      results: answer.topics.map((t) => ({ name: t.name, ...kafkaError(t.error) })),
    };
  },
};
