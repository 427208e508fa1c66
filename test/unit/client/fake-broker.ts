/**
 * An in-process fake broker behind the ClientTransport interface, for unit tests of the client's
 * logic (batching, windows, retries, idempotence, fetch scheduling) without sockets or timing noise.
 *
 * It keeps real logs of RecordBatch v2 bytes per partition, assigns offsets, checks CRCs, and dedupes
 * idempotent batches like the real broker (last 5 batches per producer, OUT_OF_ORDER on a gap).
 * Tests steer it: `hold()` parks every produce answer until `release()`, `faults` fails chosen
 * batches, `disconnect()` fails everything in flight with CONNECTION_CLOSED (what a broker restart
 * does), and `requests` records every request.
 */

import type { ClientTransport, RequestOptions } from '../../../src/client/transport.ts';
import { SluiceError } from '../../../src/errors.ts';
import {
  checkBatch,
  decodeRecordBatch,
  readBatchHeader,
  setBaseOffset,
} from '../../../src/protocol/kafka/record-batch.ts';
import type {
  FetchRequest,
  HelloResponse,
  OpBody,
  OpName,
  OpResponse,
  ProducePartitionResponse,
  ProduceRequest,
} from '../../../src/protocol/wire/ops.ts';

interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  bytes: Uint8Array;
  producerId: number;
  firstSeq: number;
  lastSeq: number;
  maxTimestamp: number;
}

interface FakePartition {
  batches: StoredBatch[];
  nextOffset: number;
  producers: Map<number, { epoch: number; recent: StoredBatch[] }>;
}

/** A fault injected for the next produce of a partition: fail it with `code` (`times` times). */
export interface Fault {
  topic: string;
  partition: number;
  code: string;
  /** Also store the batch before answering with the error (a lost answer). */
  store?: boolean;
  times?: number;
}

type Pending = { resolve(value: unknown): void; reject(error: unknown): void };

export class FakeBroker implements ClientTransport {
  readonly topics = new Map<string, FakePartition[]>();
  readonly requests: { op: OpName; body: unknown }[] = [];
  readonly faults: Fault[] = [];
  serverInfo: HelloResponse | undefined = {
    protocolVersion: 1,
    server: 'sluice',
    serverVersion: 'fake',
    nodeId: 0,
    maxFrameBytes: 16 * 1024 * 1024,
    maxInFlight: 1024,
  };
  autoCreatePartitions = 1;
  nextProducerId = 1000;
  /** Most produce requests seen in flight at once. */
  maxProduceInFlight = 0;
  #produceInFlight = 0;
  #held: (() => void)[] | undefined;
  #pending = new Set<Pending>();
  #fetchWaiters: (() => void)[] = [];

  createTopic(name: string, partitions: number): void {
    this.topics.set(
      name,
      Array.from({ length: partitions }, () => ({ batches: [], nextOffset: 0, producers: new Map() })),
    );
  }

  /** Every record stored in a partition, in offset order, decoded eagerly. */
  stored(topic: string, partition: number): StoredBatch[] {
    return this.topics.get(topic)?.[partition]?.batches ?? [];
  }

