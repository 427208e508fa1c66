/**
 * Fetch (API key 1), v4–12 → the fetch handler (long poll until min_bytes or max_wait, whole stored
 * batches, the first batch whole even when oversized, max_bytes cut at batch boundaries). v4 is the
 * first version with RecordBatch v2 for librdkafka, v10 says the client reads zstd, v11 is what
 * kafkajs and librdkafka send, v12 is the first flexible one; v13+ name topics by id and are not
 * advertised.
 *
 * - Sessions: none. session_id is always 0, which keeps every client on full (sessionless) fetches;
 *   forgotten topics therefore mean nothing.
 * - read_committed is read_uncommitted here (no transactions): last_stable_offset = high watermark,
 *   aborted_transactions empty (null for read_uncommitted, as Kafka sends).
 * - current_leader_epoch other than -1/0 is answered per partition (leader-epoch.ts), without
 *   waiting.
 * - Records are the stored bytes, handed to the encoder as they came from the worker: the response
 *   goes to the socket as chunks that alias them (no copy). An empty result is a zero-length records
 *   field, never null, as Kafka sends it.
 */
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { PartitionData } from '../../protocol/kafka/messages/fetch.ts';
import { EMPTY_BYTES } from '../../protocol/kafka/reader.ts';
import type { FetchPartitionResponse, FetchRequest } from '../../protocol/wire/ops.ts';
import { fetch } from '../handlers/fetch.ts';
import type { KafkaApi } from './kafka-api.ts';
import { kafkaError } from './kafka-error.ts';
import { checkLeaderEpoch } from './leader-epoch.ts';
import { PartitionSplit } from './partition-split.ts';

const READ_COMMITTED = 1;

export const fetchApi: KafkaApi<typeof API_KEYS.Fetch> = {
  apiKey: API_KEYS.Fetch,
  versions: [4, 12],

  async handle({ body }, { ctx, signal, readAhead }) {
    const isolation = body.isolationLevel === READ_COMMITTED ? 1 : 0;
    const split = new PartitionSplit<
      FetchRequest['topics'][number]['partitions'][number],
      FetchPartitionResponse
    >(
      body.topics.map((t) => ({ name: t.topic ?? '', partitions: t.partitions })),
      (ti, pi) => {
        const p = body.topics[ti]!.partitions[pi]!;
        const error = checkLeaderEpoch(p.currentLeaderEpoch);
        if (error) {
          const none = { highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, records: null };
          return { answer: { partition: p.partition, error, ...none } };
        }
        return { forward: { partition: p.partition, offset: p.fetchOffset, maxBytes: p.partitionMaxBytes } };
      },
    );
    // An empty fetch still waits max_wait, as in Kafka; a refused partition answers at once.
    if (split.forward.length > 0 || !split.answeredHere) {
      const answer = await fetch(
        ctx,
        {
          maxWaitMs: split.answeredHere ? 0 : Math.max(0, body.maxWaitMs),
          minBytes: Math.max(0, body.minBytes),
          maxBytes: body.maxBytes ?? 2147483647,
          isolationLevel: isolation,
          topics: split.forward,
        },
        signal,
        readAhead,
      );
      split.merge(answer.topics);
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: body.topics.map((t, ti) => ({
        topic: t.topic ?? '',
        partitions: split.results[ti]!.map(
          (p): PartitionData => ({
            partitionIndex: p.partition,
            errorCode: kafkaError(p.error).errorCode,
            highWatermark: p.highWatermark,
            lastStableOffset: p.lastStableOffset,
            logStartOffset: p.logStartOffset,
            abortedTransactions: isolation === READ_COMMITTED ? [] : null,
            preferredReadReplica: -1,
            records: p.records ?? EMPTY_BYTES,
          }),
        ),
      })),
    };
  },
};
