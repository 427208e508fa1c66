/**
 * The consumer's fetch loop: keeps up to `maxFetchesInFlight` long-poll `fetch` requests in flight,
 * buffers what they return per partition, and hands batches out in turn across partitions.
 *
 * Depth: a partition has at most one fetch in flight (the next offset is only known from the answer),
 * so several fetches in flight means the assigned partitions are spread over several requests
 * (DESIGN.md: 1 in flight 2.1M records/s, 4 in flight 3.4M), and each partition's next fetch is sent
 * as soon as its answer arrives, while the application is still busy with the records: fetching runs
 * one batch-load ahead of consumption, bounded per partition by `maxPartitionBytes` and in total by
 * `maxBufferedBytes`.
 *
 * Offsets: `position` is the next offset to hand to the application; `fetchOffset` (≥ position) is
 * the next offset to fetch. A seek bumps the partition's `epoch`, which discards buffered batches and
 * the answer of any fetch still in flight for the old position.
 */
import { SluiceError } from '../errors.ts';
import { type FetchPartitionResponse, type FetchResponse, OffsetSpec } from '../protocol/wire/ops.ts';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import type { ConsumerBatch } from './consumer-batch.ts';
import { PartitionState, takeFetched, tpKey } from './partition-state.ts';
import { findPartition, groupByTopic, toSluiceError } from './responses.ts';
import type { ClientTransport } from './transport.ts';

/** Where to start when a partition has no valid position. */
export type OffsetResetPolicy = 'earliest' | 'latest' | 'none';

/** Resolved fetch settings (see ConsumerOptions). */
export interface FetcherOptions {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  maxPartitionBytes: number;
  maxFetchesInFlight: number;
  maxBufferedBytes: number;
  autoOffsetReset: OffsetResetPolicy;
  checkCrcs: boolean;
  requestTimeoutMs: number;
  retryBackoff: BackoffOptions;
}

/** A topic and partition. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Fetch loop and per-partition buffers; see the module comment. */
export class Fetcher {
  readonly #transport: ClientTransport;
  readonly #options: FetcherOptions;
  readonly #states = new Map<string, PartitionState>();
  #order: PartitionState[] = [];
  #next = 0;
  #rotation = 0;
  #inFlight = 0;
  #bufferedBytes = 0;
  #waiters: (() => void)[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #epochs = 0;

  constructor(transport: ClientTransport, options: FetcherOptions) {
    this.#transport = transport;
    this.#options = options;
  }

  /** Fetch requests in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The state of an assigned partition. */
  state(topic: string, partition: number): PartitionState | undefined {
    return this.#states.get(tpKey(topic, partition));
  }

  /** Every assigned partition. */
  states(): readonly PartitionState[] {
    return this.#order;
  }

  /** Add a partition (no position yet: the caller seeks or resets it). */
  add(topic: string, partition: number): PartitionState {
    const key = tpKey(topic, partition);
    let state = this.#states.get(key);
    if (!state) {
      state = new PartitionState(topic, partition, this.#options.maxPartitionBytes);
      state.epoch = ++this.#epochs;
      this.#states.set(key, state);
      this.#order.push(state);
    }
    return state;
  }

  /** Drop a partition: its buffer and any answer still in flight are discarded. */
  remove(state: PartitionState): void {
    this.#discard(state);
    this.#states.delete(tpKey(state.topic, state.partition));
    this.#order = this.#order.filter((s) => s !== state);
  }

  /** Stop: waiters wake up (and see the end), answers still in flight are ignored. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#notify();
  }

  /** Move a partition to `offset`; buffered and in-flight data for the old position is dropped. */
  seek(state: PartitionState, offset: number): void {
    this.#discard(state);
    state.position = state.fetchOffset = offset;
    this.#notify();
    this.pump();
  }

  /**
   * Look up offsets with `listOffsets` and seek to them: `spec` is OffsetSpec.earliest/latest or a
   * timestamp (no record at or after it: the end). Positions are unknown until the answer arrives.
   */
  async resolve(states: readonly PartitionState[], spec: number): Promise<void> {
    for (const s of states) {
      this.#discard(s);
      s.position = undefined;
    }
    const epochs = states.map((s) => s.epoch);
    let offsets = await this.#listOffsets(states, spec);
    if (spec >= 0 && offsets.some((o) => o < 0)) {
      const latest = await this.#listOffsets(states, OffsetSpec.latest);
      offsets = offsets.map((o, i) => (o < 0 ? latest[i]! : o));
    }
    states.forEach((s, i) => {
      if (s.epoch !== epochs[i]) return; // sought elsewhere meanwhile
      s.position = s.fetchOffset = offsets[i]!;
    });
    this.#notify();
    this.pump();
  }

  async #listOffsets(states: readonly PartitionState[], timestamp: number): Promise<number[]> {
    const topics = groupByTopic(states, (s) => ({ partition: s.partition, timestamp }));
    const response = await this.#transport.request('listOffsets', { topics });
    return states.map((s) => {
      const part = response.topics
        .find((t) => t.topic === s.topic)
        ?.partitions.find((p) => p.partition === s.partition);
      if (!part)
        throw new SluiceError('UNKNOWN_SERVER_ERROR', `listOffsets left out ${s.topic}-${s.partition}`);
      if (part.error) throw SluiceError.from(part.error);
      return part.offset;
    });
  }

