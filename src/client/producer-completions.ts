/**
 * How the producer's callers learn about their records: `SingleSend` settles the promise of one
 * send(); `GroupSend` counts down the records of a sendMany() or sendBatch() (collecting per-record
 * results only for sendBatch) and settles once all of them are stored or failed. Batches call them
 * once per run of consecutive records (producer-batch.ts), not once per record.
 */
import type { SluiceError } from '../errors.ts';
import type { Completion, ProducerBatch } from './producer-batch.ts';
import type { RecordMetadata } from './producer-options.ts';

/** The completion of one send(): one record, one promise. */
export class SingleSend implements Completion {
  readonly #resolve: (metadata: RecordMetadata) => void;
  readonly #reject: (error: SluiceError) => void;
  readonly #timestamp: number;

  constructor(
    resolve: (metadata: RecordMetadata) => void,
    reject: (error: SluiceError) => void,
    timestamp: number,
  ) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#timestamp = timestamp;
  }

  done(
    batch: ProducerBatch,
    firstDelta: number,
    _count: number,
    _index: number,
    baseOffset: number,
    appendTime: number,
  ): void {
    this.#resolve({
      topic: batch.topic,
      partition: batch.partition,
      offset: baseOffset < 0 ? -1 : baseOffset + firstDelta,
      timestamp: appendTime >= 0 ? appendTime : this.#timestamp,
    });
  }

  failed(error: SluiceError): void {
    this.#reject(error);
  }
}

/** The completion of a sendMany() (no results) or sendBatch() (`size` results). */
export class GroupSend implements Completion {
  pending = 0;
  readonly results: RecordMetadata[] | undefined;
  readonly timestamps: number[] | undefined;
  #error: SluiceError | undefined;
  #sealed = false;
  #settle: (() => void) | undefined;

  constructor(size: number) {
    if (size >= 0) {
      this.results = new Array<RecordMetadata>(size);
      this.timestamps = new Array<number>(size);
    }
  }

  done(
    batch: ProducerBatch,
    firstDelta: number,
    count: number,
    index: number,
    baseOffset: number,
    appendTime: number,
  ): void {
    const results = this.results;
    if (results) {
      for (let i = 0; i < count; i++) {
        results[index + i] = {
          topic: batch.topic,
          partition: batch.partition,
          offset: baseOffset < 0 ? -1 : baseOffset + firstDelta + i,
          timestamp: appendTime >= 0 ? appendTime : this.timestamps![index + i]!,
        };
      }
    }
    this.pending -= count;
    this.#check();
  }

  failed(error: SluiceError, count: number): void {
    this.#error ??= error;
    this.pending -= count;
    this.#check();
  }

  fail(error: SluiceError): void {
    this.#error ??= error;
  }

  seal(): void {
    this.#sealed = true;
  }

  /** Resolves when every enqueued record is settled; rejects with the first error. */
  sealed(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#settle = () => (this.#error ? reject(this.#error) : resolve());
      this.#check();
    });
  }

  #check(): void {
    if (this.#sealed && this.pending === 0 && this.#settle) {
      const settle = this.#settle;
      this.#settle = undefined;
      settle();
    }
  }
}
