/**
 * FindCoordinator (API key 10), v0–4: this node coordinates every group (the group APIs themselves
 * come with the group coordinator). Advertised from v0 because librdkafka 2.0.2 switches on consumer
 * groups *and lz4* only when FindCoordinator 0 is in the range. Transaction coordinators (key type 1)
 * are refused: Sluice has no transactions, and a non-retriable error fails the client at once instead
 * of letting it retry until its timeout. v4 batches several keys in one request.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { FindCoordinatorResponseData } from '../../protocol/kafka/messages/find-coordinator.ts';
import type { BrokerContext } from '../broker-context.ts';
import { wireError } from '../wire-error.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaError, NO_ERROR } from './kafka-error.ts';

const KEY_TYPE_GROUP = 0;
const BATCHED_VERSION = 4;

function coordinator(ctx: BrokerContext, keyType: number) {
  const error =
    keyType === KEY_TYPE_GROUP
      ? NO_ERROR
      : kafkaError(
          wireError(
            'INVALID_REQUEST',
            keyType === 1
              ? 'Sluice does not support transactions (no transaction coordinator)'
              : `unknown coordinator key type ${keyType}`,
          ),
        );
  const found = error.errorCode === 0;
  return {
    nodeId: found ? ctx.nodeId : -1,
    host: found ? ctx.advertised.host : '',
    port: found ? ctx.advertised.kafkaPort : -1,
    ...error,
  };
}

export const findCoordinatorApi: KafkaApi<typeof API_KEYS.FindCoordinator> = {
  apiKey: API_KEYS.FindCoordinator,
  versions: [0, 4],
  handle({ apiVersion, body }, { ctx }): FindCoordinatorResponseData {
    const keyType = body.keyType ?? KEY_TYPE_GROUP;
    if (apiVersion >= BATCHED_VERSION) {
      return {
        throttleTimeMs: 0,
        coordinators: (body.coordinatorKeys ?? []).map((key) => ({ key, ...coordinator(ctx, keyType) })),
      };
    }
    return { throttleTimeMs: 0, ...coordinator(ctx, keyType) };
  },
};
