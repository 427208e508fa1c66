/**
 * `sluice bench e2e --rate R --duration S` over the WebSocket protocol: one producer sends records at
 * a fixed rate while one consumer, in the same process (so on the same clock), reads them as they
 * arrive. Each value starts with its send time (a float64 of `performance.timeOrigin + now()`), and
 * the latency of a record is from that time to the moment the consumer has decoded it: producer
 * batching, the network both ways, the broker's append, its fetch parking and the consumer's fetch.
 *
 * The producer lingers 0 ms by default here (a batch goes out as soon as the window has room), the
 * consumer long-polls with minBytes 1, so the figure is the pipeline's, not a timer's.
 */
import type { Consumer, Producer } from '../../client/index.ts';
import { newConsumer } from './bench-consume.ts';
import { newProducer } from './bench-produce.ts';
import type { BenchMeter } from './bench-stats.ts';
import { type BenchSettings, ensureTopic, makePayloads, RateLimiter, sleep } from './bench-workload.ts';

/** Wall-clock-aligned milliseconds with sub-microsecond resolution. */
export const stampNow = (): number => performance.timeOrigin + performance.now();

/** Most records to send in one burst when a timer fired late. */
const MAX_BURST = 1000;

export async function benchE2eWs(s: BenchSettings, meter: BenchMeter): Promise<void> {
  if (s.recordSize < 8) throw new Error('--record-size must be at least 8 (the send time takes 8 bytes)');
  const rate = s.rate ?? 10_000;
  const duration = s.durationSec ?? 10;
  const partitions = await ensureTopic(s.bootstrap, s.topic, s.partitions);
  const producer: Producer = newProducer(s);
  const consumer: Consumer = newConsumer(s);
  let produced = 0;
  let consumed = 0;
  let measureFrom = Number.POSITIVE_INFINITY;
  try {
    await Promise.all([producer.connect(), consumer.connect()]);
    consumer.assign(
      Array.from({ length: partitions }, (_, partition) => ({
        topic: s.topic,
        partition,
        offset: 'latest' as const,
      })),
    );
    // Wait until every partition's 'latest' is resolved, so that no record produced below is missed.
    for (let i = 0; i < 500 && consumer.assignment().some((tp) => consumer.position(tp) === undefined); i++)
      await sleep(10);

    let reading = true;
    const reader = (async () => {
      for await (const batch of consumer.batches()) {
        const cursor = batch.cursor();
        const section = cursor.section;
        const view = new DataView(section.buffer, section.byteOffset, section.byteLength);
        const now = stampNow();
        while (cursor.next()) {
          consumed++;
          if (cursor.valueLength < 8) continue;
          const sentAt = view.getFloat64(cursor.valueStart, true);
          if (sentAt < measureFrom) continue; // warm-up
          meter.add(1, cursor.valueLength + Math.max(0, cursor.keyLength));
          meter.latency(now - sentAt);
        }
        if (!reading && consumed >= produced) break;
      }
    })();

    const payloads = makePayloads(s.recordSize, 64);
    const limiter = new RateLimiter(rate);
    const outstanding = new Set<Promise<void>>();
    const end = performance.now() + (s.warmupSec + duration) * 1000;
    limiter.start();
    if (s.warmupSec > 0) {
      setTimeout(() => {
        measureFrom = stampNow();
        meter.start();
      }, s.warmupSec * 1000).unref();
    } else {
      measureFrom = stampNow();
      meter.start();
    }
    let failure: unknown;
    while (performance.now() < end && failure === undefined) {
      const n = Math.min(MAX_BURST, limiter.due() - produced);
      if (n <= 0) {
        await sleep(Math.max(1, Math.floor(limiter.waitFor(produced + 1))));
        continue;
      }
      const sentAt = stampNow();
      const records = Array.from({ length: n }, (_, i) => {
        const value = Buffer.allocUnsafe(s.recordSize);
        value.set(payloads[(produced + i) % payloads.length]!);
        value.writeDoubleLE(sentAt, 0);
        return { topic: s.topic, value };
      });
      produced += n;
      const p: Promise<void> = producer.sendMany(records).then(
        () => void outstanding.delete(p),
        (err: unknown) => {
          failure = err;
        },
      );
      outstanding.add(p);
    }
    await Promise.all(outstanding);
    if (failure !== undefined) throw failure;
    reading = false;
    // Give the consumer up to 10 s to read what was produced, then stop the clock.
    const deadline = performance.now() + 10_000;
    while (consumed < produced && performance.now() < deadline) await sleep(5);
    meter.stop();
    await consumer.close();
    await reader;
    if (consumed < produced)
      process.stderr.write(`sluice bench: the consumer read ${consumed} of ${produced} records\n`);
  } finally {
    await Promise.all([producer.close().catch(() => {}), consumer.close().catch(() => {})]);
  }
}
