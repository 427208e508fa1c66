/**
 * The public producer. Records are partitioned (explicit, murmur2 of the key, or sticky for keyless
 * records), encoded at once into their partition's open batch (record-accumulator.ts) and sent by
 * the sender (producer-sender.ts) in a deep window of `produce` requests.
 *
 * Three ways in, from convenient to fast:
 *   send(record)         one promise per record, resolving with its offset;
 *   sendBatch(records)   one promise for an array, resolving with every record's offset;
 *   sendMany(records)    one promise for any iterable (a generator may produce millions), resolving
 *                        when all are stored: no per-record promise, closure or result object.
 * All three wait for buffer space (backpressure) rather than fail; BUFFER_FULL only after maxBlockMs.
 */
import { SluiceError } from '../errors.ts';
import { type CompressionName, compressionCode, compressionCodecs } from '../protocol/kafka/record-batch.ts';
import type { HeaderValue, ProducerRecord } from '../protocol/kafka/record-batch-builder.ts';
import type { Acks } from '../protocol/wire/ops.ts';
import { Connection, type ConnectionOptions } from './connection.ts';
import { MetadataCache } from './metadata-cache.ts';
import { partitionForKey, StickyPartition } from './partitioner.ts';
import type { Completion, ProducerBatch } from './producer-batch.ts';
import { ProduceSender, toSluiceError } from './producer-sender.ts';
import { estimateRecordSize, type PartitionQueue, RecordAccumulator } from './record-accumulator.ts';
import type { ClientTransport } from './transport.ts';

/** A record to produce. Strings are sent as UTF-8. */
export interface ProducerRecordInput {
  topic: string;
  key?: Uint8Array | string | null;
  /** null is a tombstone (deletes the key in a compacted topic). */
  value: Uint8Array | string | null;
  headers?: readonly { key: string; value: HeaderValue }[] | Readonly<Record<string, HeaderValue>>;
  /** Send to this partition instead of the partitioner's choice. */
  partition?: number;
  /** Milliseconds since the epoch (default: when the record is handed to the producer). */
  timestamp?: number;
}

/** Where a record was stored. `offset` is -1 with acks 0. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
  /** The record's timestamp, or the broker's append time on LogAppendTime topics. */
  timestamp: number;
}

/** Producer settings; every field is optional. */
export interface ProducerOptions extends ConnectionOptions {
  /** Use this connection (shared with other clients, or a test transport) instead of opening one. */
  connection?: ClientTransport;
  /** -1: stored (default); 1: same on a single broker; 0: no answer, offsets unknown. */
  acks?: Acks;
  /** Codec of every batch (default 'none'; the browser build supports 'none' and 'gzip'). */
  compression?: CompressionName;
  /** A batch is sent once it holds this many bytes (default 65 536). */
  batchBytes?: number;
  /** Longest wait for a batch to fill (default 5 ms; 0: send as soon as the window has room). */
  lingerMs?: number;
  /** Bytes buffered before sends wait for room (default 32 MiB). */
  bufferBytes?: number;
  /** Longest wait for buffer room or metadata before BUFFER_FULL / the metadata error (default 60 000 ms). */
  maxBlockMs?: number;
  /** Exactly-once per partition: producer id and sequence numbers (default false; needs acks -1). */
  idempotent?: boolean;
  /** Resends of a batch after retriable errors (default: unbounded, within deliveryTimeoutMs). */
  retries?: number;
  /** First retry backoff (default 100 ms), doubling up to retryBackoffMaxMs (default 1 000 ms). */
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
  /** A batch not stored this long after it was opened fails with its last error (default 120 000 ms). */
  deliveryTimeoutMs?: number;
  /** Produce requests in flight (default 64; the connection's own limit applies too). */
  maxInFlightRequests?: number;
  /** Batch bytes in flight (default 4 MiB). */
  maxInFlightBytes?: number;
  /** Largest produce request (default 1 MiB; never above the broker's maxFrameBytes). */
  maxRequestBytes?: number;
  /** How long the broker may take to store a batch (the request's timeoutMs, default 30 000 ms). */
  produceTimeoutMs?: number;
  /** Reload topic metadata after this age (default 300 000 ms). */
  metadataMaxAgeMs?: number;
  /** Let the broker create topics on first use (default true; the broker must allow it too). */
  allowAutoTopicCreation?: boolean;
}

