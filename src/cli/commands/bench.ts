/**
 * `sluice bench produce|consume|e2e`: load generators that report records/s, MB/s and latency
 * percentiles, as kafka-producer-perf-test, `nats bench` and redis-benchmark do. Progress lines go to
 * stderr every few seconds; the summary goes to stdout (with --json: one JSON object on the last line
 * of stdout); --report writes a self-contained HTML page with the charts. docs/benchmarks.md has
 * the details, bench/ the side-by-side comparisons built on these commands.
 *
 * `--protocol ws` drives Sluice's own client; `--protocol kafka` the Kafka front door through a real
 * Kafka client: kcat (librdkafka) as a subprocess, or kafkajs in process.
 */
import { type Command, Option } from 'commander';
import { isCompressionName } from '../../protocol/kafka/record-batch.ts';
import { addBootstrap, parseAcks, parseInteger } from '../client-options.ts';
import { UsageError } from '../output.ts';
import { benchConsumeWs } from './bench-consume.ts';
import { benchE2eWs } from './bench-e2e.ts';
import { benchConsumeKafka, benchE2eKafka, benchProduceKafka } from './bench-kafka.ts';
import { benchProduceWs } from './bench-produce.ts';
import { writeReport } from './bench-report.ts';
import { BenchMeter, printSummary } from './bench-stats.ts';
import { type BenchSettings, describeSettings } from './bench-workload.ts';

type Workload = 'produce' | 'consume' | 'e2e';

interface BenchFlags {
  bootstrap: string;
  kafkaBootstrap?: string;
  protocol: string;
  kafkaClient: string;
  topic: string;
  partitions: string;
  records?: string;
  duration?: string;
  warmup?: string;
  recordSize: string;
  keySize: string;
  keys: string;
  batchBytes: string;
  lingerMs?: string;
  acks: string;
  compression: string;
  idempotent?: boolean;
  rate?: string;
  producers: string;
  consumers: string;
  group?: string;
  maxInFlightBytes?: string;
  bufferBytes?: string;
  fetchesInFlight?: string;
  progressInterval: string;
  json?: boolean;
  report?: string;
  quiet?: boolean;
}

/** What the latency figures of each workload are (see the workload files). */
const LATENCY_MEANING: Record<Workload, string> = {
  produce: 'send to acknowledgement',
  consume: 'wait for the next batch',
  e2e: 'produce to consume',
};

function positiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0))
    throw new UsageError(`${flag} expects a positive number, got "${value}"`);
  return n;
}

function settingsOf(workload: Workload, o: BenchFlags): BenchSettings {
  if (o.protocol !== 'ws' && o.protocol !== 'kafka') throw new UsageError('--protocol must be ws or kafka');
  if (o.kafkaClient !== 'kcat' && o.kafkaClient !== 'kafkajs')
    throw new UsageError('--kafka-client must be kcat or kafkajs');
  if (!isCompressionName(o.compression))
    throw new UsageError('--compression must be none, gzip, snappy, lz4 or zstd');
  if (o.records !== undefined && o.duration !== undefined)
    throw new UsageError('give --records or --duration, not both');
  const acks = parseAcks(o.acks);
  if (o.idempotent && acks !== -1) throw new UsageError('--idempotent needs --acks all');
  const records = o.records === undefined ? undefined : parseInteger(o.records, '--records', 1);
  let durationSec = o.duration === undefined ? undefined : positiveNumber(o.duration, '--duration');
  // produce needs an end; consume defaults to "everything there is"; e2e to 10 s.
  const defaultRecords = workload === 'produce' && records === undefined && durationSec === undefined;
  if (workload === 'e2e') {
    if (records !== undefined) throw new UsageError('bench e2e runs for --duration, not --records');
    durationSec ??= 10;
  }
  let kafkaBootstrap = o.kafkaBootstrap;
  if (kafkaBootstrap === undefined) {
    const host = /^wss?:\/\/([^/:]+|\[[^\]]+\])/.exec(o.bootstrap)?.[1] ?? '127.0.0.1';
    kafkaBootstrap = `${host}:9092`;
  }
  return {
    bootstrap: o.bootstrap,
    kafkaBootstrap,
    protocol: o.protocol,
    kafkaClient: o.kafkaClient,
    topic: o.topic,
    partitions: parseInteger(o.partitions, '--partitions', 1),
    records: defaultRecords ? 1_000_000 : records,
    durationSec,
    warmupSec: o.warmup === undefined ? (workload === 'e2e' ? 1 : 0) : Number(o.warmup),
    recordSize: parseInteger(o.recordSize, '--record-size', 1),
    keySize: parseInteger(o.keySize, '--key-size', 0),
    keys: parseInteger(o.keys, '--keys', 1),
    batchBytes: parseInteger(o.batchBytes, '--batch-bytes', 1024),
    lingerMs: parseInteger(o.lingerMs ?? (workload === 'e2e' ? '0' : '5'), '--linger-ms', 0),
    acks,
    compression: o.compression,
    idempotent: o.idempotent ?? false,
    rate: o.rate === undefined ? (workload === 'e2e' ? 10_000 : undefined) : positiveNumber(o.rate, '--rate'),
    producers: parseInteger(o.producers, '--producers', 1),
    consumers: parseInteger(o.consumers, '--consumers', 1),
    group: o.group,
    maxInFlightBytes:
      o.maxInFlightBytes === undefined
        ? undefined
        : parseInteger(o.maxInFlightBytes, '--max-in-flight-bytes', 1024),
    bufferBytes:
      o.bufferBytes === undefined ? undefined : parseInteger(o.bufferBytes, '--buffer-bytes', 1024),
    fetchesInFlight:
      o.fetchesInFlight === undefined ? undefined : parseInteger(o.fetchesInFlight, '--fetches-in-flight', 1),
    progressEveryMs: positiveNumber(o.progressInterval, '--progress-interval') * 1000,
    quiet: o.quiet ?? false,
  };
}

