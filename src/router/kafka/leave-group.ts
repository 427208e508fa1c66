/**
 * LeaveGroup (API key 13), v0–5 → the group coordinator's leaveGroup. v0–2 name one member and
 * answer one error code; v3+ (KIP-345) name several members (by member id and/or group instance id)
 * and answer per member, with the top-level error kept for group-level failures. v4 flexible; v5 a
 * reason per member. librdkafka sends v1, kafkajs v3, platformatic v4–5.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { LeaveGroupResponseData } from '../../protocol/kafka/messages/leave-group.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaCode } from './kafka-error.ts';

const BATCHED_VERSION = 3;

export const leaveGroupApi: KafkaApi<typeof API_KEYS.LeaveGroup> = {
  apiKey: API_KEYS.LeaveGroup,
  versions: [0, 5],
  handle({ apiVersion, body }, { ctx }): LeaveGroupResponseData {
    const batched = apiVersion >= BATCHED_VERSION;
    const members = batched
      ? (body.members ?? []).map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          reason: m.reason ?? null,
        }))
      : [{ memberId: body.memberId ?? '', groupInstanceId: null }];
    const r = ctx.coordinator.leaveGroup({ groupId: body.groupId, members });
    if (batched) {
      return {
        throttleTimeMs: 0,
        errorCode: kafkaCode(r.error),
        members: r.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          errorCode: kafkaCode(m.error),
        })),
      };
    }
    // As Kafka's LeaveGroupResponse for v0–2: the group's error, else the (single) member's.
    return { throttleTimeMs: 0, errorCode: kafkaCode(r.error ?? r.members[0]?.error) };
  },
};