/** Defaults of ProducerOptions. */
export const PRODUCER_DEFAULTS = {
  acks: -1,
  compression: 'none',
  batchBytes: 64 * 1024,
  lingerMs: 5,
  bufferBytes: 32 * 1024 * 1024,
  maxBlockMs: 60_000,
  idempotent: false,
  retries: Number.MAX_SAFE_INTEGER,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1_000,
  deliveryTimeoutMs: 120_000,
  maxInFlightRequests: 64,
  maxInFlightBytes: 4 * 1024 * 1024,
  maxRequestBytes: 1024 * 1024,
  produceTimeoutMs: 30_000,
} as const;

interface TopicState {
  partitions: number;
  sticky: StickyPartition;
  queues: PartitionQueue[];
}

/** Reused for send(): the builder reads it synchronously, so one object serves every call. */
const scratch: {
  key?: ProducerRecord['key'];
  value: ProducerRecord['value'];
  headers?: ProducerRecord['headers'];
  timestamp: number;
} = {
  value: null,
  timestamp: 0,
};

/** A producer; see the module comment. */
export class Producer {
  readonly #transport: ClientTransport;
  readonly #ownsTransport: boolean;
  readonly #acc: RecordAccumulator;
  readonly #sender: ProduceSender;
  readonly #metadata: MetadataCache;
  readonly #topics = new Map<string, TopicState>();
  readonly #maxBlockMs: number;
  readonly #idempotent: boolean;
  readonly #compression: CompressionName;
  readonly #maxRequestBytes: number;
  readonly #enqueuing = new Set<Promise<unknown>>();
  #ready: Promise<void> | undefined;
  #connected = false;
  #closing = false;