function addCommon(cmd: Command, workload: Workload): Command {
  addBootstrap(cmd);
  return cmd
    .addOption(
      new Option(
        '--kafka-bootstrap <host:port>',
        "broker's Kafka listener (default: the --bootstrap host, port 9092)",
      ).env('SLUICE_KAFKA_BOOTSTRAP'),
    )
    .addOption(new Option('--protocol <protocol>', 'front door: ws (Sluice client) or kafka').default('ws'))
    .addOption(
      new Option('--kafka-client <client>', 'with --protocol kafka: kcat (librdkafka) or kafkajs').default(
        'kcat',
      ),
    )
    .option('--topic <topic>', 'topic (created if missing)', 'sluice-bench')
    .option('--partitions <n>', 'partitions of the topic when it is created', '1')
    .option(
      '--records <n>',
      workload === 'produce' ? 'records to produce (default 1000000)' : 'stop after this many records',
    )
    .option('--duration <seconds>', 'run for this long instead')
    .option('--warmup <seconds>', `seconds not measured at the start (default ${workload === 'e2e' ? 1 : 0})`)
    .option('--progress-interval <seconds>', 'seconds between progress lines on stderr', '5')
    .option('--json', 'print the summary as one JSON object on the last line of stdout')
    .option(
      '--report <file.html>',
      'write a self-contained HTML report (throughput over time, latency distribution)',
    )
    .option('-q, --quiet', 'no progress lines');
}

function addProducerOptions(cmd: Command, workload: Workload): Command {
  return cmd
    .option('--record-size <bytes>', 'value size of each record', '100')
    .option(
      '--key-size <bytes>',
      'key size (0: no keys; keyless records stick to a partition per batch)',
      '0',
    )
    .option('--keys <n>', 'distinct keys, cycled (with --key-size)', '1000')
    .option('--batch-bytes <n>', 'producer batch size in bytes', String(64 * 1024))
    .option('--linger-ms <ms>', `longest wait to fill a batch (default ${workload === 'e2e' ? 0 : 5})`)
    .option('--acks <acks>', 'all (-1), 1 or 0', 'all')
    .option('--compression <codec>', 'none, gzip, snappy, lz4 or zstd', 'none')
    .option('--idempotent', 'idempotent producer (needs --acks all)')
    .option(
      '--rate <records/s>',
      workload === 'e2e'
        ? 'records per second (default 10000)'
        : 'records per second in total (default: unlimited)',
    )
    .option('--max-in-flight-bytes <n>', 'producer in-flight window in bytes (client default 4 MiB)')
    .option('--buffer-bytes <n>', 'producer buffer in bytes (client default 32 MiB)');
}

async function run(workload: Workload, o: BenchFlags): Promise<void> {
  const s = settingsOf(workload, o);
  const label = `${workload} ${s.protocol === 'kafka' ? `kafka/${s.kafkaClient}` : 'ws'}`;
  const meter = new BenchMeter(label, s.progressEveryMs, s.quiet);
  const byProtocol = {
    ws: { produce: benchProduceWs, consume: benchConsumeWs, e2e: benchE2eWs },
    kafka: { produce: benchProduceKafka, consume: benchConsumeKafka, e2e: benchE2eKafka },
  } as const;
  await byProtocol[s.protocol][workload](s, meter);
  const protocol = s.protocol === 'kafka' ? `kafka (${s.kafkaClient})` : 'ws';
  const summary = meter.summary(workload, protocol, LATENCY_MEANING[workload], describeSettings(s));
  if (o.report !== undefined) {
    writeReport(o.report, [summary]);
    if (!s.quiet) process.stderr.write(`report written to ${o.report}\n`);
  }
  printSummary(summary, o.json ?? false);
}

export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description('load benchmarks: records/s, MB/s and latency percentiles (docs/benchmarks.md)');
  const produce = bench.command('produce').description('produce records as fast as possible, or at --rate');
  addProducerOptions(addCommon(produce, 'produce'), 'produce').option(
    '--producers <n>',
    'producers, each with its own connection',
    '1',
  );
  produce.action((o: BenchFlags) => run('produce', o));

  const consume = bench
    .command('consume')
    .description('read a topic from the beginning, every record decoded');
  addCommon(consume, 'consume')
    .option('--consumers <n>', 'consumers, each with its own connection, sharing the partitions', '1')
    .option('--group <id>', 'consume as members of this consumer group (default: manual assignment)')
    .option('--fetches-in-flight <n>', 'concurrent fetches per consumer (client default 4)');
  consume.action((o: BenchFlags) => run('consume', o));

  const e2e = bench
    .command('e2e')
    .description('produce at a fixed rate and consume at once: produce-to-consume latency');
  addProducerOptions(addCommon(e2e, 'e2e'), 'e2e');
  e2e.action((o: BenchFlags) => run('e2e', o));

  // Defaults of the options one workload lacks.
  for (const cmd of [produce, consume, e2e]) {
    cmd.hook('preAction', (_, action) => {
      const defaults: Record<string, string> = {
        recordSize: '100',
        keySize: '0',
        keys: '1000',
        batchBytes: String(64 * 1024),
        acks: 'all',
        compression: 'none',
        producers: '1',
        consumers: '1',
      };
      for (const [k, v] of Object.entries(defaults))
        if (action.getOptionValue(k) === undefined) action.setOptionValue(k, v);
    });
  }
}
