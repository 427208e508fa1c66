/**
 * DescribeGroups (API key 15), v0–5 → the group coordinator's describeGroups: state, protocol type,
 * chosen protocol (protocol_data) and members with their client id, host, metadata and (once Stable)
 * assignment, all as the coordinator holds them (metadata and assignments are opaque bytes). An
 * unknown group is described as Dead without an error, as Kafka does.
 *
 * v1 throttle; v3 authorized_operations, asked for with include_authorized_operations: Sluice has no
 * ACLs, so every group operation (READ, DESCRIBE, DELETE) is allowed; v4 group_instance_id; v5
 * flexible. kafkajs sends v2, librdkafka v4, platformatic v5.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { DescribeGroupsResponseData } from '../../protocol/kafka/messages/describe-groups.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaCode } from './kafka-error.ts';

/** Kafka's AclOperation codes a group supports: READ (3), DELETE (6), DESCRIBE (8), as a bit set. */
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
/** "Not asked for" (Kafka's Integer.MIN_VALUE sentinel). */
const OPERATIONS_NOT_REQUESTED = -2147483648;

export const describeGroupsApi: KafkaApi<typeof API_KEYS.DescribeGroups> = {
  apiKey: API_KEYS.DescribeGroups,
  versions: [0, 5],
  handle({ body }, { ctx }): DescribeGroupsResponseData {
    const operations = body.includeAuthorizedOperations ? GROUP_OPERATIONS : OPERATIONS_NOT_REQUESTED;
    return {
      throttleTimeMs: 0,
      groups: ctx.coordinator.describeGroups(body.groups).map((g) => ({
        errorCode: kafkaCode(g.error),
        groupId: g.groupId,
        groupState: g.state,
        protocolType: g.protocolType,
        protocolData: g.protocolName,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.metadata,
          memberAssignment: m.assignment,
        })),
        authorizedOperations: operations,
      })),
    };
  },
};
