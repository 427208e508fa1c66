/**
 * The producer's buffer: one queue per partition of batches waiting to be sent, filled by the send
 * path and emptied by the sender (producer-sender.ts).
 *
 * Per partition, batches move open → (building) → ready → in flight → done, strictly in `order`:
 *   open      at most one; records are encoded into it as they arrive;
 *   queue     closed batches not yet sent (or put back for a retry), oldest first;
 *   inflight  sent, awaiting the broker, in the order sent;
 *   retry     failed with a retriable error during the current episode; they go back to the front of
 *             `queue` (oldest first) once nothing of this partition is in flight any more.
 *
 * Buffer accounting: every appended byte counts against `bufferBytes` until its batch completes or
 * fails. The send path checks the total before each record, so the buffer holds at most
 * `bufferBytes` plus one record; `waitForSpace` parks callers until completions release room.
 */
import { SluiceError } from '../errors.ts';
import type { CompressionName } from '../protocol/kafka/record-batch.ts';
import { type ProducerRecord, RecordBatchBuilder } from '../protocol/kafka/record-batch-builder.ts';
import { addSequence, type Completion, ProducerBatch } from './producer-batch.ts';

/** The state of one partition in the producer. */
export class PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  open: ProducerBatch | undefined;
  readonly queue: ProducerBatch[] = [];
  readonly inflight: ProducerBatch[] = [];
  retry: ProducerBatch[] = [];
  /** A batch failed retriably: hold the partition until its in-flight batches have all answered. */
  retrying = false;
  /** Not before this time (Date.now()) is the partition sent to again (retry backoff). */
  retryAt = 0;
  /** A metadata refresh must finish before the next send (after UNKNOWN_TOPIC_OR_PARTITION and the like). */
  needsMetadata = false;
  blocked = false;
  /**
   * Idempotence: a batch of the current producer id was stored here. Until then only one batch is
   * in flight, because the broker accepts any sequence from a producer id it has no state for: a
   * pipelined second batch could be stored ahead of a first one that failed and is retried.
   */
  acknowledged = false;
  /** Base sequence of the next batch (idempotent producers). */
  nextSequence = 0;
  nextOrder = 0;
  /** Size of the last closed batch, to size the next builder so that a hot partition never regrows it. */
  lastBatchBytes = 0;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  /** True when the partition holds no batch at all. */
  get idle(): boolean {
    return (
      this.open === undefined &&
      this.queue.length === 0 &&
      this.inflight.length === 0 &&
      this.retry.length === 0
    );
  }
}

/** Accumulator settings (resolved producer options). */
export interface AccumulatorOptions {
  batchBytes: number;
  bufferBytes: number;
  compression: CompressionName;
  idempotent: boolean;
}

/** Callbacks into the producer and sender. */
export interface AccumulatorEvents {
  /** A batch was opened or closed, or became built: the sender may have work. */
  onWork(): void;
  /** A partition's open batch was closed (sticky partitioning moves on). */
  onBatchClosed(queue: PartitionQueue): void;
  /** Building (compressing) a closed batch failed. */
  onBuildFailed(queue: PartitionQueue, batch: ProducerBatch, error: SluiceError): void;
}

interface SpaceWaiter {
  resolve(): void;
  reject(error: SluiceError): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Rough encoded size of a record (exact for ASCII strings and bytes, give or take the varints). */
export function estimateRecordSize(record: ProducerRecord): number {
  const { key, value, headers } = record;
  if (!(value === null || typeof value === 'string' || value instanceof Uint8Array)) {
    throw new SluiceError('INVALID_RECORD', 'a record value must be a Uint8Array, a string or null');
  }
  if (!(key == null || typeof key === 'string' || key instanceof Uint8Array)) {
    throw new SluiceError('INVALID_RECORD', 'a record key must be a Uint8Array, a string, null or absent');
  }
  let size = 24 + (value === null ? 0 : value.length) + (key == null ? 0 : key.length);
  if (headers) {
    if (Array.isArray(headers)) {
      for (const h of headers as readonly { key: string; value: Uint8Array | string | null }[]) {
        size += 10 + h.key.length + (h.value == null ? 0 : h.value.length);
      }
    } else {
      for (const [k, v] of Object.entries(headers)) size += 10 + k.length + (v == null ? 0 : v.length);
    }
  }
  return size;
}

/** Per-partition batches and the shared buffer; see the module comment. */
export class RecordAccumulator {
  /** Bytes held by batches that have not completed. */
  bufferedBytes = 0;
  /** Partitions holding at least one batch, in the order the sender serves them. */
  readonly active = new Set<PartitionQueue>();
  /** Idempotence: the current producer id and epoch (-1 when not idempotent). */
  producerId = -1;
  producerEpoch = -1;
  readonly #options: AccumulatorOptions;
  readonly #events: AccumulatorEvents;
  readonly #queues = new Map<string, PartitionQueue[]>();
  #spaceWaiters: SpaceWaiter[] = [];

  constructor(options: AccumulatorOptions, events: AccumulatorEvents) {
    this.#options = options;
    this.#events = events;
  }

  /** The queue of `topic`/`partition`, created on first use. */
  queue(topic: string, partition: number): PartitionQueue {
    let queues = this.#queues.get(topic);
    if (!queues) this.#queues.set(topic, (queues = []));
    let pq = queues[partition];
    if (!pq) queues[partition] = pq = new PartitionQueue(topic, partition);
    return pq;
  }

