/**
 * The public consumer. It reads partitions in one of three styles:
 *   for await (const record of consumer)       one lazy ConsumerRecord at a time;
 *   for await (const batch of consumer.batches()) one ConsumerBatch (one partition) at a time;
 *   await consumer.run({ eachBatch })          a handler per batch; positions advance after it returns.
 * The batch styles are the fast ones (no promise per record); see consumer-batch.ts for the lazy
 * record access and fetcher.ts for the fetch loop.
 *
 * Which partitions: either the application says (`assign`, `seek…`: manual assignment), or the
 * consumer joins its group (`groupId` + `subscribe`) and the group's assignor decides; then each
 * partition starts from the group's committed offset and positions are committed (group-member.ts
 * runs the group protocol, group-assignment.ts the consumer's side of rebalances). Both modes share
 * the seams below: `#applyAssignment` replaces a manual assignment keeping the state of partitions
 * that stay, `#startingPoint` decides where a partition without an offset starts, and `run`
 * advances positions only after the handler returned (what a commit then commits).
 */
import { SluiceError } from '../errors.ts';
import type { RecordCursor } from '../protocol/kafka/record-batch.ts';
import { OffsetSpec } from '../protocol/wire/ops.ts';
import { resolveAssignors } from './built-in-assignors.ts';
import { Connection } from './connection.ts';
import { type ConsumerBatch, ConsumerRecord } from './consumer-batch.ts';
import { CONSUMER_DEFAULTS, type ConsumerOptions, type RunOptions } from './consumer-options.ts';
import { Fetcher, type OffsetResetPolicy, type TopicPartition } from './fetcher.ts';
import { GroupAssignment, type RebalanceListener } from './group-assignment.ts';
import type { GroupGeneration } from './group-member.ts';
import type { CommittedOffset, OffsetAndMetadata } from './offset-commits.ts';
import type { PartitionState } from './partition-state.ts';
import type { ClientTransport } from './transport.ts';

export {
  CONSUMER_DEFAULTS,
  type ConsumerOptions,
  type OffsetResetPolicy,
  type RunOptions,
  type TopicPartition,
};

/** A partition to read, and where to start: an offset, 'earliest', 'latest', or (absent) autoOffsetReset. */
export interface PartitionAssignment extends TopicPartition {
  offset?: number | 'earliest' | 'latest';
}

/** A consumer, with manual assignment or as a member of its group; see the module comment. */
export class Consumer implements AsyncIterable<ConsumerRecord> {
  readonly #transport: ClientTransport;
  readonly #ownsTransport: boolean;
  readonly #fetcher: Fetcher;
  readonly #autoOffsetReset: OffsetResetPolicy;
  readonly #group: GroupAssignment | undefined;
  /** `run` handlers in progress (a rebalance waits for them before revoking their partitions). */
  readonly #handlers = new Set<Promise<unknown>>();
  #reported: { error: unknown } | undefined;
  #fatal: SluiceError | undefined;
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
    if (options.groupId !== undefined) {
      if (options.groupId === '') throw new SluiceError('INVALID_GROUP_ID', 'groupId is empty');
      const retryBackoff = { initialDelayMs: o.retryBackoffMs, maxDelayMs: o.retryBackoffMaxMs };
      this.#group = new GroupAssignment(
        this.#transport,
        {
          groupId: options.groupId,
          groupInstanceId: options.groupInstanceId ?? null,
          sessionTimeoutMs: o.sessionTimeoutMs,
          rebalanceTimeoutMs: o.rebalanceTimeoutMs,
          heartbeatIntervalMs: o.heartbeatIntervalMs,
          metadataMaxAgeMs: o.metadataMaxAgeMs,
          requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
          assignors: resolveAssignors(o.assignors),
          retryBackoff,
        },
        {
          autoCommit: o.autoCommit,
          autoCommitIntervalMs: o.autoCommitIntervalMs,
          autoOffsetReset: o.autoOffsetReset,
          retryBackoff,
        },
        {
          fetcher: this.#fetcher,
          handlersIdle: async () => {
            while (this.#handlers.size > 0) await Promise.allSettled([...this.#handlers]);
          },
          report: (error) => {
            this.#reported ??= { error };
            this.#fetcher.notify();
          },
          fail: (error) => {
            this.#fatal = error;
            this.#fetcher.notify();
          },
        },
      );
    }
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
    if (this.#group?.member.subscribed)
      throw new SluiceError('INVALID_REQUEST', 'the consumer is subscribed: unsubscribe() before assign()');
    this.#applyAssignment(partitions);
  }

