/**
 * DeleteGroups (API key 42), v0–2 → the group coordinator's deleteGroups: only an Empty group can be
 * deleted (NON_EMPTY_GROUP otherwise, GROUP_ID_NOT_FOUND for an unknown one); its committed offsets go
 * with it. v2 flexible. kafkajs sends v1, librdkafka v1.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { DeleteGroupsResponseData } from '../../protocol/kafka/messages/delete-groups.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaCode } from './kafka-error.ts';

export const deleteGroupsApi: KafkaApi<typeof API_KEYS.DeleteGroups> = {
  apiKey: API_KEYS.DeleteGroups,
  versions: [0, 2],
  async handle({ body }, { ctx }): Promise<DeleteGroupsResponseData> {
    const results = await ctx.coordinator.deleteGroups(body.groupsNames);
    return {
      throttleTimeMs: 0,
      results: results.map((r) => ({ groupId: r.groupId, errorCode: kafkaCode(r.error) })),
    };
  },
};
