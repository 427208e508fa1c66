/**
 * The Kafka front door driven by kcat (librdkafka), as a subprocess: what a C/Java/Go Kafka client
 * gets from Sluice.
 *
 *   produce  `kcat -P` reads newline-separated records from our pipe; throughput is the records the
 *            broker's offsets grew by, over the time from the first write to kcat's exit (kcat
 *            flushes and waits for every acknowledgement before exiting). kcat reports no
 *            per-record acknowledgement, so produce latency is not measured (null).
 *   consume  `kcat -C -o beginning -e` prints each record's key and value sizes to our pipe
 *            (librdkafka decodes every record); latency is the wait for each chunk of output.
 *   e2e      `kcat -P` (linger.ms=0) fed at a fixed rate with values that start with their send time
 *            in text, and `kcat -C -o end` printing the values back: the pipes add a few µs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';
import type { KafkaAdminHandle } from './bench-kafkajs.ts';
import type { BenchMeter } from './bench-stats.ts';
import { type BenchSettings, makePayloads, RateLimiter, StopCondition, sleep } from './bench-workload.ts';

export const KCAT = process.env.SLUICE_KCAT ?? 'kcat';

/** librdkafka settings for a producer with the workload's settings. */
function producerConfig(s: BenchSettings, lingerMs = s.lingerMs): string[] {
  const props: Record<string, string | number> = {
    acks: s.acks,
    'linger.ms': lingerMs,
    'batch.size': s.batchBytes,
    'compression.codec': s.compression,
    'queue.buffering.max.kbytes': Math.round((s.bufferBytes ?? 32 * 1024 * 1024) / 1024),
    'queue.buffering.max.messages': 10_000_000,
  };
  if (s.idempotent) props['enable.idempotence'] = 'true';
  return Object.entries(props).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
}

function startKcat(args: string[]): {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
} {
  const child = spawn(KCAT, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    if (stderr.length < 16_384) stderr += d;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) =>
      reject(new Error(`cannot run ${KCAT}: ${err.message} (install the kcat package)`)),
    );
    child.on('exit', (code) => resolve(code));
  });
  return { child, exited, stderr: () => stderr };
}

