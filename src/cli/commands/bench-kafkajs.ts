/**
 * The Kafka front door driven by kafkajs in process (a pure-JavaScript Kafka client), and the Kafka
 * admin calls every `--protocol kafka` workload uses (topic creation, offsets), so that the Kafka
 * path needs nothing but a Kafka listener: it can be pointed at a real Kafka broker for comparison.
 *
 * kafkajs is a development dependency of Sluice: it is loaded only when asked for.
 *
 *   produce  `producer.send` of chunks of records, several sends in flight; latency per send.
 *   consume  `consumer.run({ eachBatch })` in a consumer group (kafkajs has no other way to consume),
 *            every record decoded by kafkajs; latency is the wait for each batch.
 */
import type { Admin, CompressionTypes, Kafka, Message } from 'kafkajs';
import type { BenchMeter } from './bench-stats.ts';
import {
  type BenchSettings,
  makeKeys,
  makePayloads,
  RateLimiter,
  StopCondition,
  sleep,
} from './bench-workload.ts';

type KafkaJs = typeof import('kafkajs');

/** A consumer that has read nothing after this long has not joined its group: fail, do not hang. */
const NO_DATA_MS = 30_000;

async function loadKafkaJs(): Promise<KafkaJs> {
  try {
    const mod = (await import('kafkajs')) as KafkaJs & { default?: KafkaJs };
    return mod.default ?? mod;
  } catch (err) {
    throw new Error(`--protocol kafka needs kafkajs (npm install kafkajs): ${(err as Error).message}`);
  }
}

async function kafkaClient(s: BenchSettings): Promise<{ kafkajs: KafkaJs; kafka: Kafka }> {
  const kafkajs = await loadKafkaJs();
  const kafka = new kafkajs.Kafka({
    clientId: 'sluice-bench',
    brokers: [s.kafkaBootstrap],
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 3 },
  });
  return { kafkajs, kafka };
}

/** Topic set-up and offsets over the Kafka protocol. */
export interface KafkaAdminHandle {
  totalHigh(topic: string): Promise<number>;
  totalLow(topic: string): Promise<number>;
  close(): Promise<void>;
}

export async function kafkaAdmin(s: BenchSettings, create: boolean): Promise<KafkaAdminHandle> {
  const { kafka } = await kafkaClient(s);
  const admin: Admin = kafka.admin();
  await admin.connect();
  if (create) {
    const topics = await admin.listTopics();
    if (!topics.includes(s.topic))
      await admin.createTopics({
        topics: [{ topic: s.topic, numPartitions: s.partitions }],
        waitForLeaders: true,
      });
  }
  const sum = async (topic: string, field: 'high' | 'low') =>
    (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p[field]), 0);
  return {
    totalHigh: (topic) => sum(topic, 'high'),
    totalLow: (topic) => sum(topic, 'low'),
    close: () => admin.disconnect(),
  };
}

function codec(kafkajs: KafkaJs, s: BenchSettings): CompressionTypes {
  const names = { none: 'None', gzip: 'GZIP', snappy: 'Snappy', lz4: 'LZ4', zstd: 'ZSTD' } as const;
  return kafkajs.CompressionTypes[names[s.compression]];
}

export async function kafkajsProduce(s: BenchSettings, meter: BenchMeter): Promise<void> {
  const { kafkajs, kafka } = await kafkaClient(s);
  const producer = kafka.producer({
    idempotent: s.idempotent,
    allowAutoTopicCreation: true,
    maxInFlightRequests: s.idempotent ? 1 : 16,
  });
  await producer.connect();
  const payloads = makePayloads(s.recordSize);
  const keys = s.keySize > 0 ? makeKeys(s.keySize, s.keys) : undefined;
  const recordBytes = s.recordSize + s.keySize;
  const chunk = Math.max(1, Math.min(2000, Math.floor(s.batchBytes / (recordBytes + 8))));
  const messages: Message[] = Array.from({ length: 10_000 }, (_, i) => ({
    key: keys ? Buffer.from(keys[i % keys.length]!) : null,
    value: Buffer.from(payloads[i % payloads.length]!),
  }));
  const stop = new StopCondition(s.records, s.durationSec);
  const limiter = new RateLimiter(s.rate);
  const inFlight = new Set<Promise<void>>();
  const maxInFlight = s.idempotent ? 1 : 8;
  let sent = 0;
  let at = 0;
  let failure: unknown;
  stop.start();
  limiter.start();
  meter.start();
  try {
    while (!stop.expired() && stop.remaining(sent) > 0 && failure === undefined) {
      const n = Math.min(chunk, stop.remaining(sent), limiter.due() - sent, messages.length - at);
      if (n <= 0) {
        await sleep(Math.max(1, limiter.waitFor(sent + 1)));
        continue;
      }
      const batch = messages.slice(at, at + n);
      at = (at + n) % messages.length;
      sent += n;
      const t0 = performance.now();
      const p: Promise<void> = producer
        .send({ topic: s.topic, acks: s.acks, compression: codec(kafkajs, s), messages: batch })
        .then(
          () => {
            meter.add(n, n * recordBytes);
            meter.latency(performance.now() - t0, n);
          },
          (err: unknown) => {
            failure = err;
          },
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    meter.stop();
    if (failure !== undefined) throw failure;
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

export async function kafkajsConsume(
  s: BenchSettings,
  meter: BenchMeter,
  admin: KafkaAdminHandle,
): Promise<void> {
  const available = (await admin.totalHigh(s.topic)) - (await admin.totalLow(s.topic));
  const target = s.records ?? (s.durationSec === undefined ? available : Number.POSITIVE_INFINITY);
  if (target === 0) return;
  const { kafka } = await kafkaClient(s);
  const consumer = kafka.consumer({
    groupId: s.group ?? `sluice-bench-${process.pid}-${Date.now()}`,
    maxBytesPerPartition: 1024 * 1024,
  });
  const stop = new StopCondition(target, s.durationSec);
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [s.topic], fromBeginning: true });
    // As kafka-consumer-perf-test separates its rebalance time: the clock starts at the first batch,
    // after the group's join and assignment (reported on stderr).
    const joining = performance.now();
    let asked = 0;
    let failure: Error | undefined;
    stop.start();
    meter.start();
    const timer = setInterval(() => {
      if (asked === 0 && performance.now() - joining > NO_DATA_MS) {
        failure = new Error(
          `kafkajs read nothing in ${NO_DATA_MS / 1000} s (did it join group and get partitions?)`,
        );
        finish();
      } else if (stop.expired()) finish();
    }, 50);
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const got = performance.now();
        if (asked === 0) {
          if (!s.quiet)
            process.stderr.write(`kafkajs: first batch ${(got - joining).toFixed(0)} ms after joining\n`);
          meter.start();
        } else meter.latency(got - asked, batch.messages.length);
        let bytes = 0;
        for (const m of batch.messages) bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
        meter.add(batch.messages.length, bytes);
        if (stop.remaining(meter.records) === 0) finish();
        asked = performance.now();
      },
    });
    await finished;
    clearInterval(timer);
    meter.stop();
    if (failure) throw failure;
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}
