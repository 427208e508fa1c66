/**
 * `sluice bench consume` over the WebSocket protocol: `consumers` Consumer clients (one connection
 * each) read the topic from the beginning, the partitions shared among them, with every record
 * decoded (`batch.cursor()` walks and validates each record's fields: the fastest way the client
 * offers to read all of them). Stops at the end offsets seen at start, after `--records`, or after
 * `--duration`. With `--group`, the consumers join that consumer group instead and read what its
 * assignor gives them (a new group starts at the beginning; an existing one at its committed
 * offsets); the clock starts at the first batch, so the join is not counted (it is reported).
 *
 * Latency: how long the application waited for each batch (from asking for the next one to having
 * it), recorded once per record of the batch. Near zero while the consumer's read-ahead keeps up;
 * it shows the stalls when it does not.
 */
import { Consumer, type ConsumerBatch } from '../../client/index.ts';
import type { BenchMeter } from './bench-stats.ts';
import { type BenchSettings, StopCondition, topicOffsets } from './bench-workload.ts';

/** How long a group member may wait for its first batch before the run fails. */
const NO_DATA_MS = 30_000;

export function newConsumer(s: BenchSettings): Consumer {
  return new Consumer({
    bootstrap: s.bootstrap,
    autoOffsetReset: 'earliest',
    reconnect: false,
    ...(s.group !== undefined && { groupId: s.group }),
    ...(s.fetchesInFlight !== undefined && { maxFetchesInFlight: s.fetchesInFlight }),
  });
}

/** Count and decode every record of a batch; returns [records, key + value bytes]. */
export function decodeBatch(batch: ConsumerBatch): [number, number] {
  const cursor = batch.cursor();
  let n = 0;
  let bytes = 0;
  while (cursor.next()) {
    n++;
    bytes += Math.max(0, cursor.valueLength) + Math.max(0, cursor.keyLength);
  }
  return [n, bytes];
}

export async function benchConsumeWs(s: BenchSettings, meter: BenchMeter): Promise<void> {
  const offsets = await topicOffsets(s.bootstrap, s.topic);
  if (offsets.length === 0) throw new Error(`topic ${s.topic} has no partitions (does it exist?)`);
  const available = offsets.reduce((sum, o) => sum + (o.high - o.low), 0);
  // Without a count or a duration: everything there is now.
  const target = s.records ?? (s.durationSec === undefined ? available : Number.POSITIVE_INFINITY);
  const endOf = new Map(offsets.map((o) => [o.partition, o.high]));
  const stop = new StopCondition(target, s.durationSec);
  const grouped = s.group !== undefined;
  const count = grouped ? s.consumers : Math.min(s.consumers, offsets.length);
  const consumers = Array.from({ length: count }, () => newConsumer(s));
  let finished = false;
  try {
    await Promise.all(consumers.map((c) => c.connect()));
    for (const [i, c] of consumers.entries()) {
      if (grouped) c.subscribe([s.topic]);
      else
        c.assign(
          offsets
            .filter((_, p) => p % consumers.length === i)
            .map((o) => ({ topic: s.topic, partition: o.partition, offset: 'earliest' as const })),
        );
    }
    const stopAll = () => {
      if (finished) return;
      finished = true;
      meter.stop();
      for (const c of consumers) void c.close();
    };
    const joining = performance.now();
    let measuring = !grouped;
    stop.start();
    meter.start();
    // Stop even when no batch arrives (an empty topic, or --duration).
    let failure: Error | undefined;
    const ticker = setInterval(() => {
      if (!measuring && performance.now() - joining > NO_DATA_MS) {
        // A group member that never gets a batch has not been given partitions: fail, do not hang.
        failure = new Error(`group ${s.group}: no records ${NO_DATA_MS / 1000} s after joining`);
        stopAll();
      } else if (
        stop.expired() ||
        (s.records === undefined && s.durationSec === undefined && available === 0)
      )
        stopAll();
    }, 50);
    const reader = async (consumer: Consumer): Promise<void> => {
      // With --records the count decides; otherwise each partition ends at its end offset.
      const open = new Set(consumer.assignment().map((tp) => tp.partition));
      const byCount = grouped || s.records !== undefined || s.durationSec !== undefined;
      let asked = performance.now();
      for await (const batch of consumer.batches()) {
        const got = performance.now();
        if (!measuring) {
          // The first batch of a group: the clock starts now, after the join and the assignment.
          measuring = true;
          if (!s.quiet)
            process.stderr.write(
              `group ${s.group}: first batch ${(got - joining).toFixed(0)} ms after joining\n`,
            );
          meter.start();
          asked = got;
        }
        const [n, bytes] = decodeBatch(batch);
        meter.add(n, bytes);
        meter.latency(got - asked, n);
        if (!byCount && batch.lastOffset + 1 >= (endOf.get(batch.partition) ?? 0))
          open.delete(batch.partition);
        if (stop.remaining(meter.records) === 0 || (!byCount && open.size === 0) || stop.expired()) break;
        asked = performance.now();
      }
      // A count or a deadline is shared by all readers: the first one to see it stops the others.
      if (byCount) stopAll();
    };
    await Promise.all(consumers.map((c) => reader(c)));
    clearInterval(ticker);
    stopAll();
    if (failure) throw failure;
  } finally {
    await Promise.all(consumers.map((c) => c.close().catch(() => {})));
  }
}
