/**
 * `sluice bench produce` over the WebSocket protocol: `producers` Producer clients (one connection
 * each) in this process push records through `sendMany`, the client's bulk path, as fast as they
 * can or at `--rate`.
 *
 * Latency: records go to the producer in chunks of about one batch; a chunk's latency is from the
 * `sendMany` call to its acknowledgement (acks=0: to its send), recorded once per record of the
 * chunk. Like kafka-producer-perf-test it includes the time spent in the producer's buffer, so at
 * an unlimited rate it mostly measures how deep the buffer is; use --rate to measure the broker.
 */
import { Producer, type ProducerRecordInput } from '../../client/index.ts';
import type { BenchMeter } from './bench-stats.ts';
import {
  type BenchSettings,
  ensureTopic,
  makeKeys,
  makePayloads,
  RateLimiter,
  StopCondition,
  sleep,
} from './bench-workload.ts';

/** Records per chunk at most: enough to fill a batch, small enough to keep latencies honest. */
const MAX_CHUNK = 2000;

export function newProducer(s: BenchSettings, overrides: { lingerMs?: number } = {}): Producer {
  return new Producer({
    bootstrap: s.bootstrap,
    acks: s.acks,
    compression: s.compression,
    idempotent: s.idempotent,
    batchBytes: s.batchBytes,
    lingerMs: overrides.lingerMs ?? s.lingerMs,
    reconnect: false,
    ...(s.maxInFlightBytes !== undefined && { maxInFlightBytes: s.maxInFlightBytes }),
    ...(s.bufferBytes !== undefined && { bufferBytes: s.bufferBytes }),
  });
}

/** The records to cycle through: prepared once, so that the load generator allocates nothing per record. */
export function recordPool(s: BenchSettings, size = 10_000): ProducerRecordInput[] {
  const payloads = makePayloads(s.recordSize);
  const keys = s.keySize > 0 ? makeKeys(s.keySize, s.keys) : undefined;
  return Array.from({ length: size }, (_, i) => ({
    topic: s.topic,
    key: keys ? keys[i % keys.length]! : null,
    value: payloads[i % payloads.length]!,
  }));
}

export async function benchProduceWs(s: BenchSettings, meter: BenchMeter): Promise<void> {
  await ensureTopic(s.bootstrap, s.topic, s.partitions);
  const producers = Array.from({ length: s.producers }, () => newProducer(s));
  try {
    await Promise.all(producers.map((p) => p.connect()));
    const pool = recordPool(s);
    const recordBytes = s.recordSize + s.keySize;
    const chunk = Math.max(1, Math.min(MAX_CHUNK, Math.floor(s.batchBytes / (recordBytes + 8))));
    const windowBytes = s.bufferBytes ?? 32 * 1024 * 1024;
    const maxChunks = Math.max(2, Math.ceil(windowBytes / (chunk * recordBytes)));
    const stop = new StopCondition(
      s.records,
      s.durationSec === undefined ? undefined : s.durationSec + s.warmupSec,
    );
    let issued = 0; // records handed to producers, all lanes
    let measureFrom = Number.POSITIVE_INFINITY;

    const lane = async (producer: Producer, laneIndex: number): Promise<void> => {
      const limiter = new RateLimiter(s.rate === undefined ? undefined : s.rate / s.producers);
      limiter.start();
      const outstanding: Promise<void>[] = [];
      let sent = 0;
      let sinceYield = 0;
      let at = (laneIndex * 997) % pool.length;
      for (;;) {
        if (stop.expired()) break;
        let n = Math.min(chunk, stop.remaining(issued), limiter.due() - sent, pool.length - at);
        if (stop.remaining(issued) === 0) break;
        if (n <= 0) {
          await sleep(Math.max(1, limiter.waitFor(sent + 1)));
          continue;
        }
        n = Math.max(1, n);
        const records = pool.slice(at, at + n);
        at = (at + n) % pool.length;
        sent += n;
        issued += n;
        const t0 = performance.now();
        outstanding.push(
          producer.sendMany(records).then(() => {
            if (t0 < measureFrom) return; // warm-up
            meter.add(n, n * recordBytes);
            meter.latency(performance.now() - t0, n);
          }),
        );
        // Keep about one buffer's worth outstanding; waiting on the oldest chunk lets I/O run. Until
        // the window is full, yield every few chunks too, so that the first batches go out while the
        // next are encoded (rather than after a whole buffer was filled).
        if (outstanding.length >= maxChunks) await outstanding.shift();
        else if (limiter.limited) await sleep(0);
        else if (++sinceYield >= 4) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
      await Promise.all(outstanding);
      await producer.flush();
    };

    stop.start();
    if (s.warmupSec > 0 && s.durationSec !== undefined) {
      setTimeout(() => {
        measureFrom = performance.now();
        meter.start();
      }, s.warmupSec * 1000).unref();
    } else {
      measureFrom = performance.now();
      meter.start();
    }
    await Promise.all(producers.map((p, i) => lane(p, i)));
    meter.stop();
  } finally {
    await Promise.all(producers.map((p) => p.close().catch(() => {})));
  }
}
