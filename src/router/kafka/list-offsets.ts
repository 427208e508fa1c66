/**
 * ListOffsets (API key 2), v1–7 → the list-offsets handler. Timestamps -1 (latest = high watermark,
 * which is also the last stable offset here), -2 (earliest = log start), -3 (v7: the record with the
 * largest timestamp) or a time T (the first record whose timestamp is ≥ T, with that timestamp; none:
 * offset -1, timestamp -1). v0 (the multi-offset form) is not advertised; v1 is what librdkafka needs
 * for offsets-for-times, kafkajs sends v3, v5 is what newer clients need.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { ListOffsetsRequest, ListOffsetsResponse } from '../../protocol/wire/ops.ts';
import { listOffsets } from '../handlers/list-offsets.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaError } from './kafka-error.ts';
import { checkLeaderEpoch, LEADER_EPOCH } from './leader-epoch.ts';
import { PartitionSplit } from './partition-split.ts';

type PartitionAnswer = ListOffsetsResponse['topics'][number]['partitions'][number];

export const listOffsetsApi: KafkaApi<typeof API_KEYS.ListOffsets> = {
  apiKey: API_KEYS.ListOffsets,
  versions: [1, 7],
  async handle({ apiVersion, body }, { ctx }) {
    const split = new PartitionSplit<
      ListOffsetsRequest['topics'][number]['partitions'][number],
      PartitionAnswer
    >(body.topics, (ti, pi) => {
      const p = body.topics[ti]!.partitions[pi]!;
      const error = checkLeaderEpoch(p.currentLeaderEpoch);
      if (error) return { answer: { partition: p.partitionIndex, error, offset: -1, timestamp: -1 } };
      return { forward: { partition: p.partitionIndex, timestamp: p.timestamp } };
    });
    if (split.forward.length > 0) {
      const isolationLevel = body.isolationLevel === 1 ? 1 : 0;
      split.merge((await listOffsets(ctx, { isolationLevel, topics: split.forward })).topics);
    }
    return {
      throttleTimeMs: 0,
      topics: body.topics.map((t, ti) => ({
        name: t.name,
        partitions: split.results[ti]!.map((p) => ({
          partitionIndex: p.partition,
          errorCode: kafkaError(p.error).errorCode,
          timestamp: p.timestamp,
          offset: p.offset,
          // Not carried before v4 (and not ignorable there).
          ...(apiVersion >= 4 && { leaderEpoch: p.offset >= 0 ? LEADER_EPOCH : -1 }),
        })),
      })),
    };
  },
};