  /**
   * Join the group (`groupId`) and read the partitions its assignor gives this consumer: `topics`, or
   * every topic whose name matches `pattern` (RegExp.test, so anchor it for whole names; internal
   * topics never match; new matches are picked up every `metadataMaxAgeMs`). Replaces a previous
   * subscription. `listener` hears about every rebalance; see RebalanceListener.
   */
  subscribe(topics: readonly string[] | RegExp, listener?: RebalanceListener): void {
    this.#checkOpen();
    const group = this.#requireGroup('subscribe');
    if (!group.member.subscribed && this.#fetcher.states().length > 0)
      throw new SluiceError('INVALID_REQUEST', 'the consumer has a manual assignment: assign([]) first');
    if (!(topics instanceof RegExp) && topics.length === 0)
      throw new SluiceError('INVALID_REQUEST', 'subscribe to at least one topic (or unsubscribe())');
    group.subscribe(topics instanceof RegExp ? { pattern: topics } : { topics }, listener);
  }

  /** Leave the group: commit (auto-commit), revoke every partition, and stop reading. */
  async unsubscribe(): Promise<void> {
    if (this.#group?.member.subscribed) await this.#group.leave(false);
  }

  /** The subscribed topics (a pattern's current matches); [] when not subscribed. */
  subscription(): string[] {
    return this.#group?.member.subscribed ? this.#group.member.topics : [];
  }

  /**
   * Commit the group's offsets: `offsets` as given (metadata kept exactly), or by default the position
   * of every assigned partition that moved. A group member commits with its generation; a refusal
   * (the group moved on) rejects with CommitFailedError and the consumer rejoins. Without a
   * subscription (manual assignment) the commit is outside any generation, which the coordinator
   * accepts only while the group has no members.
   */
  async commit(offsets?: readonly OffsetAndMetadata[]): Promise<void> {
    await this.#requireGroup('commit').commit(offsets);
  }

  /** The group's committed offsets of `partitions` (default: the assigned ones); offset -1 when none. */
  async committed(partitions?: readonly TopicPartition[]): Promise<CommittedOffset[]> {
    return this.#requireGroup('committed').committed(partitions);
  }

  /** The group membership (memberId '' and generationId -1 outside a generation), or undefined without groupId. */
  groupMetadata(): GroupGeneration | undefined {
    return this.#group?.member.generation;
  }

  #requireGroup(what: string): GroupAssignment {
    if (!this.#group) throw new SluiceError('INVALID_CONFIG', `${what} needs a groupId`);
    return this.#group;
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

  /**
   * Stop: iterators end and `run` resolves; a group member commits (auto-commit), revokes its
   * partitions and leaves the group. Closes the connection if the consumer opened it. A batch whose
   * `run` handler is still busy is not waited for (close may be called from inside it): its position
   * is not committed, and the next owner reads it again.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#fetcher.notify();
    try {
      await this.#group?.leave(true);
    } finally {
      this.#fetcher.close();
      if (this.#ownsTransport) await this.#transport.close();
    }
  }

  /** The next batch, waiting for one; undefined once closed. Partition errors are thrown. */
  async #nextBatch(): Promise<ConsumerBatch | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      if (this.#fatal) throw this.#fatal;
      if (this.#reported) {
        const { error } = this.#reported;
        this.#reported = undefined;
        throw error;
      }
      const batch = this.#fetcher.take();
      if (batch) return batch;
      await this.#fetcher.waitForData();
    }
  }

  /** The state of `batch`'s partition if the batch may be handed out (no seek since it was fetched, not being revoked). */
  #current(batch: ConsumerBatch): PartitionState | undefined {
    const state = this.#fetcher.state(batch.topic, batch.partition);
    return state && state.epoch === batch.epoch && !state.revoking ? state : undefined;
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
      const handling = Promise.resolve(options.eachBatch(batch));
      this.#handlers.add(handling);
      try {
        await handling;
      } finally {
        this.#handlers.delete(handling);
      }
      // Handled: the position moves even if a revocation started meanwhile (it waited for this).
      const state = this.#fetcher.state(batch.topic, batch.partition);
      if (state && state.epoch === batch.epoch) state.position = batch.lastOffset + 1;
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
