/**
 * ListGroups (API key 16), v0–4 → the group coordinator's listGroups: every group that is not Dead,
 * with its protocol type. v3 flexible; v4 (KIP-518) filters by state (case-insensitive, empty = all)
 * and reports each group's state. librdkafka sends v4 (its flexible v3–4 are why v4 is served),
 * kafkajs v2. v5's type filter (classic vs KIP-848 consumer groups) is not served: every group here is
 * a classic one.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { ListGroupsResponseData } from '../../protocol/kafka/messages/list-groups.ts';
import type { KafkaApi } from './kafka-api.ts';

export const listGroupsApi: KafkaApi<typeof API_KEYS.ListGroups> = {
  apiKey: API_KEYS.ListGroups,
  versions: [0, 4],
  handle({ body }, { ctx }): ListGroupsResponseData {
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      groups: ctx.coordinator.listGroups(body.statesFilter ?? []).map((g) => ({
        groupId: g.groupId,
        protocolType: g.protocolType,
        groupState: g.state,
      })),
    };
  },
};