  /** Park produce answers until release(). */
  hold(): void {
    this.#held ??= [];
  }

  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const answer of held) answer();
  }

  get heldCount(): number {
    return this.#held?.length ?? 0;
  }

  /** Fail every request in flight with CONNECTION_CLOSED (held produce answers are lost). */
  disconnect(): void {
    this.#held = this.#held ? [] : undefined;
    for (const p of this.#pending) p.reject(new SluiceError('CONNECTION_CLOSED', 'fake disconnect'));
    this.#pending.clear();
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.disconnect();
    return Promise.resolve();
  }

  count(op: OpName): number {
    return this.requests.filter((r) => r.op === op).length;
  }

  send<K extends OpName>(op: K, body: OpBody<K>): Promise<void> {
    this.requests.push({ op, body });
    if (op === 'produce') this.#produce(body as ProduceRequest);
    return Promise.resolve();
  }

  request<K extends OpName>(op: K, body: OpBody<K>, _options?: RequestOptions): Promise<OpResponse<K>> {
    this.requests.push({ op, body });
    return new Promise<OpResponse<K>>((resolve, reject) => {
      const pending: Pending = { resolve: resolve as (v: unknown) => void, reject };
      this.#pending.add(pending);
      const answer = (value: unknown, error?: unknown): void => {
        if (!this.#pending.delete(pending)) return; // lost to a disconnect
        if (error) reject(error);
        else resolve(value as OpResponse<K>);
      };
      // Answer asynchronously, like a real transport.
      queueMicrotask(() => {
        try {
          this.#handle(op, body, answer);
        } catch (err) {
          answer(undefined, err);
        }
      });
    });
  }

  #handle(op: OpName, body: unknown, answer: (value: unknown, error?: unknown) => void): void {
    switch (op) {
      case 'metadata': {
        const names = (body as { topics?: string[] | null }).topics ?? [...this.topics.keys()];
        const topics = names.map((name) => {
          if (!this.topics.has(name) && this.autoCreatePartitions > 0)
            this.createTopic(name, this.autoCreatePartitions);
          const parts = this.topics.get(name);
          return parts
            ? {
                name,
                topicId: name,
                isInternal: false,
                partitions: parts.map((_, partition) => ({
                  partition,
                  leader: 0,
                  leaderEpoch: 0,
                  replicas: [0],
                  isr: [0],
                })),
              }
            : {
                name,
                topicId: '',
                isInternal: false,
                partitions: [],
                error: wire('UNKNOWN_TOPIC_OR_PARTITION'),
              };
        });
        answer({ clusterId: 'fake', controllerId: 0, brokers: [], topics });
        return;
      }
      case 'initProducerId':
        answer({ producerId: this.nextProducerId++, producerEpoch: 0 });
        return;
      case 'produce': {
        this.#produceInFlight++;
        this.maxProduceInFlight = Math.max(this.maxProduceInFlight, this.#produceInFlight);
        const response = this.#produce(body as ProduceRequest);
        const reply = (): void => {
          this.#produceInFlight--;
          answer(response);
        };
        if (this.#held) this.#held.push(reply);
        else reply();
        return;
      }
      case 'fetch':
        this.#fetch(body as FetchRequest, answer);
        return;
      case 'listOffsets': {
        const req = body as {
          topics: { topic: string; partitions: { partition: number; timestamp: number }[] }[];
        };
        answer({
          topics: req.topics.map((t) => ({
            topic: t.topic,
            partitions: t.partitions.map((p) => {
              const part = this.topics.get(t.topic)?.[p.partition];
              if (!part)
                return {
                  partition: p.partition,
                  offset: -1,
                  timestamp: -1,
                  error: wire('UNKNOWN_TOPIC_OR_PARTITION'),
                };
              const start = part.batches[0]?.baseOffset ?? part.nextOffset;
              if (p.timestamp === -2) return { partition: p.partition, offset: start, timestamp: -1 };
              if (p.timestamp === -1)
                return { partition: p.partition, offset: part.nextOffset, timestamp: -1 };
              const hit = part.batches.find((b) => b.maxTimestamp >= p.timestamp);
              return {
                partition: p.partition,
                offset: hit ? hit.baseOffset : -1,
                timestamp: hit ? hit.maxTimestamp : -1,
              };
            }),
          })),
        });
        return;
      }
      default:
        answer(undefined, new SluiceError('UNKNOWN_OPERATION', `fake broker: ${op}`));
    }
  }

  #produce(req: ProduceRequest): { topics: { topic: string; partitions: ProducePartitionResponse[] }[] } {
    const out = req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => this.#append(t.topic, p.partition, p.records)),
    }));
    for (const w of this.#fetchWaiters.splice(0)) w();
    return { topics: out };
  }

  #append(topic: string, partition: number, records: Uint8Array): ProducePartitionResponse {
    const fail = (code: string): ProducePartitionResponse => ({
      partition,
      error: wire(code),
      baseOffset: -1,
      logAppendTime: -1,
      logStartOffset: -1,
    });
    const part = this.topics.get(topic)?.[partition];
    if (!part) return fail('UNKNOWN_TOPIC_OR_PARTITION');
    const faultAt = this.faults.findIndex((f) => f.topic === topic && f.partition === partition);
    const fault = faultAt >= 0 ? this.faults[faultAt] : undefined;
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) this.faults.splice(faultAt, 1);
      if (!fault.store) return fail(fault.code);
    }
    const invalid = checkBatch(records);
    if (invalid) return fail(invalid.code);
    const header = readBatchHeader(records);
    const lastSeq = header.baseSequence + header.lastOffsetDelta;
    if (header.producerId >= 0) {
      const state = part.producers.get(header.producerId);
      if (state && header.producerEpoch === state.epoch) {
        const dup = state.recent.find((b) => b.firstSeq === header.baseSequence && b.lastSeq === lastSeq);
        if (dup) return { partition, baseOffset: dup.baseOffset, logAppendTime: -1, logStartOffset: 0 };
        const expected = state.recent[state.recent.length - 1]!.lastSeq + 1;
        if (header.baseSequence !== expected) return fail('OUT_OF_ORDER_SEQUENCE_NUMBER');
      } else if (state && header.producerEpoch > state.epoch && header.baseSequence !== 0) {
        return fail('OUT_OF_ORDER_SEQUENCE_NUMBER');
      }
    }
    const bytes = records.slice();
    const baseOffset = part.nextOffset;
    setBaseOffset(bytes, 0, baseOffset);
    const stored: StoredBatch = {
      baseOffset,
      lastOffset: baseOffset + header.lastOffsetDelta,
      bytes,
      producerId: header.producerId,
      firstSeq: header.baseSequence,
      lastSeq,
      maxTimestamp: header.maxTimestamp,
    };
    part.batches.push(stored);
    part.nextOffset = stored.lastOffset + 1;
    if (header.producerId >= 0) {
      let state = part.producers.get(header.producerId);
      if (!state || header.producerEpoch > state.epoch) {
        state = { epoch: header.producerEpoch, recent: [] };
        part.producers.set(header.producerId, state);
      }
      state.recent.push(stored);
      if (state.recent.length > 5) state.recent.shift();
    }
    if (fault?.store) return fail(fault.code);
    return { partition, baseOffset, logAppendTime: -1, logStartOffset: 0 };
  }

  #fetch(req: FetchRequest, answer: (value: unknown, error?: unknown) => void): void {
    const build = () => {
      let total = 0;
      const topics = req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const part = this.topics.get(t.topic)?.[p.partition];
          if (!part) {
            return {
              partition: p.partition,
              error: wire('UNKNOWN_TOPIC_OR_PARTITION'),
              highWatermark: -1,
              lastStableOffset: -1,
              logStartOffset: -1,
              records: null,
            };
          }
          const start = part.batches[0]?.baseOffset ?? part.nextOffset;
          if (p.offset < start || p.offset > part.nextOffset) {
            return {
              partition: p.partition,
              error: wire('OFFSET_OUT_OF_RANGE'),
              highWatermark: -1,
              lastStableOffset: -1,
              logStartOffset: -1,
              records: null,
            };
          }
          const chunks: Uint8Array[] = [];
          let size = 0;
          for (const b of part.batches) {
            if (b.lastOffset < p.offset) continue;
            if (chunks.length > 0 && size + b.bytes.length > (p.maxBytes ?? 1 << 20)) break;
            chunks.push(b.bytes);
            size += b.bytes.length;
          }
          total += size;
          return {
            partition: p.partition,
            highWatermark: part.nextOffset,
            lastStableOffset: part.nextOffset,
            logStartOffset: start,
            records: chunks.length ? concat(chunks) : null,
          };
        }),
      }));
      return { topics, total };
    };
    const first = build();
    if (first.total >= (req.minBytes ?? 1) || req.maxWaitMs <= 0) {
      answer({ topics: first.topics });
      return;
    }
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      answer({ topics: build().topics });
    };
    const timer = setTimeout(finish, req.maxWaitMs);
    this.#fetchWaiters.push(finish);
  }
}

export function wire(code: string): { code: string; message: string; retriable: boolean } {
  const error = new SluiceError(code as never, `fake ${code}`);
  return { code: error.code, message: error.message, retriable: error.retriable };
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Every record stored in a partition, decoded: value as a string, with its offset. */
export async function storedRecords(
  broker: FakeBroker,
  topic: string,
  partition: number,
): Promise<{ offset: number; key: string | null; value: string | null }[]> {
  const utf8 = new TextDecoder();
  const out: { offset: number; key: string | null; value: string | null }[] = [];
  for (const b of broker.stored(topic, partition)) {
    const decoded = await decodeRecordBatch(b.bytes);
    for (const r of decoded.records) {
      out.push({
        offset: r.offset,
        key: r.key && utf8.decode(r.key),
        value: r.value && utf8.decode(r.value),
      });
    }
  }
  return out;
}
