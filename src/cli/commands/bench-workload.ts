/**
 * The settings shared by the `sluice bench` workloads, and the pieces they share: payloads, a rate
 * limiter, the stop condition (a record count or a duration), and topic set-up.
 */
import { Admin } from '../../client/index.ts';
import type { CompressionName } from '../../protocol/kafka/record-batch.ts';

export type BenchProtocol = 'ws' | 'kafka';
export type KafkaClient = 'kcat' | 'kafkajs';

/** Everything a workload needs to know, parsed and checked by bench.ts. */
export interface BenchSettings {
  bootstrap: string;
  /** host:port of the broker's Kafka listener (--protocol kafka). */
  kafkaBootstrap: string;
  protocol: BenchProtocol;
  kafkaClient: KafkaClient;
  topic: string;
  partitions: number;
  /** Stop after this many records … */
  records: number | undefined;
  /** … or after this many seconds. */
  durationSec: number | undefined;
  warmupSec: number;
  recordSize: number;
  /** Key bytes per record (0: no keys) and how many distinct keys. */
  keySize: number;
  keys: number;
  batchBytes: number;
  lingerMs: number;
  acks: -1 | 0 | 1;
  compression: CompressionName;
  idempotent: boolean;
  /** Records per second across all producers; undefined: as fast as possible. */
  rate: number | undefined;
  producers: number;
  consumers: number;
  group: string | undefined;
  maxInFlightBytes: number | undefined;
  bufferBytes: number | undefined;
  fetchesInFlight: number | undefined;
  progressEveryMs: number;
  quiet: boolean;
}

/** The settings worth printing with a summary (and in the report). */
export function describeSettings(s: BenchSettings): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {
    topic: s.topic,
    record_size: s.recordSize,
    key_size: s.keySize,
    batch_bytes: s.batchBytes,
    linger_ms: s.lingerMs,
    acks: s.acks === -1 ? 'all' : s.acks,
    compression: s.compression,
    idempotent: s.idempotent,
    producers: s.producers,
    consumers: s.consumers,
    rate: s.rate ?? 'unlimited',
  };
  if (s.protocol === 'kafka') out.kafka_client = s.kafkaClient;
  if (s.group !== undefined) out.group = s.group;
  if (s.records !== undefined) out.records = s.records;
  if (s.durationSec !== undefined) out.duration_s = s.durationSec;
  return out;
}

/**
 * `count` values of `size` random upper-case letters (as kafka-producer-perf-test makes them):
 * different records, so that compression sees realistic text rather than one repeated value.
 */
export function makePayloads(size: number, count = 1000): Uint8Array[] {
  const pool = Buffer.allocUnsafe(size * count);
  for (let i = 0; i < pool.length; i++) pool[i] = 65 + Math.floor(Math.random() * 26);
  return Array.from({ length: count }, (_, i) => pool.subarray(i * size, (i + 1) * size));
}

/** `count` distinct keys of `size` bytes (zero-padded decimal numbers). */
export function makeKeys(size: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(String(i).padStart(size, '0').slice(-size)));
}

/** When to stop: after `records`, or after `durationSec` (measured from start()). */
export class StopCondition {
  #deadline = Number.POSITIVE_INFINITY;

  constructor(
    readonly records: number | undefined,
    readonly durationSec: number | undefined,
  ) {}

  start(): void {
    this.#deadline =
      this.durationSec === undefined ? Number.POSITIVE_INFINITY : performance.now() + this.durationSec * 1000;
  }

  /** Records still allowed after `done` (Infinity with a duration). */
  remaining(done: number): number {
    return this.records === undefined ? Number.POSITIVE_INFINITY : Math.max(0, this.records - done);
  }

  expired(): boolean {
    return performance.now() >= this.#deadline;
  }
}

/**
 * Paces records at `rate` per second: `due()` says how many records should have been sent by now.
 * Timers fire at best every millisecond, so at high rates records go out in small bursts, each
 * stamped when it is actually sent (so a late timer does not count as broker latency).
 */
export class RateLimiter {
  readonly #rate: number | undefined;
  #start = performance.now();

  constructor(rate: number | undefined) {
    this.#rate = rate;
  }

  start(): void {
    this.#start = performance.now();
  }

  get limited(): boolean {
    return this.#rate !== undefined;
  }

  /** Records that should have been sent by now (Infinity without a rate). */
  due(): number {
    if (this.#rate === undefined) return Number.POSITIVE_INFINITY;
    return Math.floor(((performance.now() - this.#start) / 1000) * this.#rate);
  }

  /** Milliseconds until the record number `sent` is due. */
  waitFor(sent: number): number {
    if (this.#rate === undefined) return 0;
    return Math.max(0, this.#start + (sent / this.#rate) * 1000 - performance.now());
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Create the topic with `partitions` partitions unless it exists (then keep it as it is). */
export async function ensureTopic(bootstrap: string, topic: string, partitions: number): Promise<number> {
  const admin = new Admin({ bootstrap, reconnect: false });
  try {
    await admin.createTopics([{ name: topic, numPartitions: partitions }], { ignoreExisting: true });
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.length;
  } finally {
    await admin.close().catch(() => {});
  }
}

/** The [low, high) offsets of every partition of `topic`. */
export async function topicOffsets(
  bootstrap: string,
  topic: string,
): Promise<{ partition: number; low: number; high: number }[]> {
  const admin = new Admin({ bootstrap, reconnect: false });
  try {
    return await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.close().catch(() => {});
  }
}
