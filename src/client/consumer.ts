/**
 * The public consumer, with manual assignment: the application says which partitions to read and
 * from where (`assign`, `seek…`), and reads them in one of three styles:
 *   for await (const record of consumer)       one lazy ConsumerRecord at a time;
 *   for await (const batch of consumer.batches()) one ConsumerBatch (one partition) at a time;
 *   await consumer.run({ eachBatch })          a handler per batch; positions advance after it returns.
 * The batch styles are the fast ones (no promise per record); see consumer-batch.ts for the lazy
 * record access and fetcher.ts for the fetch loop.
 *
 * Seam for consumer groups (a later issue): a group member is told its partitions by the group
 * coordinator instead of calling `assign`, starts each from its group's committed offset instead of
 * `autoOffsetReset`, and commits `position()`s. The pieces are in place: `#applyAssignment` replaces
 * the assignment keeping the state of partitions that stay, `#startingPoint` is the single place that
 * decides where a newly assigned partition starts, and `run` advances positions only after the
 * handler returned (what an auto-commit would then commit).
 */
import { SluiceError } from '../errors.ts';
import type { RecordCursor } from '../protocol/kafka/record-batch.ts';
import { OffsetSpec } from '../protocol/wire/ops.ts';
import { Connection, type ConnectionOptions } from './connection.ts';
import { type ConsumerBatch, ConsumerRecord } from './consumer-batch.ts';
import { Fetcher, type OffsetResetPolicy, type TopicPartition } from './fetcher.ts';
import type { PartitionState } from './partition-state.ts';
import type { ClientTransport } from './transport.ts';

export type { OffsetResetPolicy, TopicPartition };

/** A partition to read, and where to start: an offset, 'earliest', 'latest', or (absent) autoOffsetReset. */
export interface PartitionAssignment extends TopicPartition {
  offset?: number | 'earliest' | 'latest';
}

/** Consumer settings; every field is optional. */
export interface ConsumerOptions extends ConnectionOptions {
  /** Use this connection (shared, or a test transport) instead of opening one. */
  connection?: ClientTransport;
  /** Where to start without a valid position: 'earliest', 'latest' (default, as Kafka) or 'none' (an error). */
  autoOffsetReset?: OffsetResetPolicy;
  /** Longest time the broker holds a fetch waiting for data (default 500 ms). */
  maxWaitMs?: number;
  /** Bytes a fetch waits for before answering (default 1). */
  minBytes?: number;
  /** Most bytes per fetch answer (default 50 MiB). */
  maxBytes?: number;
  /** Most bytes per partition per fetch, and the per-partition read-ahead (default 1 MiB). */
  maxPartitionBytes?: number;
  /** Fetch requests in flight, each for a share of the partitions (default 4). */
  maxFetchesInFlight?: number;
  /** Bytes fetched but not yet handed out, in total, before fetching pauses (default 64 MiB). */
  maxBufferedBytes?: number;
  /** Check every batch's CRC-32C (default true). */
  checkCrcs?: boolean;
  /** Backoff after a failed fetch: first delay (default 100 ms), doubling up to retryBackoffMaxMs (default 1 000 ms). */
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
}

/** Defaults of ConsumerOptions. */
export const CONSUMER_DEFAULTS = {
  autoOffsetReset: 'latest',
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 50 * 1024 * 1024,
  maxPartitionBytes: 1024 * 1024,
  maxFetchesInFlight: 4,
  maxBufferedBytes: 64 * 1024 * 1024,
  checkCrcs: true,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1_000,
} as const;

/** Handlers for `run`. */
export interface RunOptions {
  /** Called for each batch, one at a time; the partition's position advances when it resolves. */
  eachBatch(batch: ConsumerBatch): Promise<void> | void;
}

/** A consumer with manual assignment; see the module comment. */
export class Consumer implements AsyncIterable<ConsumerRecord> {
  readonly #transport: ClientTransport;
  readonly #ownsTransport: boolean;
  readonly #fetcher: Fetcher;
  readonly #autoOffsetReset: OffsetResetPolicy;
  #closed = false;

