/**
 * The producer's sender: drains ready batches from the accumulator into `produce` requests, keeps a
 * deep window of them in flight, and settles or retries each batch from the answers.
 *
 * Requests: at most one batch per partition per request (the protocol carries one RecordBatch per
 * partition), several partitions per request up to `maxRequestBytes`. The window is bounded by
 * `maxInFlightRequests` and `maxInFlightBytes` (DESIGN.md: depth of the window decides throughput;
 * 512 KiB in flight or more). Partitions served are moved to the back of the active set, so every
 * partition gets its turn.
 *
 * Retries never reorder a partition: when a batch fails retriably, the partition stops sending and
 * waits for all its in-flight batches to answer; then every failed one goes back to the front of its
 * queue, oldest first, and is resent after a backoff with exactly the same bytes. An idempotent
 * producer keeps at most 5 batches in flight per partition, the number of recent batches the broker
 * remembers per producer to recognise a resent batch as a duplicate (storage/producer-state.ts), and
 * only 1 until the partition has stored a batch of the current producer id (the broker accepts any
 * first sequence from a producer it does not know, so a second batch must not overtake the first). An
 * OUT_OF_ORDER_SEQUENCE_NUMBER answer is retriable when an older batch of that partition failed or is
 * still unanswered (the gap is that batch); otherwise it is fatal.
 *
 * When an idempotent batch fails for good, the sequence of its partition has a gap the broker will
 * never fill, so the producer takes a new producer id (Kafka bumps the epoch): once nothing is in
 * flight it calls `initProducerId`, renumbers every pending batch from sequence 0 and restamps the
 * built ones (header fields and CRC).
 */
import { SluiceError } from '../errors.ts';
import type { Acks, ProduceRequest, ProduceResponse } from '../protocol/wire/ops.ts';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import type { MetadataCache } from './metadata-cache.ts';
import { addSequence, type ProducerBatch } from './producer-batch.ts';
import type { PartitionQueue, RecordAccumulator } from './record-accumulator.ts';
import { findPartition, toSluiceError } from './responses.ts';
import type { ClientTransport } from './transport.ts';

/** Resolved sender settings (see ProducerOptions for their meaning and defaults). */
export interface SenderOptions {
  acks: Acks;
  idempotent: boolean;
  lingerMs: number;
  maxInFlightRequests: number;
  maxInFlightBytes: number;
  maxRequestBytes: number;
  produceTimeoutMs: number;
  requestTimeoutMs: number;
  deliveryTimeoutMs: number;
  retries: number;
  retryBackoff: BackoffOptions;
}

/** Recent batches the broker remembers per producer and partition (Kafka: max.in.flight ≤ 5 with idempotence). */
export const IDEMPOTENT_MAX_IN_FLIGHT_PER_PARTITION = 5;

/** Errors after which the partition's metadata is reloaded before the retry. */
const METADATA_ERRORS: ReadonlySet<string> = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'BROKER_SHUTTING_DOWN',
  'PARTITION_CLOSED',
]);

type ProduceTopics = ProduceRequest['topics'];

/** Drains the accumulator into produce requests; see the module comment. */
export class ProduceSender {
  readonly #transport: ClientTransport;
  readonly #acc: RecordAccumulator;
  readonly #metadata: MetadataCache;
  readonly #options: SenderOptions;
  #inFlightRequests = 0;
  #inFlightBytes = 0;
  #scheduled = false;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  /** An idempotent batch failed for good: a new producer id is needed before anything else is sent. */
  #resetNeeded = false;
  #resetting = false;

  constructor(
    transport: ClientTransport,
    accumulator: RecordAccumulator,
    metadata: MetadataCache,
    options: SenderOptions,
  ) {
    this.#transport = transport;
    this.#acc = accumulator;
    this.#metadata = metadata;
    this.#options = options;
  }

  /** Requests in flight. */
  get inFlightRequests(): number {
    return this.#inFlightRequests;
  }

  /** Batch bytes in flight. */
  get inFlightBytes(): number {
    return this.#inFlightBytes;
  }

