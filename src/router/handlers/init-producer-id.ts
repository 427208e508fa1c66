/**
 * InitProducerId for idempotent producers. Without a transactional id Kafka always hands out a new
 * producer id at epoch 0 (also when the request presents an old id and epoch), and so do we; ids are
 * never reused, across restarts too (ProducerIdAllocator).
 */
import type { InitProducerIdRequest, InitProducerIdResponse } from '../../protocol/wire/ops.ts';
import type { BrokerContext } from '../broker-context.ts';

export type InitProducerIdBody = Omit<InitProducerIdRequest, 'op'>;

export function initProducerId(ctx: BrokerContext, _req: InitProducerIdBody): InitProducerIdResponse {
  return { producerId: ctx.producerIds.allocate(), producerEpoch: 0 };
}
