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
import type { ProducerRecord } from '../protocol/kafka/record-batch-builder.ts';
import { Connection } from './connection.ts';
import { MetadataCache } from './metadata-cache.ts';
import { partitionForKey, StickyPartition } from './partitioner.ts';
import type { ProducerBatch } from './producer-batch.ts';
import { GroupSend, SingleSend } from './producer-completions.ts';
import {
  PRODUCER_DEFAULTS,
  type ProducerOptions,
  type ProducerRecordInput,
  type RecordMetadata,
} from './producer-options.ts';
import { ProduceSender } from './producer-sender.ts';
import { estimateRecordSize, type PartitionQueue, RecordAccumulator } from './record-accumulator.ts';
import { toSluiceError } from './responses.ts';
import type { ClientTransport } from './transport.ts';

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

export { PRODUCER_DEFAULTS, type ProducerOptions, type ProducerRecordInput, type RecordMetadata };

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
  send(record: ProducerRecordInput): Promise<RecordMetadata> {
    // Fast path: connected, room in the buffer, metadata known: append now, one promise per record.
    const topic =
      this.#connected && !this.#closing && !this.#acc.full ? this.#topics.get(record.topic) : undefined;
    if (topic !== undefined) {
      try {
        const size = this.#sizeOf(record);
        const pq = this.#pick(topic, record, size);
        if (pq) return this.#appendOne(pq, record, size);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.#sendSlowly(record);
  }

  /** send() that must wait (connection, metadata or buffer room), visible to flush() meanwhile. */
  async #sendSlowly(record: ProducerRecordInput): Promise<RecordMetadata> {
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
    return { acknowledged: this.#appendOne(pq, record, size) };
  }

  #appendOne(pq: PartitionQueue, record: ProducerRecordInput, size: number): Promise<RecordMetadata> {
    const timestamp = record.timestamp ?? Date.now();
    return new Promise<RecordMetadata>((resolve, reject) => {
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