  /** Reset a partition by the auto-offset-reset policy (retrying retriable failures). */
  reset(state: PartitionState, policy: OffsetResetPolicy = this.#options.autoOffsetReset): void {
    if (policy === 'none') {
      this.#discard(state);
      state.error = new SluiceError(
        'OFFSET_OUT_OF_RANGE',
        `${state.topic}-${state.partition} has no valid position and autoOffsetReset is 'none': seek first`,
      );
      this.#notify();
      return;
    }
    const resolving = this.resolve([state], policy === 'earliest' ? OffsetSpec.earliest : OffsetSpec.latest);
    const epoch = state.epoch; // resolve() discarded (and so re-numbered) the partition synchronously
    resolving.catch((err: unknown) => {
      if (state.epoch !== epoch || this.#closed) return;
      const error = toSluiceError(err);
      if (!error.retriable) {
        state.error = error;
        this.#notify();
        return;
      }
      this.#retryLater(state, () => this.reset(state, policy));
    });
  }

  #retryLater(state: PartitionState, action: () => void): void {
    const delay = backoffDelay(this.#options.retryBackoff, state.failures++);
    const epoch = state.epoch;
    setTimeout(() => {
      if (!this.#closed && state.epoch === epoch) action();
    }, delay);
  }

  #discard(state: PartitionState): void {
    state.epoch = ++this.#epochs;
    state.inFlight = false;
    state.error = undefined;
    state.retryAt = 0;
    this.#bufferedBytes -= state.bufferedBytes;
    state.bufferedBytes = 0;
    state.buffered.length = 0;
  }

  /**
   * The next batch to hand out (round robin over unpaused partitions, each partition in order), or
   * undefined. A partition's error is thrown once, then cleared.
   */
  take(): ConsumerBatch | undefined {
    const order = this.#order;
    const n = order.length;
    for (let i = 0; i < n; i++) {
      const at = (this.#next + i) % n;
      const state = order[at]!;
      if (state.paused || state.revoking) continue;
      if (state.error) {
        const error = state.error;
        state.error = undefined;
        this.#next = (at + 1) % n;
        throw error;
      }
      const batch = state.buffered[0];
      if (!batch) continue;
      if (!batch.loaded && !batch.error) continue; // decompressing; load() completion notifies
      state.buffered.shift();
      state.bufferedBytes -= batch.bytes.length;
      this.#bufferedBytes -= batch.bytes.length;
      this.#next = (at + 1) % n;
      this.pump();
      if (batch.error) {
        // The batch cannot be read; the application hears about it once, then reading moves on.
        state.position = batch.lastOffset + 1;
        throw batch.error;
      }
      return batch;
    }
    return undefined;
  }

  /** Resolves at the next change (data, error, seek, resume, close). */
  waitForData(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Wake everyone waiting for data. */
  notify(): void {
    this.#notify();
  }

  #notify(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Send fetches for the partitions that need one, spread over the free in-flight slots. */
  pump(): void {
    if (this.#closed) return;
    const { maxFetchesInFlight, maxBufferedBytes, maxPartitionBytes } = this.#options;
    const free = maxFetchesInFlight - this.#inFlight;
    if (free <= 0 || this.#bufferedBytes >= maxBufferedBytes) return;
    const now = Date.now();
    let wakeAt = Number.POSITIVE_INFINITY;
    const ready: PartitionState[] = [];
    const order = this.#order;
    const n = order.length;
    // Rotate the start so that every partition is sometimes first (the broker always returns the
    // first batch of the first partition with data whole, however large).
    const start = n > 0 ? this.#rotation++ % n : 0;
    for (let i = 0; i < n; i++) {
      const s = order[(start + i) % n]!;
      if (s.paused || s.revoking || s.inFlight || s.position === undefined || s.error) continue;
      if (s.bufferedBytes >= maxPartitionBytes) continue;
      if (s.retryAt > now) {
        wakeAt = Math.min(wakeAt, s.retryAt);
        continue;
      }
      ready.push(s);
    }
    if (wakeAt !== Number.POSITIVE_INFINITY && this.#timer === undefined) {
      this.#timer = setTimeout(
        () => {
          this.#timer = undefined;
          this.pump();
        },
        Math.max(0, wakeAt - now),
      );
    }
    if (ready.length === 0) return;
    const per = Math.ceil(ready.length / free);
    for (let i = 0; i < ready.length; i += per) this.#fetch(ready.slice(i, i + per));
  }

  #fetch(states: PartitionState[]): void {
    const { maxWaitMs, minBytes, maxBytes, requestTimeoutMs } = this.#options;
    const epochs = states.map((s) => s.epoch);
    const offsets = states.map((s) => s.fetchOffset);
    for (const s of states) s.inFlight = true;
    const topics = groupByTopic(states, (s) => ({
      partition: s.partition,
      offset: s.fetchOffset,
      maxBytes: s.fetchMaxBytes,
    }));
    this.#inFlight++;
    this.#transport
      .request(
        'fetch',
        { maxWaitMs, minBytes, maxBytes, topics },
        { timeoutMs: maxWaitMs + requestTimeoutMs },
      )
      .then(
        (response) => this.#fetched(states, epochs, offsets, response, undefined),
        (err: unknown) => this.#fetched(states, epochs, offsets, undefined, toSluiceError(err)),
      );
  }

  #fetched(
    states: PartitionState[],
    epochs: number[],
    offsets: number[],
    response: FetchResponse | undefined,
    error: SluiceError | undefined,
  ): void {
    this.#inFlight--;
    if (this.#closed) return;
    for (let i = 0; i < states.length; i++) {
      const s = states[i]!;
      if (s.epoch !== epochs[i] || s.fetchOffset !== offsets[i]) continue; // sought meanwhile
      s.inFlight = false;
      const part = error ? undefined : findPartition(response!, s.topic, s.partition);
      const partError = error ?? (part?.error ? SluiceError.from(part.error) : undefined);
      if (partError) this.#partitionFailed(s, partError);
      else if (part) this.#partitionFetched(s, part);
    }
    this.pump();
  }

  #partitionFailed(s: PartitionState, error: SluiceError): void {
    if (error.code === 'OFFSET_OUT_OF_RANGE') {
      this.reset(s);
      return;
    }
    if (error.retriable) {
      // Broker restart, unknown (not yet created) topic, timeout: back off and fetch again.
      s.retryAt = Date.now() + backoffDelay(this.#options.retryBackoff, s.failures++);
      return;
    }
    s.error = error;
    this.#notify();
  }

  #partitionFetched(s: PartitionState, part: FetchPartitionResponse): void {
    const before = s.bufferedBytes;
    const changed = takeFetched(s, part, this.#options.checkCrcs, this.#options.maxBytes, this.#wake);
    this.#bufferedBytes += s.bufferedBytes - before;
    if (changed) this.#notify();
  }

  readonly #wake = (): void => this.#notify();
}
