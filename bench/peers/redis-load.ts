/**
 * The peer workloads against Redis Streams, as a load-generator process of its own (resp-client.ts),
 * printing the same JSON summary as `sluice bench --json` (BenchMeter):
 *
 *   produce  XADD bench * v <value>, `--pipeline` commands in flight on one connection (as
 *            redis-benchmark -c 1 -P 100); latency per XADD, from sending it to its reply
 *   consume  XRANGE from the first entry, COUNT 1000 per call, one call at a time, every entry
 *            decoded; latency is the wait for each reply
 *   e2e      one connection XADDs at `--rate` (values start with their send time), another reads
 *            with XREAD BLOCK; latency from the send time to the decoded entry
 *
 *   node --import tsx bench/peers/redis-load.ts produce|consume|e2e --port P [--records N]
 *        [--record-size 100] [--rate R] [--duration S]
 */
import { parseArgs } from 'node:util';
import { BenchMeter, printSummary } from '../../src/cli/commands/bench-stats.ts';
import { makePayloads, RateLimiter, sleep } from '../../src/cli/commands/bench-workload.ts';
import { command, type Reply, RespClient } from './resp-client.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string' },
    records: { type: 'string', default: '1000000' },
    'record-size': { type: 'string', default: '100' },
    pipeline: { type: 'string', default: '100' },
    rate: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    stream: { type: 'string', default: 'bench' },
  },
});
const mode = positionals[0];
const PORT = Number(args.port);
const SIZE = Number(args['record-size']);
const STREAM = args.stream!;
const meter = new BenchMeter(`redis ${mode}`, 5000, true);
const stamp = () => performance.timeOrigin + performance.now();

async function produce(): Promise<void> {
  const client = await RespClient.connect(PORT);
  const total = Number(args.records);
  const window = Number(args.pipeline);
  const commands = makePayloads(SIZE, 256).map((v) => command(['XADD', STREAM, '*', 'v', Buffer.from(v)]));
  let sent = 0;
  meter.start();
  await new Promise<void>((resolve, reject) => {
    let done = 0;
    const one = () => {
      const i = sent++;
      const t0 = performance.now();
      client.send(commands[i % commands.length]!).then(() => {
        meter.add(1, SIZE);
        meter.latency(performance.now() - t0);
        if (++done === total) resolve();
        else if (sent < total) one();
      }, reject);
    };
    for (let i = 0; i < Math.min(window, total); i++) one();
  });
  meter.stop();
  client.close();
}

/** Entries of an XRANGE/XREAD reply: [[id, [field, value, …]], …]; returns the last id and counts. */
function entries(list: Reply, onEntry: (id: Buffer, value: Buffer) => void): Buffer | undefined {
  let last: Buffer | undefined;
  for (const e of list as Reply[]) {
    const [id, fields] = e as [Buffer, Buffer[]];
    onEntry(id, fields[1]!);
    last = id;
  }
  return last;
}

async function consume(): Promise<void> {
  const client = await RespClient.connect(PORT);
  const total = Number(await client.call('XLEN', STREAM));
  let from = '-';
  meter.start();
  while (meter.records < total) {
    const t0 = performance.now();
    const reply = await client.call('XRANGE', STREAM, from, '+', 'COUNT', '1000');
    const waited = performance.now() - t0;
    let n = 0;
    const last = entries(reply, (_id, value) => {
      n++;
      meter.bytes += value.length;
    });
    if (!last) break;
    meter.records += n;
    meter.latency(waited, n);
    from = `(${last.toString('latin1')}`;
  }
  meter.stop();
  client.close();
}

async function e2e(): Promise<void> {
  const producer = await RespClient.connect(PORT);
  const consumer = await RespClient.connect(PORT);
  const rate = Number(args.rate);
  const payload = Buffer.from(makePayloads(SIZE, 1)[0]!);
  let measureFrom = Number.POSITIVE_INFINITY;
  let produced = 0;
  let consumed = 0;
  let reading = true;
  await producer.call('DEL', STREAM);
  const reader = (async () => {
    let last = '$';
    while (reading || consumed < produced) {
      const reply = await consumer.call('XREAD', 'COUNT', '1000', 'BLOCK', '200', 'STREAMS', STREAM, last);
      if (reply === null) continue;
      const now = stamp();
      const [[, list]] = reply as [[Buffer, Reply]];
      const id = entries(list, (_id, value) => {
        consumed++;
        const sentAt = value.readDoubleLE(0);
        if (sentAt < measureFrom) return;
        meter.add(1, value.length);
        meter.latency(now - sentAt);
      });
      if (id) last = id.toString('latin1');
    }
  })();
  await sleep(200); // let the first XREAD BLOCK reach the server
  const limiter = new RateLimiter(rate);
  const end = performance.now() + (Number(args.warmup) + Number(args.duration)) * 1000;
  limiter.start();
  setTimeout(() => {
    measureFrom = stamp();
    meter.start();
  }, Number(args.warmup) * 1000);
  const pending = new Set<Promise<Reply>>();
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
      const p = producer.send(command(['XADD', STREAM, '*', 'v', value]));
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    produced += n;
  }
  await Promise.all(pending);
  const deadline = performance.now() + 10_000;
  while (consumed < produced && performance.now() < deadline) await sleep(5);
  reading = false;
  meter.stop();
  await reader;
  producer.close();
  consumer.close();
}

const run = { produce, consume, e2e }[mode as 'produce' | 'consume' | 'e2e'];
if (!run || !PORT) {
  process.stderr.write('usage: redis-load.ts produce|consume|e2e --port PORT\n');
  process.exit(2);
}
await run();
const latency = {
  produce: 'send to acknowledgement',
  consume: 'wait for the next batch',
  e2e: 'produce to consume',
}[mode as 'produce'];
printSummary(
  meter.summary(mode!, 'redis streams', latency, { record_size: SIZE, label: `Redis ${mode}` }),
  true,
);
