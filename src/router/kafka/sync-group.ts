/**
 * SyncGroup (API key 14), v0–5 → the group coordinator's syncGroup. The leader sends every member's
 * assignment; followers wait for it (coordinator-wait.ts). Assignments (ConsumerProtocol assignment
 * bytes) are opaque to the broker and handed over as they came; a member the leader left out gets
 * empty bytes, which Kafka clients read as "no partitions".
 *
 * v3 group_instance_id; v4 flexible; v5 the request names its protocol type and name (checked against
 * the group: INCONSISTENT_GROUP_PROTOCOL) and the response carries the group's. kafkajs and
 * librdkafka send v3, platformatic v4–5.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { SyncGroupResponseData } from '../../protocol/kafka/messages/sync-group.ts';
import { parkedUntilAborted } from './coordinator-wait.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaCode } from './kafka-error.ts';

export const syncGroupApi: KafkaApi<typeof API_KEYS.SyncGroup> = {
  apiKey: API_KEYS.SyncGroup,
  versions: [0, 5],
  async handle({ body }, { ctx, signal }): Promise<SyncGroupResponseData> {
    const r = await parkedUntilAborted(
      ctx.coordinator.syncGroup({
        groupId: body.groupId,
        generationId: body.generationId,
        memberId: body.memberId,
        groupInstanceId: body.groupInstanceId ?? null,
        protocolType: body.protocolType ?? null,
        protocolName: body.protocolName ?? null,
        assignments: body.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
      }),
      signal,
      () => ({
        error: 'NOT_COORDINATOR' as const,
        protocolType: null,
        protocolName: null,
        assignment: new Uint8Array(0),
      }),
    );
    return {
      throttleTimeMs: 0,
      errorCode: kafkaCode(r.error),
      protocolType: r.protocolType,
      protocolName: r.protocolName,
      assignment: r.assignment,
    };
  },
};
