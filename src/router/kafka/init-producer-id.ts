/**
 * InitProducerId (API key 22), v0–4 → the init-producer-id handler (a new, never reused producer id
 * at epoch 0). Advertised from v0 because librdkafka 2.0.2 enables idempotence only when
 * InitProducerId 0 is in the range; librdkafka sends v4 (flexible), kafkajs v1. A transactional id is
 * refused: Sluice has no transactions.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import { initProducerId } from '../handlers/init-producer-id.ts';
import { wireError } from '../wire-error.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaError } from './kafka-error.ts';

export const initProducerIdApi: KafkaApi<typeof API_KEYS.InitProducerId> = {
  apiKey: API_KEYS.InitProducerId,
  versions: [0, 4],
  handle({ body }, { ctx }) {
    if (body.transactionalId !== null) {
      const error = wireError('INVALID_REQUEST', 'Sluice does not support transactions (transactional.id)');
      return { throttleTimeMs: 0, errorCode: kafkaError(error).errorCode, producerId: -1, producerEpoch: -1 };
    }
    const answer = initProducerId(ctx, {
      transactionalId: null,
      producerId: body.producerId ?? -1,
      producerEpoch: body.producerEpoch ?? -1,
    });
    return { throttleTimeMs: 0, errorCode: 0, ...answer };
  },
};