  /** A consumer; it connects on `connect()` or when it first needs the broker. */
  constructor(options: ConsumerOptions = {}) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    const o = { ...CONSUMER_DEFAULTS, ...defined } as typeof CONSUMER_DEFAULTS & ConsumerOptions;
    this.#ownsTransport = options.connection === undefined;
    this.#transport = options.connection ?? new Connection(options);
    this.#autoOffsetReset = o.autoOffsetReset;
    this.#fetcher = new Fetcher(this.#transport, {
      maxWaitMs: o.maxWaitMs,
      minBytes: o.minBytes,
      maxBytes: o.maxBytes,
      maxPartitionBytes: o.maxPartitionBytes,
      maxFetchesInFlight: Math.max(1, o.maxFetchesInFlight),
      maxBufferedBytes: o.maxBufferedBytes,
      autoOffsetReset: o.autoOffsetReset,
      checkCrcs: o.checkCrcs,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      retryBackoff: { initialDelayMs: o.retryBackoffMs, maxDelayMs: o.retryBackoffMaxMs },
    });
  }

  /** Connect now (optional: the consumer connects when it first needs to). */
  connect(): Promise<void> {
    return this.#transport.connect();
  }

  /**
   * Read exactly these partitions (replacing the previous assignment). A partition that stays keeps
   * its position unless an offset is given; a new one starts at its offset, or by autoOffsetReset.
   */
  assign(partitions: readonly PartitionAssignment[]): void {
    this.#checkOpen();
    this.#applyAssignment(partitions);
  }

  /** The assigned partitions. */
  assignment(): TopicPartition[] {
    return this.#fetcher.states().map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  #applyAssignment(partitions: readonly PartitionAssignment[]): void {
    const fetcher = this.#fetcher;
    const wanted = new Set(partitions.map((p) => `${p.topic}\u0000${p.partition}`));
    for (const s of [...fetcher.states()]) {
      if (!wanted.has(`${s.topic}\u0000${s.partition}`)) fetcher.remove(s);
    }
    for (const p of partitions) {
      if (!Number.isInteger(p.partition) || p.partition < 0) {
        throw new SluiceError('INVALID_REQUEST', `invalid partition ${p.partition} of ${p.topic}`);
      }
      const existing = fetcher.state(p.topic, p.partition);
      if (existing && p.offset === undefined) continue;
      this.#start(fetcher.add(p.topic, p.partition), p.offset ?? this.#startingPoint(p));
    }
    fetcher.notify();
    fetcher.pump();
  }

  /** Where a newly assigned partition without an offset starts (groups: the committed offset). */
  #startingPoint(_tp: TopicPartition): 'earliest' | 'latest' | 'none' {
    return this.#autoOffsetReset;
  }

  #start(state: PartitionState, from: number | 'earliest' | 'latest' | 'none'): void {
    if (typeof from === 'number') {
      if (!Number.isInteger(from) || from < 0)
        throw new SluiceError('INVALID_REQUEST', `invalid offset ${from}`);
      this.#fetcher.seek(state, from);
    } else {
      this.#fetcher.reset(state, from);
    }
  }

  /** Continue `tp` from `offset` (the next record read is the one at `offset`). */
  seek(tp: TopicPartition, offset: number): void {
    this.#start(this.#assigned(tp), offset);
  }

  /** Continue the partitions (default: all assigned) from their first offset. */
  seekToBeginning(tps?: readonly TopicPartition[]): Promise<void> {
    return this.#fetcher.resolve(this.#states(tps), OffsetSpec.earliest);
  }

  /** Continue the partitions (default: all assigned) from their end: only new records are read. */
  seekToEnd(tps?: readonly TopicPartition[]): Promise<void> {
    return this.#fetcher.resolve(this.#states(tps), OffsetSpec.latest);
  }

  /** Continue from the first record whose timestamp is ≥ `timestamp` (the end if there is none). */
  seekToTimestamp(tp: TopicPartition | readonly TopicPartition[], timestamp: number): Promise<void> {
    if (!(Number.isFinite(timestamp) && timestamp >= 0)) {
      return Promise.reject(new SluiceError('INVALID_REQUEST', `invalid timestamp ${timestamp}`));
    }
    return this.#fetcher.resolve(this.#states(Array.isArray(tp) ? tp : [tp as TopicPartition]), timestamp);
  }

  /** The offset of the next record to be read from `tp` (undefined while a seek is being resolved). */
  position(tp: TopicPartition): number | undefined {
    return this.#assigned(tp).position;
  }

  /** The high watermark last seen for `tp` (-1 before its first fetch). */
  highWatermark(tp: TopicPartition): number {
    return this.#assigned(tp).highWatermark;
  }

  /** Stop handing out (and fetching) records of these partitions; buffered records wait for resume. */
  pause(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.#assigned(tp).paused = true;
  }

  /** Undo `pause`. */
  resume(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.#assigned(tp).paused = false;
    this.#fetcher.notify();
    this.#fetcher.pump();
  }

  /** The paused partitions. */
  paused(): TopicPartition[] {
    return this.#fetcher
      .states()
      .filter((s) => s.paused)
      .map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  /** Stop fetching; iterators end, `run` resolves. Closes the connection if the consumer opened it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#fetcher.close();
    if (this.#ownsTransport) await this.#transport.close();
  }

  /** The next batch, waiting for one; undefined once closed. Partition errors are thrown. */
  async #nextBatch(): Promise<ConsumerBatch | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      const batch = this.#fetcher.take();
      if (batch) return batch;
      await this.#fetcher.waitForData();
    }
  }

  /** The state of `batch`'s partition if the batch is still current (no seek since it was fetched). */
  #current(batch: ConsumerBatch): PartitionState | undefined {
    const state = this.#fetcher.state(batch.topic, batch.partition);
    return state && state.epoch === batch.epoch ? state : undefined;
  }

  /** Iterate over batches (one partition each); the position moves past a batch when it is handed out. */
  async *batches(): AsyncGenerator<ConsumerBatch, void, undefined> {
    for (;;) {
      const batch = await this.#nextBatch();
      if (!batch) return;
      const state = this.#current(batch);
      if (!state) continue;
      state.position = batch.lastOffset + 1;
      yield batch;
    }
  }

  /**
   * Iterate over records, one lazy ConsumerRecord at a time (convenient; batches() is faster).
   * Hand-written rather than an async generator: while records are buffered, `next()` answers with
   * an already resolved promise, which costs a fraction of a generator's suspend and resume.
   */
  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    let batch: ConsumerBatch | undefined;
    let cursor: RecordCursor | undefined;
    const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
    /** The next record of the batch in hand, or undefined when it is used up or stale. */
    const fromBatch = (): IteratorYieldResult<ConsumerRecord> | undefined => {
      if (!batch || !cursor) return undefined;
      const state = this.#current(batch);
      if (!state || this.#closed) return undefined; // sought (or closed) while the application held it
      if (cursor.next()) {
        state.position = cursor.offset + 1;
        return { done: false, value: new ConsumerRecord(batch.source, cursor) };
      }
      state.position = Math.max(state.position ?? 0, batch.lastOffset + 1);
      return undefined;
    };
    const slowly = async (): Promise<IteratorResult<ConsumerRecord>> => {
      for (;;) {
        const next = fromBatch();
        if (next) return next;
        batch = cursor = undefined;
        const b = await this.#nextBatch();
        if (!b) return done;
        batch = b;
        cursor = b.cursor();
      }
    };
    return {
      next: () => {
        const next = fromBatch();
        return next ? Promise.resolve(next) : slowly();
      },
      return: () => {
        batch = cursor = undefined;
        return Promise.resolve(done);
      },
    };
  }

  /**
   * Call `eachBatch` for every batch until the consumer is closed. Resolves on close; rejects (and
   * stops) if a handler throws, leaving that partition's position at the failed batch.
   */
  async run(options: RunOptions): Promise<void> {
    for (;;) {
      const batch = await this.#nextBatch();
      if (!batch) return;
      if (!this.#current(batch)) continue;
      await options.eachBatch(batch);
      const state = this.#current(batch);
      if (state) state.position = batch.lastOffset + 1;
    }
  }

  #states(tps: readonly TopicPartition[] | undefined): PartitionState[] {
    return tps ? tps.map((tp) => this.#assigned(tp)) : [...this.#fetcher.states()];
  }

  #assigned(tp: TopicPartition): PartitionState {
    const state = this.#fetcher.state(tp.topic, tp.partition);
    if (!state) throw new SluiceError('INVALID_REQUEST', `${tp.topic}-${tp.partition} is not assigned`);
    return state;
  }

  #checkOpen(): void {
    if (this.#closed) throw new SluiceError('CONNECTION_CLOSED', 'the consumer is closed');
  }
}