  /** Drain soon (once per tick, however many records arrive in it). */
  schedule(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.drain();
    });
  }

  /** Stop sending (the producer is closed); timers are cleared. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Ask the broker for a producer id (retrying retriable errors) and use it for new batches. */
  async initProducerId(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { producerId, producerEpoch } = await this.#transport.request('initProducerId', {
          transactionalId: null,
          producerId: -1,
          producerEpoch: -1,
        });
        this.#acc.producerId = producerId;
        this.#acc.producerEpoch = producerEpoch;
        return;
      } catch (err) {
        if (this.#stopped || !(err instanceof SluiceError) || !err.retriable) throw err;
        await new Promise((resolve) =>
          setTimeout(resolve, backoffDelay(this.#options.retryBackoff, attempt)),
        );
      }
    }
  }

  /** Send what can be sent now, and arm a timer for what lingers or backs off. */
  drain(): void {
    if (this.#stopped) return;
    if (this.#resetNeeded) {
      this.#maybeReset();
      return;
    }
    const { lingerMs, maxInFlightRequests, maxInFlightBytes, idempotent } = this.#options;
    const acc = this.#acc;
    const maxRequestBytes = this.#maxRequestBytes();
    const now = Date.now();
    const hurry = acc.hasSpaceWaiters;
    let wakeAt = Number.POSITIVE_INFINITY;
    while (this.#inFlightRequests < maxInFlightRequests && this.#inFlightBytes < maxInFlightBytes) {
      const batches: ProducerBatch[] = [];
      const queues: PartitionQueue[] = [];
      let bytes = 0;
      for (const pq of acc.active) {
        if (pq.idle) {
          acc.active.delete(pq);
          continue;
        }
        if (pq.retrying || pq.blocked) continue;
        if (pq.retryAt > now) {
          wakeAt = Math.min(wakeAt, pq.retryAt);
          continue;
        }
        if (
          idempotent &&
          pq.inflight.length >= (pq.acknowledged ? IDEMPOTENT_MAX_IN_FLIGHT_PER_PARTITION : 1)
        ) {
          continue;
        }
        let head = pq.queue[0];
        if (head === undefined) {
          const open = pq.open;
          if (open === undefined) continue;
          const due = open.createdAt + lingerMs;
          if (lingerMs > 0 && !open.flushRequested && !hurry && due > now) {
            wakeAt = Math.min(wakeAt, due);
            continue;
          }
          acc.close(pq);
          head = pq.queue[0]!;
        }
        if (head.state !== 'ready') continue; // still compressing; onWork() drains again when built
        const size = head.bytes!.length;
        if (batches.length > 0 && bytes + size > maxRequestBytes) break;
        pq.queue.shift();
        batches.push(head);
        queues.push(pq);
        bytes += size;
      }
      if (batches.length === 0) break;
      for (const pq of queues) {
        // Served partitions go to the back: the next request starts with the others.
        acc.active.delete(pq);
        acc.active.add(pq);
      }
      this.#send(batches, queues, bytes);
    }
    this.#armTimer(wakeAt);
  }

  #maxRequestBytes(): number {
    const frame = this.#transport.serverInfo?.maxFrameBytes;
    // Leave room for the CBOR envelope around the batches.
    return frame ? Math.min(this.#options.maxRequestBytes, frame - 4096) : this.#options.maxRequestBytes;
  }

  #armTimer(at: number): void {
    if (at === Number.POSITIVE_INFINITY || (this.#timer !== undefined && this.#timerAt <= at)) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
        this.drain();
      },
      Math.max(0, at - Date.now()),
    );
  }

  #send(batches: ProducerBatch[], queues: PartitionQueue[], bytes: number): void {
    const topics: ProduceTopics = [];
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!;
      batch.state = 'in-flight';
      batch.attempts++;
      queues[i]!.inflight.push(batch);
      let entry = topics.find((t) => t.topic === batch.topic);
      if (!entry) {
        topics.push((entry = { topic: batch.topic, partitions: [] }));
        this.#metadata.get(batch.topic); // starts a periodic refresh when the entry is old
      }
      entry.partitions.push({ partition: batch.partition, records: batch.bytes! });
    }
    this.#inFlightRequests++;
    this.#inFlightBytes += bytes;
    const { acks, produceTimeoutMs, requestTimeoutMs } = this.#options;
    const body = { acks, timeoutMs: produceTimeoutMs, transactionalId: null, topics };
    const request =
      acks === 0
        ? this.#transport.send('produce', body).then(() => undefined)
        : this.#transport.request('produce', body, { timeoutMs: requestTimeoutMs + produceTimeoutMs });
    request.then(
      (response) => this.#answered(batches, queues, bytes, response, undefined),
      (err: unknown) => this.#answered(batches, queues, bytes, undefined, toSluiceError(err)),
    );
  }

  #answered(
    batches: ProducerBatch[],
    queues: PartitionQueue[],
    bytes: number,
    response: ProduceResponse | undefined,
    error: SluiceError | undefined,
  ): void {
    this.#inFlightRequests--;
    this.#inFlightBytes -= bytes;
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!;
      const pq = queues[i]!;
      const at = pq.inflight.indexOf(batch);
      if (at >= 0) pq.inflight.splice(at, 1);
      if (error) {
        this.#failed(pq, batch, error);
        continue;
      }
      if (!response) {
        this.#succeeded(batch, -1, -1); // acks 0: handed to the network is all we will know
        continue;
      }
      const part = findPartition(response, batch.topic, batch.partition);
      if (!part) {
        this.#failed(
          pq,
          batch,
          new SluiceError('UNKNOWN_SERVER_ERROR', 'the produce answer lacks this partition'),
        );
      } else if (!part.error) {
        pq.acknowledged = true;
        this.#succeeded(batch, part.baseOffset, part.logAppendTime);
      } else if (part.error.code === 'DUPLICATE_SEQUENCE_NUMBER') {
        this.#succeeded(batch, -1, -1); // stored by an earlier attempt; the broker no longer knows where
      } else {
        this.#failed(pq, batch, SluiceError.from(part.error));
      }
    }
    for (const pq of queues) this.#endEpisode(pq);
    if (this.#resetNeeded) this.#maybeReset();
    this.schedule();
  }

  #succeeded(batch: ProducerBatch, baseOffset: number, logAppendTime: number): void {
    this.#acc.release(batch);
    batch.complete(baseOffset, logAppendTime);
  }

  #failed(pq: PartitionQueue, batch: ProducerBatch, error: SluiceError): void {
    batch.lastError = error;
    const { idempotent, deliveryTimeoutMs, retries } = this.#options;
    let retriable = error.retriable;
    if (!retriable && idempotent && error.code === 'OUT_OF_ORDER_SEQUENCE_NUMBER') {
      // The gap is an older batch that failed or is unanswered, or the producer is taking a new id.
      retriable = this.#resetNeeded || hasOlder(pq, batch);
    }
    if (
      !this.#stopped &&
      retriable &&
      batch.attempts <= retries &&
      Date.now() - batch.createdAt < deliveryTimeoutMs
    ) {
      batch.state = 'ready';
      pq.retry.push(batch);
      pq.retrying = true;
      if (METADATA_ERRORS.has(error.code)) pq.needsMetadata = true;
      return;
    }
    this.#acc.release(batch);
    batch.fail(error);
    if (idempotent) this.#resetNeeded = true;
  }

  /** Settle a batch whose build (compression) failed. */
  buildFailed(pq: PartitionQueue, batch: ProducerBatch, error: SluiceError): void {
    const at = pq.queue.indexOf(batch);
    if (at >= 0) pq.queue.splice(at, 1);
    this.#acc.release(batch);
    batch.fail(error);
    if (this.#options.idempotent) this.#resetNeeded = true;
    this.schedule();
  }

  /** Once a retrying partition has nothing in flight, its failed batches go back in front, oldest first. */
  #endEpisode(pq: PartitionQueue): void {
    if (!pq.retrying || pq.inflight.length > 0) return;
    const retry = pq.retry.sort((a, b) => a.order - b.order);
    pq.retry = [];
    pq.retrying = false;
    pq.queue.unshift(...retry);
    const head = retry[0];
    if (head) pq.retryAt = Date.now() + backoffDelay(this.#options.retryBackoff, head.attempts - 1);
    if (pq.needsMetadata) {
      pq.needsMetadata = false;
      pq.blocked = true;
      this.#metadata
        .load(pq.topic)
        .catch(() => {})
        .finally(() => {
          pq.blocked = false;
          this.schedule();
        });
    }
  }

  /** Take a new producer id once nothing is in flight, and renumber every pending batch. */
  #maybeReset(): void {
    if (!this.#resetNeeded || this.#resetting || this.#inFlightRequests > 0 || this.#stopped) return;
    this.#resetting = true;
    this.initProducerId().then(
      () => {
        const acc = this.#acc;
        for (const pq of acc.queues()) {
          let sequence = 0;
          for (const batch of pq.queue) {
            batch.producerId = acc.producerId;
            batch.producerEpoch = acc.producerEpoch;
            batch.baseSequence = sequence;
            batch.stamp(); // built batches now; compressing ones when their build finishes
            sequence = addSequence(sequence, batch.recordCount);
          }
          const open = pq.open;
          if (open) {
            open.producerId = acc.producerId;
            open.producerEpoch = acc.producerEpoch;
            open.baseSequence = sequence;
          }
          pq.nextSequence = sequence; // close() recomputes it from the open batch
          pq.acknowledged = false;
        }
        this.#resetNeeded = false;
        this.#resetting = false;
        this.schedule();
      },
      (err: unknown) => {
        this.#resetting = false;
        // Not retriable (or the producer stopped): nothing pending can be sent with the old id.
        const error = toSluiceError(err);
        for (const pq of this.#acc.queues()) {
          for (const batch of pq.queue.splice(0)) {
            this.#acc.release(batch);
            batch.fail(error);
          }
        }
        this.#resetNeeded = false;
        this.schedule();
      },
    );
  }
}

function hasOlder(pq: PartitionQueue, batch: ProducerBatch): boolean {
  for (const b of pq.inflight) if (b.order < batch.order) return true;
  for (const b of pq.retry) if (b.order < batch.order) return true;
  return false;
}