/** Lines of `recordSize` letters (and `key<TAB>` when keyed), joined into one chunk to write. */
function lineChunk(s: BenchSettings, lines: number): Buffer {
  const payloads = makePayloads(s.recordSize, 256);
  const parts: Buffer[] = [];
  for (let i = 0; i < lines; i++) {
    if (s.keySize > 0)
      parts.push(
        Buffer.from(
          `${String(i % s.keys)
            .padStart(s.keySize, '0')
            .slice(-s.keySize)}\t`,
        ),
      );
    parts.push(Buffer.from(payloads[i % payloads.length]!), Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

async function write(child: ChildProcess, data: Buffer): Promise<void> {
  if (!child.stdin!.write(data)) await new Promise<void>((resolve) => child.stdin!.once('drain', resolve));
}

export async function kcatProduce(
  s: BenchSettings,
  meter: BenchMeter,
  admin: KafkaAdminHandle,
): Promise<void> {
  const before = await admin.totalHigh(s.topic);
  const CHUNK = 1000;
  const chunk = lineChunk(s, CHUNK);
  const bytesPerRecord = s.recordSize + s.keySize;
  const args = ['-P', '-b', s.kafkaBootstrap, '-t', s.topic, '-q', ...producerConfig(s)];
  if (s.keySize > 0) args.push('-K', '\t');
  const kcat = startKcat(args);
  const stop = new StopCondition(s.records, s.durationSec);
  const limiter = new RateLimiter(s.rate);
  // Progress from the broker's offsets: kcat itself says nothing until it exits.
  let seen = before;
  const poll = setInterval(() => {
    admin.totalHigh(s.topic).then(
      (high) => {
        meter.add(high - seen, (high - seen) * bytesPerRecord);
        seen = high;
      },
      () => {},
    );
  }, 500);
  stop.start();
  limiter.start();
  meter.start();
  let written = 0;
  try {
    while (!stop.expired() && stop.remaining(written) > 0) {
      const due = limiter.due() - written;
      if (due <= 0) {
        await sleep(Math.max(1, limiter.waitFor(written + 1)));
        continue;
      }
      const n = Math.min(CHUNK, stop.remaining(written), due);
      const nl = n === CHUNK ? chunk.length : nthNewline(chunk, n);
      await write(kcat.child, n === CHUNK ? chunk : chunk.subarray(0, nl));
      written += n;
    }
    kcat.child.stdin!.end();
    const code = await kcat.exited;
    meter.stop();
    if (code !== 0) throw new Error(`kcat exited with ${code}: ${kcat.stderr().trim()}`);
  } finally {
    clearInterval(poll);
    if (kcat.child.exitCode === null) kcat.child.kill('SIGKILL');
  }
  const after = await admin.totalHigh(s.topic);
  // The final count is the broker's, not ours: what was written and acknowledged.
  meter.add(after - seen, (after - seen) * bytesPerRecord);
  if (after - before !== written)
    process.stderr.write(
      `sluice bench: wrote ${written} records to kcat, the topic grew by ${after - before}\n`,
    );
}

function nthNewline(buf: Buffer, n: number): number {
  let at = -1;
  for (let i = 0; i < n; i++) at = buf.indexOf(10, at + 1);
  return at + 1;
}

export async function kcatConsume(
  s: BenchSettings,
  meter: BenchMeter,
  admin: KafkaAdminHandle,
): Promise<void> {
  const available = (await admin.totalHigh(s.topic)) - (await admin.totalLow(s.topic));
  const target = s.records ?? (s.durationSec === undefined ? available : Number.POSITIVE_INFINITY);
  const args =
    s.group === undefined
      ? ['-C', '-b', s.kafkaBootstrap, '-t', s.topic, '-o', 'beginning', '-q', '-f', '%K %S\n']
      : [
          '-G',
          s.group,
          '-b',
          s.kafkaBootstrap,
          '-X',
          'auto.offset.reset=earliest',
          '-q',
          '-f',
          '%K %S\n',
          s.topic,
        ];
  if (s.records === undefined && s.durationSec === undefined && s.group === undefined) args.push('-e');
  if (Number.isFinite(target)) args.push('-c', String(target));
  if (target === 0) return;
  const stop = new StopCondition(target, s.durationSec);
  stop.start();
  const kcat = startKcat(args);
  kcat.child.stdin!.end();
  const timer = setInterval(() => {
    if (stop.expired()) kcat.child.kill('SIGTERM');
  }, 50);
  // The clock starts at kcat's first output: its start-up (process, metadata, offsets) is not the
  // broker's throughput, as a Sluice consumer's connect is not measured either.
  let started = false;
  let asked = 0;
  let number = 0;
  let key = 0;
  let bytes = 0;
  kcat.child.stdout!.on('data', (chunk: Buffer) => {
    const got = performance.now();
    if (!started) {
      started = true;
      meter.start();
    }
    // Lines of "KEYLEN VALUELEN\n" (a null key or value prints -1), parsed byte by byte.
    let lines = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c >= 48 && c <= 57) number = number * 10 + (c - 48);
      else if (c === 45)
        number = -1e9; // '-': a null key or value counts 0 bytes
      else if (c === 32) {
        key = number;
        number = 0;
      } else if (c === 10) {
        bytes += Math.max(0, key) + Math.max(0, number);
        key = number = 0;
        lines++;
      }
    }
    meter.add(lines, bytes);
    bytes = 0;
    if (asked > 0) meter.latency(got - asked, lines);
    asked = performance.now();
  });
  const code = await kcat.exited;
  clearInterval(timer);
  meter.stop();
  if (code !== 0 && !stop.expired()) throw new Error(`kcat exited with ${code}: ${kcat.stderr().trim()}`);
}

export async function kcatE2e(s: BenchSettings, meter: BenchMeter): Promise<void> {
  const rate = s.rate ?? 10_000;
  const duration = s.durationSec ?? 10;
  const consumer = startKcat([
    '-C',
    '-b',
    s.kafkaBootstrap,
    '-t',
    s.topic,
    '-o',
    'end',
    '-q',
    '-u',
    '-f',
    '%s\n',
  ]);
  consumer.child.stdin!.end();
  let consumed = 0;
  let measureFrom = Number.POSITIVE_INFINITY;
  const lines = readline.createInterface({ input: consumer.child.stdout! });
  lines.on('line', (line) => {
    const now = performance.timeOrigin + performance.now();
    consumed++;
    const sentAt = Number.parseFloat(line);
    if (!(sentAt >= measureFrom)) return;
    meter.add(1, line.length);
    meter.latency(now - sentAt);
  });
  // librdkafka needs a moment to find the partitions' ends before "-o end" means anything.
  await sleep(1500);
  const producer = startKcat(['-P', '-b', s.kafkaBootstrap, '-t', s.topic, '-q', ...producerConfig(s, 0)]);
  const payload = makePayloads(Math.max(s.recordSize, 24), 1)[0]!;
  const limiter = new RateLimiter(rate);
  let produced = 0;
  const end = performance.now() + (s.warmupSec + duration) * 1000;
  limiter.start();
  setTimeout(() => {
    measureFrom = performance.timeOrigin + performance.now();
    meter.start();
  }, s.warmupSec * 1000).unref();
  try {
    while (performance.now() < end) {
      const n = Math.min(1000, limiter.due() - produced);
      if (n <= 0) {
        await sleep(Math.max(1, Math.floor(limiter.waitFor(produced + 1))));
        continue;
      }
      const stamp = (performance.timeOrigin + performance.now()).toFixed(3);
      const value = Buffer.from(payload);
      value.write(`${stamp} `, 0, 'latin1');
      const line = Buffer.concat([value, Buffer.from('\n')]);
      await write(producer.child, Buffer.concat(Array.from({ length: n }, () => line)));
      produced += n;
    }
    producer.child.stdin!.end();
    await producer.exited;
    const deadline = performance.now() + 10_000;
    while (consumed < produced && performance.now() < deadline) await sleep(5);
    meter.stop();
    if (consumed < produced)
      process.stderr.write(`sluice bench: the consumer read ${consumed} of ${produced} records\n`);
  } finally {
    consumer.child.kill('SIGTERM');
    if (producer.child.exitCode === null) producer.child.kill('SIGKILL');
    await consumer.exited;
  }
}