  /** A producer; it connects on `connect()` or the first send. */
  constructor(options: ProducerOptions = {}) {
    const o = { ...PRODUCER_DEFAULTS, ...stripUndefined(options) };
    if (o.idempotent && o.acks !== -1) {
      throw new SluiceError('INVALID_CONFIG', 'an idempotent producer needs acks -1');
    }
    if (!(o.batchBytes > 0 && o.bufferBytes > 0 && o.maxInFlightRequests > 0 && o.maxInFlightBytes > 0)) {
      throw new SluiceError(
        'INVALID_CONFIG',
        'batchBytes, bufferBytes and the in-flight limits must be positive',
      );
    }
    compressionCode(o.compression); // UNSUPPORTED_COMPRESSION_TYPE for an unknown name
    this.#ownsTransport = options.connection === undefined;
    this.#transport = options.connection ?? new Connection(options);
    this.#maxBlockMs = o.maxBlockMs;
    this.#idempotent = o.idempotent;
    this.#compression = o.compression;
    this.#maxRequestBytes = o.maxRequestBytes;
    this.#metadata = new MetadataCache(this.#transport, {
      ...(options.metadataMaxAgeMs === undefined ? {} : { maxAgeMs: options.metadataMaxAgeMs }),
      allowAutoTopicCreation: options.allowAutoTopicCreation ?? true,
    });
    this.#acc = new RecordAccumulator(
      {
        batchBytes: Math.min(o.batchBytes, o.maxRequestBytes),
        bufferBytes: o.bufferBytes,
        compression: o.compression,
        idempotent: o.idempotent,
      },
      {
        onWork: () => this.#sender.schedule(),
        onBatchClosed: (pq) => this.#topics.get(pq.topic)?.sticky.onBatchClosed(pq.partition),
        onBuildFailed: (pq, batch, error) => this.#sender.buildFailed(pq, batch, error),
      },
    );
    this.#sender = new ProduceSender(this.#transport, this.#acc, this.#metadata, {
      acks: o.acks,
      idempotent: o.idempotent,
      lingerMs: o.lingerMs,
      maxInFlightRequests: o.maxInFlightRequests,
      maxInFlightBytes: o.maxInFlightBytes,
      maxRequestBytes: o.maxRequestBytes,
      produceTimeoutMs: o.produceTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      deliveryTimeoutMs: o.deliveryTimeoutMs,
      retries: o.retries,
      retryBackoff: { initialDelayMs: o.retryBackoffMs, maxDelayMs: o.retryBackoffMaxMs },
    });
  }

  /** Bytes buffered (not yet stored), in flight included. */
  get bufferedBytes(): number {
    return this.#acc.bufferedBytes;
  }

  /** The producer id (idempotent producers; -1 otherwise or before connecting). */
  get producerId(): number {
    return this.#acc.producerId;
  }

  /** Connect, check the codec, and take a producer id if idempotent. Sends call it by themselves. */
  connect(): Promise<void> {
    this.#ready ??= this.#connect().then(
      () => {
        this.#connected = true;
      },
      (err: unknown) => {
        this.#ready = undefined;
        throw err;
      },
    );
    return this.#ready;
  }

  async #connect(): Promise<void> {
    this.#checkOpen();
    await this.#transport.connect();
    if (this.#compression !== 'none') {
      // Fail now, not at the first batch, when this platform lacks the codec (browsers: only gzip).
      await (await compressionCodecs()).compress(compressionCode(this.#compression), new Uint8Array(1));
    }
    if (this.#idempotent) await this.#sender.initProducerId();
  }

  /** Produce one record; resolves once it is stored (acks -1/1) or sent (acks 0). */
  async send(record: ProducerRecordInput): Promise<RecordMetadata> {
    const enqueuing = this.#enqueueOne(record);
    this.#enqueuing.add(enqueuing);
    try {
      // Wrapped, so that awaiting the enqueue does not also await the acknowledgement.
      return await (await enqueuing).acknowledged;
    } finally {
      this.#enqueuing.delete(enqueuing);
    }
  }

  async #enqueueOne(record: ProducerRecordInput): Promise<{ acknowledged: Promise<RecordMetadata> }> {
    if (!this.#connected) await this.connect();
    this.#checkOpen();
    if (this.#acc.full) await this.#acc.waitForSpace(this.#maxBlockMs);
    const topic = this.#topics.get(record.topic) ?? (await this.#topicState(record.topic));
    const size = this.#sizeOf(record);
    const pq = this.#pick(topic, record, size) ?? (await this.#explicit(topic, record));
    const timestamp = record.timestamp ?? Date.now();
    const acknowledged = new Promise<RecordMetadata>((resolve, reject) => {
      const completion = new SingleSend(resolve, reject, timestamp);
      scratch.key = record.key;
      scratch.value = record.value;
      scratch.headers = record.headers;
      scratch.timestamp = timestamp;
      try {
        this.#acc.append(pq, scratch, size, completion, 0);
      } finally {
        scratch.key = scratch.headers = undefined;
        scratch.value = null;
      }
    });
    return { acknowledged };
  }

  /** Produce records and resolve with where each was stored, in the same order. */
  async sendBatch(records: readonly ProducerRecordInput[]): Promise<RecordMetadata[]> {
    const group = new GroupSend(records.length);
    await this.#track(this.#enqueueAll(records, group));
    await group.sealed();
    return group.results!;
  }

  /**
   * Produce every record of `records` (an array, or any iterable such as a generator) and resolve
   * once all are stored. The bulk path: nothing is allocated per record. Rejects with the first
   * failure, after every record it enqueued has been stored or has failed.
   */
  async sendMany(records: Iterable<ProducerRecordInput>): Promise<void> {
    const group = new GroupSend(-1);
    await this.#track(this.#enqueueAll(records, group));
    await group.sealed();
  }

  /** Keep `enqueuing` visible to flush() until it has put all its records into batches. */
  async #track(enqueuing: Promise<unknown>): Promise<void> {
    this.#enqueuing.add(enqueuing);
    try {
      await enqueuing;
    } finally {
      this.#enqueuing.delete(enqueuing);
    }
  }

  async #enqueueAll(records: Iterable<ProducerRecordInput>, group: GroupSend): Promise<void> {
    try {
      if (!this.#connected) await this.connect();
      this.#checkOpen();
      const acc = this.#acc;
      let index = 0;
      for (const record of records) {
        if (acc.full) await acc.waitForSpace(this.#maxBlockMs);
        let topic = this.#topics.get(record.topic);
        if (topic === undefined) topic = await this.#topicState(record.topic);
        const size = this.#sizeOf(record);
        const pq = this.#pick(topic, record, size) ?? (await this.#explicit(topic, record));
        if (group.timestamps) {
          const timestamp = record.timestamp ?? Date.now();
          group.timestamps[index] = timestamp;
          if (record.timestamp === undefined) {
            scratch.key = record.key;
            scratch.value = record.value;
            scratch.headers = record.headers;
            scratch.timestamp = timestamp;
            acc.append(pq, scratch, size, group, index);
            index++;
            group.pending++;
            continue;
          }
        }
        acc.append(pq, record, size, group, index);
        index++;
        group.pending++;
      }
    } catch (err) {
      group.fail(toSluiceError(err));
    } finally {
      scratch.key = scratch.headers = undefined;
      scratch.value = null;
      group.seal();
    }
  }

  /** Send everything buffered now (ignoring lingerMs) and wait until all of it is stored or failed. */
  async flush(): Promise<void> {
    // Sends still waiting for metadata or buffer room belong to this flush too.
    while (this.#enqueuing.size > 0) await Promise.allSettled([...this.#enqueuing]);
    const waits: Promise<void>[] = [];
    const wait = (batch: ProducerBatch): void => {
      waits.push(new Promise((resolve) => (batch.flushWaiters ??= []).push(resolve)));
    };
    for (const pq of this.#acc.queues()) {
      if (pq.open) {
        pq.open.flushRequested = true;
        wait(pq.open);
      }
      for (const b of pq.queue) wait(b);
      for (const b of pq.inflight) wait(b);
      for (const b of pq.retry) wait(b);
    }
    this.#sender.schedule();
    await Promise.all(waits);
  }

  /** Flush, then close the connection (if the producer opened it). Later sends fail. */
  async close(): Promise<void> {
    if (this.#closing) return;
    if (this.#connected) await this.flush();
    this.#closing = true;
    this.#sender.stop();
    this.#acc.rejectSpaceWaiters(closedError());
    if (this.#ownsTransport) await this.#transport.close();
  }

  #checkOpen(): void {
    if (this.#closing) throw closedError();
  }

  #sizeOf(record: ProducerRecordInput): number {
    const size = estimateRecordSize(record);
    if (size > this.#maxRequestBytes) {
      throw new SluiceError(
        'MESSAGE_TOO_LARGE',
        `a record of about ${size} bytes exceeds maxRequestBytes ${this.#maxRequestBytes}`,
      );
    }
    return size;
  }

  #queue(topic: TopicState, name: string, partition: number): PartitionQueue {
    return (topic.queues[partition] ??= this.#acc.queue(name, partition));
  }

  /**
   * The partition queue of a record, synchronously; undefined when an explicit partition is not in
   * the metadata (then `#explicit` reloads it).
   */
  #pick(topic: TopicState, record: ProducerRecordInput, size: number): PartitionQueue | undefined {
    const explicit = record.partition;
    if (explicit != null) {
      return Number.isInteger(explicit) && explicit >= 0 && explicit < topic.partitions
        ? this.#queue(topic, record.topic, explicit)
        : undefined;
    }
    if (record.key != null)
      return this.#queue(topic, record.topic, partitionForKey(record.key, topic.partitions));
    // Keyless (KIP-480): a record that would roll the sticky partition's batch closes it first, so
    // that the sticky partition moves on and the record starts the next partition's batch.
    let pq = this.#queue(topic, record.topic, topic.sticky.current);
    if (this.#acc.wouldRoll(pq, size)) {
      this.#acc.close(pq);
      pq = this.#queue(topic, record.topic, topic.sticky.current);
    }
    return pq;
  }

  /** The queue of an explicit partition that the cached metadata does not know (yet). */
  async #explicit(topic: TopicState, record: ProducerRecordInput): Promise<PartitionQueue> {
    const explicit = record.partition!;
    if (!Number.isInteger(explicit) || explicit < 0) {
      throw new SluiceError('INVALID_RECORD', `partition must be a non-negative integer, not ${explicit}`);
    }
    if (explicit >= topic.partitions) await this.#topicState(record.topic, true);
    if (explicit >= topic.partitions) {
      throw new SluiceError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        `topic ${record.topic} has ${topic.partitions} partitions, not ${explicit + 1}`,
      );
    }
    return this.#queue(topic, record.topic, explicit);
  }

  /** Load a topic's metadata, retrying retriable errors for up to maxBlockMs. */
  async #topicState(name: string, reload = false): Promise<TopicState> {
    const deadline = Date.now() + this.#maxBlockMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const info = await this.#metadata.load(name);
        let state = this.#topics.get(name);
        if (!state) {
          state = { partitions: info.partitions, sticky: new StickyPartition(info.partitions), queues: [] };
          this.#topics.set(name, state);
        } else if (reload || state.partitions !== info.partitions) {
          state.partitions = info.partitions;
          state.sticky.resize(info.partitions);
        }
        return state;
      } catch (err) {
        const error = toSluiceError(err);
        if (!error.retriable || Date.now() + 100 * 2 ** Math.min(attempt, 4) > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** Math.min(attempt, 4)));
      }
    }
  }
}

function closedError(): SluiceError {
  return new SluiceError('CONNECTION_CLOSED', 'the producer is closed');
}

function stripUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The completion of one send(): one record, one promise. */
class SingleSend implements Completion {
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
class GroupSend implements Completion {
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
