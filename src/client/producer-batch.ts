/**
 * One producer batch: records of one partition, encoded as they are appended into a RecordBatch v2
 * builder, then built (and compressed) once when the batch is closed. From then on the bytes never
 * change, except when an idempotent producer must take a new producer id (`restamp`): a retry
 * resends exactly the same bytes, so the broker recognises a duplicate by its sequence numbers.
 *
 * Who is waiting for the batch is kept as runs, not per record: a run is (completion, first offset
 * delta, count, index of the first record in the caller's call). A `sendMany` of 10 000 records into
 * one batch is one run; only `send()` (one promise per record by its nature) makes a run per record.
 */
import type { SluiceError } from '../errors.ts';
import { BatchField, updateCrc, writeInt16, writeInt32, writeInt64 } from '../protocol/kafka/record-batch.ts';
import type { RecordBatchBuilder } from '../protocol/kafka/record-batch-builder.ts';

/**
 * Someone waiting for records of a batch. `done` is called once per run: records
 * `[firstDelta, firstDelta + count)` of the batch, which are records `[index, index + count)` of the
 * caller's call. `baseOffset` is -1 with acks 0; `logAppendTime` is -1 unless the topic uses it.
 */
export interface Completion {
  done(
    batch: ProducerBatch,
    firstDelta: number,
    count: number,
    index: number,
    baseOffset: number,
    logAppendTime: number,
  ): void;
  failed(error: SluiceError, count: number): void;
}

/** Where a batch is in its life. */
export type BatchState = 'open' | 'building' | 'ready' | 'in-flight' | 'done';

/** A batch of records for one partition; see the module comment. */
export class ProducerBatch {
  readonly topic: string;
  readonly partition: number;
  /** Position among the partition's batches: the order they were opened, sent and must be appended. */
  readonly order: number;
  readonly createdAt: number;
  state: BatchState = 'open';
  builder: RecordBatchBuilder | undefined;
  /** The built batch, once closed and built. */
  bytes: Uint8Array | undefined;
  recordCount = 0;
  /** Bytes this batch holds in the producer's buffer (released when it completes). */
  bufferedBytes = 0;
  /** Idempotence fields the batch must carry when sent (-1 when not idempotent). */
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** The idempotence fields the builder or the bytes carry now; differ from the above after a reset. */
  stampedProducerId: number;
  stampedProducerEpoch: number;
  stampedBaseSequence: number;
  /** Send attempts so far. */
  attempts = 0;
  /** Closed early by flush() or linger, not by size. */
  flushRequested = false;
  lastError: SluiceError | undefined;
  /** Runs of waiting callers: completions[i] waits for counts[i] records from firsts[i]. */
  readonly completions: Completion[] = [];
  readonly firsts: number[] = [];
  readonly counts: number[] = [];
  readonly indexes: number[] = [];
  /** flush() calls waiting for this batch. */
  flushWaiters: (() => void)[] | undefined;

  /** An empty open batch whose builder was made with these idempotence fields. */
  constructor(
    topic: string,
    partition: number,
    order: number,
    builder: RecordBatchBuilder,
    producerId: number,
    producerEpoch: number,
    baseSequence: number,
  ) {
    this.topic = topic;
    this.partition = partition;
    this.order = order;
    this.builder = builder;
    this.producerId = this.stampedProducerId = producerId;
    this.producerEpoch = this.stampedProducerEpoch = producerEpoch;
    this.baseSequence = this.stampedBaseSequence = baseSequence;
    this.createdAt = Date.now();
  }

  /** Record that the record at `delta` belongs to `completion` (record `index` of its call). */
  track(completion: Completion, delta: number, index: number): void {
    const last = this.completions.length - 1;
    if (
      last >= 0 &&
      this.completions[last] === completion &&
      this.firsts[last]! + this.counts[last]! === delta &&
      this.indexes[last]! + this.counts[last]! === index
    ) {
      this.counts[last]!++;
      return;
    }
    this.completions.push(completion);
    this.firsts.push(delta);
    this.counts.push(1);
    this.indexes.push(index);
  }

  /** The batch was appended at `baseOffset` (or sent with acks 0: -1). */
  complete(baseOffset: number, logAppendTime: number): void {
    this.state = 'done';
    const n = this.completions.length;
    for (let i = 0; i < n; i++) {
      this.completions[i]!.done(
        this,
        this.firsts[i]!,
        this.counts[i]!,
        this.indexes[i]!,
        baseOffset,
        logAppendTime,
      );
    }
    this.#release();
  }

  /** The batch failed for good. */
  fail(error: SluiceError): void {
    this.state = 'done';
    this.lastError = error;
    const n = this.completions.length;
    for (let i = 0; i < n; i++) this.completions[i]!.failed(error, this.counts[i]!);
    this.#release();
  }

  #release(): void {
    this.builder = undefined;
    this.bytes = undefined;
    const waiters = this.flushWaiters;
    this.flushWaiters = undefined;
    if (waiters) for (const w of waiters) w();
  }

  /**
   * Once built: if the producer took a new id since the builder was made (an idempotence reset),
   * write the new producer id, epoch and base sequence into the header and fix the CRC, which
   * covers them. A no-op otherwise, so the normal path computes the CRC once.
   */
  stamp(): void {
    const bytes = this.bytes;
    if (!bytes) return;
    if (
      this.stampedProducerId === this.producerId &&
      this.stampedProducerEpoch === this.producerEpoch &&
      this.stampedBaseSequence === this.baseSequence
    ) {
      return;
    }
    writeInt64(bytes, BatchField.producerId, this.producerId);
    writeInt16(bytes, BatchField.producerEpoch, this.producerEpoch);
    writeInt32(bytes, BatchField.baseSequence, this.baseSequence);
    updateCrc(bytes, 0, bytes.length);
    this.stampedProducerId = this.producerId;
    this.stampedProducerEpoch = this.producerEpoch;
    this.stampedBaseSequence = this.baseSequence;
  }
}

/** Kafka's sequence arithmetic: sequences wrap from 2^31 − 1 to 0. */
export function addSequence(sequence: number, increment: number): number {
  const next = sequence + increment;
  return next > 0x7fffffff ? next - 0x80000000 : next;
}
