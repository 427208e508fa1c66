/**
 * The peer workloads against NATS JetStream (file storage), as a load-generator process of its own
 * (nats-client.ts), printing the same JSON summary as `sluice bench --json` (BenchMeter):
 *
 *   produce  PUB to the stream's subject with a reply inbox, `--window` publishes awaiting their
 *            PubAck (what "acks=1" is in JetStream); latency per publish, from sending to its PubAck
 *   consume  a durable pull consumer (ack policy none) from the first message, 4 pulls of 1000 in
 *            flight, every message parsed to its payload; latency is the wait for each pull's batch
 *   e2e      publishes at `--rate` (payloads start with their send time, PubAcks awaited) and a push
 *            consumer (deliver new, ack none) on a second connection; latency from the send time to
 *            the parsed message
 *
 *   node --import tsx bench/peers/nats-load.ts produce|consume|e2e --port P [--records N] …
 */
import { parseArgs } from 'node:util';
import { BenchMeter, printSummary } from '../../src/cli/commands/bench-stats.ts';
import { makePayloads, RateLimiter, sleep } from '../../src/cli/commands/bench-workload.ts';
import { NatsClient } from './nats-client.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string' },
    records: { type: 'string', default: '1000000' },
    'record-size': { type: 'string', default: '100' },
    window: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
  },
});
const mode = positionals[0];
const PORT = Number(args.port);
const SIZE = Number(args['record-size']);
const STREAM = 'BENCH';
const SUBJECT = 'bench';
const meter = new BenchMeter(`nats ${mode}`, 5000, true);
const stamp = () => performance.timeOrigin + performance.now();

async function ensureStream(nc: NatsClient): Promise<void> {
  try {
    await nc.request(`$JS.API.STREAM.INFO.${STREAM}`, {});
  } catch {
    await nc.request(`$JS.API.STREAM.CREATE.${STREAM}`, {
      name: STREAM,
      subjects: [SUBJECT],
      storage: 'file',
      retention: 'limits',
      discard: 'old',
      max_bytes: -1,
      max_msgs: -1,
    });
  }
}

async function produce(): Promise<void> {
  const nc = await NatsClient.connect(PORT);
  await ensureStream(nc);
  const total = Number(args.records);
  const window = Number(args.window);
  const payloads = makePayloads(SIZE, 256).map((p) => Buffer.from(p));
  const sentAt = new Float64Array(total);
  let sent = 0;
  let acked = 0;
  meter.start();
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < total && sent - acked < window) {
        sentAt[sent] = performance.now();
        nc.publish(SUBJECT, payloads[sent % payloads.length]!, `_INBOX.ack.${sent}`);
        sent++;
      }
    };
    nc.subscribe('_INBOX.ack.*', (m) => {
      const i = Number(m.subject.slice(11));
      meter.add(1, SIZE);
      meter.latency(performance.now() - sentAt[i]!);
      if (++acked === total) resolve();
      else pump();
    });
    pump();
  });
  meter.stop();
  nc.close();
}

async function consume(): Promise<void> {
  const nc = await NatsClient.connect(PORT);
  const info = await nc.request<{ state: { messages: number } }>(`$JS.API.STREAM.INFO.${STREAM}`, {});
  const total = info.state.messages;
  const durable = `C${Date.now()}`;
  await nc.request(`$JS.API.CONSUMER.DURABLE.CREATE.${STREAM}.${durable}`, {
    stream_name: STREAM,
    config: { durable_name: durable, ack_policy: 'none', deliver_policy: 'all', max_waiting: 64 },
  });
  const BATCH = 1000;
  let pulls = 0;
  // "Wait for the next batch", as for Sluice's consumer: from the moment a batch is done to the
  // first message of the next one (near zero while the pulls in flight keep messages coming).
  let batchDone = performance.now();
  meter.start();
  await new Promise<void>((resolve) => {
    const pull = () => {
      // Each pull has its own inbox subscription: messages arrive on it, then a status ends it.
      const inbox = `_INBOX.pull.${++pulls}`;
      let n = 0;
      const sid = nc.subscribe(inbox, (m) => {
        if (m.headers !== undefined && m.payload.length === 0) {
          // A status (408 expired, 404 none): this pull is over.
          nc.unsubscribe(sid);
          if (meter.records < total) pull();
          return;
        }
        const now = performance.now();
        if (n === 0) meter.latency(now - batchDone, BATCH);
        meter.add(1, m.payload.length);
        if (meter.records >= total) resolve();
        else if (++n === BATCH) {
          batchDone = now;
          nc.unsubscribe(sid);
          pull();
        }
      });
      nc.publish(
        `$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${durable}`,
        JSON.stringify({ batch: BATCH, expires: 2_000_000_000 }),
        inbox,
      );
    };
    for (let i = 0; i < 4; i++) pull();
  });
  meter.stop();
  nc.close();
}

async function e2e(): Promise<void> {
  const pub = await NatsClient.connect(PORT);
  const sub = await NatsClient.connect(PORT);
  await ensureStream(pub);
  const rate = Number(args.rate);
  const payload = Buffer.from(makePayloads(SIZE, 1)[0]!);
  let measureFrom = Number.POSITIVE_INFINITY;
  let produced = 0;
  let consumed = 0;
  let acked = 0;
  const deliver = `_INBOX.push.${Date.now()}`;
  sub.subscribe(deliver, (m) => {
    const now = stamp();
    consumed++;
    if (m.payload.length < 8) return;
    const sentAt = m.payload.readDoubleLE(0);
    if (sentAt < measureFrom) return;
    meter.add(1, m.payload.length);
    meter.latency(now - sentAt);
  });
  await sub.ping();
  await pub.request(`$JS.API.CONSUMER.CREATE.${STREAM}`, {
    stream_name: STREAM,
    config: { deliver_subject: deliver, ack_policy: 'none', deliver_policy: 'new', max_ack_pending: -1 },
  });
  pub.subscribe('_INBOX.e2eack.*', () => {
    acked++;
  });
  const limiter = new RateLimiter(rate);
  const end = performance.now() + (Number(args.warmup) + Number(args.duration)) * 1000;
  limiter.start();
  setTimeout(() => {
    measureFrom = stamp();
    meter.start();
  }, Number(args.warmup) * 1000);
  while (performance.now() < end) {
    const n = Math.min(1000, limiter.due() - produced);
    if (n <= 0) {
      await sleep(Math.max(1, Math.floor(limiter.waitFor(produced + 1))));
      continue;
    }
    const t = stamp();
    for (let i = 0; i < n; i++) {
      const value = Buffer.from(payload);
      value.writeDoubleLE(t, 0);
      pub.publish(SUBJECT, value, `_INBOX.e2eack.${produced + i}`);
    }
    produced += n;
  }
  const deadline = performance.now() + 10_000;
  while ((consumed < produced || acked < produced) && performance.now() < deadline) await sleep(5);
  meter.stop();
  pub.close();
  sub.close();
}

const run = { produce, consume, e2e }[mode as 'produce' | 'consume' | 'e2e'];
if (!run || !PORT) {
  process.stderr.write('usage: nats-load.ts produce|consume|e2e --port PORT\n');
  process.exit(2);
}
await run();
const latency = {
  produce: 'send to acknowledgement',
  consume: 'wait for the next batch',
  e2e: 'produce to consume',
}[mode as 'produce'];
printSummary(
  meter.summary(mode!, 'nats jetstream', latency, { record_size: SIZE, label: `NATS JetStream ${mode}` }),
  true,
);
