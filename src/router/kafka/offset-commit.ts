/**
 * OffsetCommit (API key 8), v0–9 → the group coordinator's offsetCommit. A commit from a member is
 * checked against its generation; a "simple" commit (generation -1, no member id: v0, which has
 * neither, or admin tools such as kafkajs `admin.setOffsets`) is accepted while the group has no
 * members. Committed metadata is kept exactly (null is stored as "").
 *
 * Accepted but not used: v1's per-partition commit_timestamp and v2–4's retention_time_ms (offsets
 * expire by offsets.retention.minutes once the group is empty, as in Kafka ≥ 2.1). v6 adds the leader
 * epoch, v7 group_instance_id, v8 is flexible. v9 (KIP-848) reads the same; like Kafka it answers
 * GROUP_ID_NOT_FOUND instead of ILLEGAL_GENERATION for a member commit to a group that does not
 * exist. kafkajs sends v5, librdkafka v7, platformatic v8–9.
 */
import { GroupState } from '../../coordinator/types.ts';
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { OffsetCommitResponseData } from '../../protocol/kafka/messages/offset-commit.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaCode } from './kafka-error.ts';

const GROUP_ID_NOT_FOUND_VERSION = 9;

export const offsetCommitApi: KafkaApi<typeof API_KEYS.OffsetCommit> = {
  apiKey: API_KEYS.OffsetCommit,
  versions: [0, 9],
  async handle({ apiVersion, body }, { ctx }): Promise<OffsetCommitResponseData> {
    const r = await ctx.coordinator.offsetCommit({
      groupId: body.groupId,
      generationId: body.generationIdOrMemberEpoch ?? -1,
      memberId: body.memberId ?? '',
      groupInstanceId: body.groupInstanceId ?? null,
      topics: body.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch ?? -1,
          metadata: p.committedMetadata,
        })),
      })),
    });
    // The coordinator refuses a member commit to an unknown group with ILLEGAL_GENERATION (what
    // Kafka answers below v9); v9 clients are told GROUP_ID_NOT_FOUND.
    const unknownGroup =
      apiVersion >= GROUP_ID_NOT_FOUND_VERSION &&
      r.error === 'ILLEGAL_GENERATION' &&
      ctx.coordinator.describeGroups([body.groupId])[0]?.state === GroupState.Dead;
    return {
      throttleTimeMs: 0,
      topics: r.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partition,
          errorCode: kafkaCode(unknownGroup ? 'GROUP_ID_NOT_FOUND' : p.error),
        })),
      })),
    };
  },
};