  /** Every partition queue ever used. */
  *queues(): Generator<PartitionQueue> {
    for (const queues of this.#queues.values()) for (const pq of queues) if (pq) yield pq;
  }

  /** True when callers wait for buffer space (the sender then sends open batches without lingering). */
  get hasSpaceWaiters(): boolean {
    return this.#spaceWaiters.length > 0;
  }

  /** True when a record of `size` bytes would not fit the partition's open batch. */
  wouldRoll(pq: PartitionQueue, size: number): boolean {
    const open = pq.open;
    return open !== undefined && open.builder!.sizeInBytes + size > this.#options.batchBytes;
  }

  /**
   * Append `record` to the partition's open batch (opening or rolling one as needed) on behalf of
   * record `index` of `completion`'s call. `size` is estimateRecordSize(record).
   */
  append(
    pq: PartitionQueue,
    record: ProducerRecord,
    size: number,
    completion: Completion,
    index: number,
  ): void {
    let batch = pq.open;
    if (batch !== undefined && batch.builder!.sizeInBytes + size > this.#options.batchBytes) {
      this.close(pq);
      batch = undefined;
    }
    if (batch === undefined) batch = this.#openBatch(pq, size);
    const builder = batch.builder!;
    const before = builder.sizeInBytes;
    let delta: number;
    try {
      delta = builder.append(record);
    } catch (err) {
      // A record the builder refuses (e.g. a header value of the wrong type) must not leave an
      // empty batch behind: building it would fail.
      if (batch.recordCount === 0) pq.open = undefined;
      throw err instanceof SluiceError ? err : new SluiceError('INVALID_RECORD', (err as Error).message);
    }
    const grown = builder.sizeInBytes - before;
    batch.recordCount = delta + 1;
    batch.bufferedBytes += grown;
    this.bufferedBytes += grown;
    batch.track(completion, delta, index);
    if (builder.sizeInBytes >= this.#options.batchBytes) this.close(pq);
    else if (delta === 0) this.#events.onWork(); // the sender arms the linger timer
  }

  #openBatch(pq: PartitionQueue, recordSize: number): ProducerBatch {
    const { batchBytes, compression, idempotent } = this.#options;
    // Room for a full batch plus the builder's worst case for the last record (3 bytes per UTF-16
    // unit), so that the buffer is never regrown; a cold partition starts small.
    const expected = Math.min(batchBytes, Math.max(4096, pq.lastBatchBytes));
    const sequence = idempotent ? pq.nextSequence : -1;
    const builder = new RecordBatchBuilder({
      compression,
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      baseSequence: sequence,
      initialCapacity: Math.max(expected, recordSize) + 3 * recordSize + 128,
    });
    const batch = new ProducerBatch(
      pq.topic,
      pq.partition,
      pq.nextOrder++,
      builder,
      this.producerId,
      this.producerEpoch,
      sequence,
    );
    pq.open = batch;
    this.active.add(pq);
    return batch;
  }

  /** Close the partition's open batch: it joins the queue and is built (compressed) now. */
  close(pq: PartitionQueue): void {
    const batch = pq.open;
    if (!batch) return;
    pq.open = undefined;
    const builder = batch.builder!;
    pq.lastBatchBytes = builder.sizeInBytes;
    if (this.#options.idempotent) pq.nextSequence = addSequence(batch.baseSequence, batch.recordCount);
    pq.queue.push(batch);
    this.#events.onBatchClosed(pq);
    if (this.#options.compression === 'none') {
      batch.bytes = builder.buildSync();
      batch.builder = undefined;
      batch.state = 'ready';
      batch.stamp();
    } else {
      batch.state = 'building';
      builder.build().then(
        (bytes) => {
          if (batch.state !== 'building') return;
          batch.bytes = bytes;
          batch.builder = undefined;
          batch.state = 'ready';
          batch.stamp();
          this.#events.onWork();
        },
        (err: unknown) => {
          const error =
            err instanceof SluiceError
              ? err
              : new SluiceError('UNKNOWN_SERVER_ERROR', String(err), { cause: err });
          this.#events.onBuildFailed(pq, batch, error);
        },
      );
    }
    this.#events.onWork();
  }

  /** A batch completed or failed: give its bytes back to the buffer and wake the callers waiting for room. */
  release(batch: ProducerBatch): void {
    this.bufferedBytes -= batch.bufferedBytes;
    batch.bufferedBytes = 0;
    if (this.bufferedBytes < this.#options.bufferBytes && this.#spaceWaiters.length > 0) {
      const waiters = this.#spaceWaiters;
      this.#spaceWaiters = [];
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.resolve();
      }
    }
  }

  /** True when the buffer is full (the next record must wait). */
  get full(): boolean {
    return this.bufferedBytes >= this.#options.bufferBytes;
  }

  /** Wait until the buffer has room; BUFFER_FULL after `maxBlockMs`. */
  waitForSpace(maxBlockMs: number): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: SpaceWaiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const at = this.#spaceWaiters.indexOf(waiter);
          if (at >= 0) this.#spaceWaiters.splice(at, 1);
          reject(
            new SluiceError(
              'BUFFER_FULL',
              `no room in the producer buffer within ${maxBlockMs} ms (${this.bufferedBytes} of ${this.#options.bufferBytes} bytes held)`,
            ),
          );
        }, maxBlockMs),
      };
      this.#spaceWaiters.push(waiter);
      // The sender stops lingering while someone waits for room.
      this.#events.onWork();
    });
  }

  /** Fail every caller waiting for room (the producer is closing). */
  rejectSpaceWaiters(error: SluiceError): void {
    const waiters = this.#spaceWaiters;
    this.#spaceWaiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }
}
