/**
 * DeleteTopics (API key 20), v0–6 → the delete-topics handler. Up to v5 topics are named; v6 names
 * them or gives their id (UNKNOWN_TOPIC_ID when no topic has it) and answers with the id.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { DeletableTopicResult } from '../../protocol/kafka/messages/delete-topics.ts';
import { ZERO_UUID } from '../../protocol/kafka/reader.ts';
import { deleteTopics } from '../handlers/delete-topics.ts';
import { wireError } from '../wire-error.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaError } from './kafka-error.ts';

export const deleteTopicsApi: KafkaApi<typeof API_KEYS.DeleteTopics> = {
  apiKey: API_KEYS.DeleteTopics,
  versions: [0, 6],
  async handle({ apiVersion, body }, { ctx }) {
    const wanted =
      apiVersion >= 6
        ? (body.topics ?? []).map((t) => ({
            name: t.name ?? ctx.topics.getById(t.topicId)?.name ?? null,
            topicId: t.topicId,
          }))
        : (body.topicNames ?? []).map((name) => ({ name, topicId: ZERO_UUID }));
    // Ids are looked up before the topics go.
    const targets = wanted.map((w) => ({
      ...w,
      topicId: w.name !== null ? (ctx.topics.get(w.name)?.topicId ?? w.topicId) : w.topicId,
    }));
    const names = targets.flatMap((t) => (t.name !== null ? [t.name] : []));
    const answers = (await deleteTopics(ctx, { topics: names })).topics;
    let next = 0;
    return {
      throttleTimeMs: 0,
      responses: targets.map((t): DeletableTopicResult => {
        const error =
          t.name === null
            ? wireError('UNKNOWN_TOPIC_ID', `no topic has id ${t.topicId}`)
            : answers[next++]!.error;
        return { name: t.name, topicId: t.topicId, ...kafkaError(error) };
      }),
    };
  },
};
