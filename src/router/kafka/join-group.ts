/**
 * JoinGroup (API key 11), v0–9 → the group coordinator's joinGroup. The answer waits until the
 * rebalance completes (coordinator-wait.ts); the leader gets every member's metadata, the others an
 * empty list. Protocol metadata (ConsumerProtocol subscription bytes) is opaque and passed through, so
 * Kafka clients and Sluice clients share a group when they share a protocol name.
 *
 * Version differences:
 * - v0 has no rebalance timeout: the session timeout serves as both (as Kafka does).
 * - v4+: a first join without a member id gets MEMBER_ID_REQUIRED with a generated id and must join
 *   again with it (KIP-394); v0–3 joins are admitted at once.
 * - v5 group_instance_id (static membership); v6 flexible; v7 the response carries protocol_type, and
 *   protocol_name becomes nullable (before v7 an absent name is sent as ""); v8 a reason;
 *   v9 skip_assignment, always false (the leader always assigns).
 *
 * Advertised from v0: librdkafka 2.0.2 turns on its SASL GSSAPI feature only with JoinGroup 0 in the
 * range (and ≤ 2.11 detected old brokers by it); librdkafka and kafkajs send v5, platformatic v6–9.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { JoinGroupResponseData } from '../../protocol/kafka/messages/join-group.ts';
import { parkedUntilAborted } from './coordinator-wait.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaCode } from './kafka-error.ts';

const NULLABLE_PROTOCOL_NAME_VERSION = 7;
const REQUIRE_KNOWN_MEMBER_ID_VERSION = 4;

export const joinGroupApi: KafkaApi<typeof API_KEYS.JoinGroup> = {
  apiKey: API_KEYS.JoinGroup,
  versions: [0, 9],
  async handle({ apiVersion, header, body }, { ctx, signal, clientHost }): Promise<JoinGroupResponseData> {
    const r = await parkedUntilAborted(
      ctx.coordinator.joinGroup({
        groupId: body.groupId,
        sessionTimeoutMs: body.sessionTimeoutMs,
        rebalanceTimeoutMs: apiVersion === 0 ? body.sessionTimeoutMs : (body.rebalanceTimeoutMs ?? -1),
        memberId: body.memberId,
        groupInstanceId: body.groupInstanceId ?? null,
        protocolType: body.protocolType,
        protocols: body.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
        reason: body.reason ?? null,
        clientId: header.clientId ?? '',
        clientHost,
        requireKnownMemberId: apiVersion >= REQUIRE_KNOWN_MEMBER_ID_VERSION,
      }),
      signal,
      () => ({
        error: 'NOT_COORDINATOR' as const,
        generationId: -1,
        protocolType: null,
        protocolName: null,
        leader: '',
        memberId: body.memberId,
        members: [],
      }),
    );
    return {
      throttleTimeMs: 0,
      errorCode: kafkaCode(r.error),
      generationId: r.generationId,
      protocolType: r.protocolType,
      protocolName: r.protocolName ?? (apiVersion >= NULLABLE_PROTOCOL_NAME_VERSION ? null : ''),
      leader: r.leader,
      skipAssignment: false,
      memberId: r.memberId,
      members: r.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        metadata: m.metadata,
      })),
    };
  },
};
