/**
 * OffsetFetch (API key 9), v0–8 → the group coordinator's offsetFetch. A partition without a
 * committed offset answers offset -1, leader epoch -1, metadata "" and no error (as Kafka does).
 *
 * Layouts by version (the codec places the fields; this file decides what goes in them):
 * - v0–1: named topics only; a group-level error is reported on every requested partition.
 * - v2–7: topics may be null (= everything the group committed); the group-level error goes in the
 *   top-level error_code, which the schema places *after* the topics array, and the topics are then
 *   empty (as Kafka's getErrorResponse). v3 throttle, v5 leader epochs, v6 flexible, v7
 *   require_stable (nothing is ever pending without transactions, so it changes nothing).
 * - v8: several groups per request, each with its topics (null = all) and its own error code.
 *
 * v0 read ZooKeeper-stored offsets in old Kafka; here every version reads the one offset store.
 * kafkajs sends v4 (it implements 1–4), librdkafka v7, platformatic ≤ 2.9 needs v8. v9 (member epochs
 * of the KIP-848 protocol) is not served.
 */
import type { OffsetFetchResult } from '../../coordinator/types.ts';
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type {
  OffsetFetchResponseData,
  OffsetFetchResponseTopics,
} from '../../protocol/kafka/messages/offset-fetch.ts';
import type { BrokerContext } from '../broker-context.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaCode } from './kafka-error.ts';

const TOP_LEVEL_ERROR_VERSION = 2;
const GROUPS_VERSION = 8;

function fetchOffsets(
  ctx: BrokerContext,
  groupId: string,
  topics: { name: string; partitionIndexes: number[] }[] | null | undefined,
): OffsetFetchResult {
  return ctx.coordinator.offsetFetch({
    groupId,
    topics: topics ? topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes })) : null,
  });
}

function toKafkaTopics(r: OffsetFetchResult): OffsetFetchResponseTopics[] {
  return r.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({
      partitionIndex: p.partition,
      committedOffset: p.offset,
      committedLeaderEpoch: p.leaderEpoch,
      metadata: p.metadata,
      errorCode: kafkaCode(p.error),
    })),
  }));
}

export const offsetFetchApi: KafkaApi<typeof API_KEYS.OffsetFetch> = {
  apiKey: API_KEYS.OffsetFetch,
  versions: [0, 8],
  handle({ apiVersion, body }, { ctx }): OffsetFetchResponseData {
    if (apiVersion >= GROUPS_VERSION) {
      return {
        throttleTimeMs: 0,
        groups: (body.groups ?? []).map((g) => {
          const r = fetchOffsets(ctx, g.groupId, g.topics);
          return {
            groupId: g.groupId,
            topics: r.error ? [] : toKafkaTopics(r),
            errorCode: kafkaCode(r.error),
          };
        }),
      };
    }
    const groupId = body.groupId ?? '';
    const r = fetchOffsets(ctx, groupId, body.topics);
    if (apiVersion >= TOP_LEVEL_ERROR_VERSION) {
      return { throttleTimeMs: 0, topics: r.error ? [] : toKafkaTopics(r), errorCode: kafkaCode(r.error) };
    }
    if (!r.error) return { topics: toKafkaTopics(r) };
    const errorCode = kafkaCode(r.error);
    return {
      topics: (body.topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => ({
          partitionIndex,
          committedOffset: -1,
          metadata: '',
          errorCode,
        })),
      })),
    };
  },
};
