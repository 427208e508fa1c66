/**
 * Heartbeat (API key 12), v0–4 → the group coordinator's heartbeat. The errors drive the clients:
 * REBALANCE_IN_PROGRESS (rejoin), UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION (join afresh),
 * FENCED_INSTANCE_ID (a newer instance took over). v3 group_instance_id; v4 flexible. kafkajs and
 * librdkafka send v3, platformatic v4.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { HeartbeatResponseData } from '../../protocol/kafka/messages/heartbeat.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaCode } from './kafka-error.ts';

export const heartbeatApi: KafkaApi<typeof API_KEYS.Heartbeat> = {
  apiKey: API_KEYS.Heartbeat,
  versions: [0, 4],
  handle({ body }, { ctx }): HeartbeatResponseData {
    const r = ctx.coordinator.heartbeat({
      groupId: body.groupId,
      generationId: body.generationId,
      memberId: body.memberId,
      groupInstanceId: body.groupInstanceId ?? null,
    });
    return { throttleTimeMs: 0, errorCode: kafkaCode(r.error) };
  },
};
