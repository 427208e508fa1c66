/**
 * Sluice against Redis Streams and NATS JetStream, the identical workloads measured side by side in
 * one run (issue 7): 100-byte records, one producer / one consumer on one connection each.
 *
 *   produce  Sluice `bench produce --acks 1` · Redis: redis-benchmark -c 1 -P 100 XADD (the target's
 *            reference) and redis-load.ts (the same pipelined XADD from Node) · NATS: nats-load.ts
 *            (publishes awaiting PubAcks, 1000 in flight)
 *   consume  everything just produced, from the beginning, every record decoded
 *   e2e      `--e2e-rate` records/s for `--e2e-duration` s: produce-to-consume latency
 *
 * Every system is started by this script on 127.0.0.1 with a fresh temp directory, one at a time,
 * for each round (the order rotates); load generators are processes of their own. Prints one table
 * of medians with Sluice's ratio to each peer.
 *
 *   node --import tsx bench/peers/compare.ts [--runs 3] [--records 1000000] [--e2e-rate 10000]
 *        [--e2e-duration 10] [--out results.json] [--report report.html]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { writeReport } from '../../src/cli/commands/bench-report.ts';
import type { BenchSummary } from '../../src/cli/commands/bench-stats.ts';
import {
  type BenchJson,
  fmtInt,
  fmtMs,
  fmtRatio,
  log,
  machine,
  markdownTable,
  median,
  sluiceBench,
  startSluice,
  stopSluice,
  tsScript,
} from '../harness/processes.ts';
import { startNats, startRedis } from './servers.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    records: { type: 'string', default: '1000000' },
    'e2e-rate': { type: 'string', default: '10000' },
    'e2e-duration': { type: 'string', default: '10' },
    systems: { type: 'string', default: 'sluice,redis,nats' },
    out: { type: 'string' },
    report: { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const N = args.records!;
const RATE = args['e2e-rate']!;
const DURATION = args['e2e-duration']!;

interface SystemRound {
  produce: BenchJson;
  consume: BenchJson;
  e2e: BenchJson;
  /** redis-benchmark's figures (Redis only). */
  redisBenchmark?: { rps: number; p50: number; p99: number };
}

async function sluiceRound(): Promise<SystemRound> {
  const broker = await startSluice();
  try {
    const common = ['--bootstrap', broker.url, '--record-size', '100', '--acks', '1'];
    return {
      produce: await sluiceBench(['produce', ...common, '--topic', 'peers', '--records', N]),
      consume: await sluiceBench(['consume', '--bootstrap', broker.url, '--topic', 'peers']),
      e2e: await sluiceBench([
        'e2e',
        ...common,
        '--topic',
        'peers-e2e',
        '--rate',
        RATE,
        '--duration',
        DURATION,
      ]),
    };
  } finally {
    await stopSluice(broker);
  }
}

function redisBenchmark(port: number): { rps: number; p50: number; p99: number } {
  const csv = execFileSync('redis-benchmark', [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-c',
    '1',
    '-P',
    '100',
    '-n',
    N,
    '--csv',
    'XADD',
    'redis-benchmark',
    '*',
    'v',
    'x'.repeat(100),
  ]).toString();
  const fields = csv
    .trim()
    .split('\n')
    .pop()!
    .split('","')
    .map((f) => f.replace(/"/g, ''));
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  return { rps: Number(fields[1]), p50: Number(fields[4]), p99: Number(fields[6]) };
}

async function redisRound(): Promise<SystemRound> {
  const redis = await startRedis();
  try {
    const port = ['--port', String(redis.port)];
    const redisBench = redisBenchmark(redis.port);
    return {
      redisBenchmark: redisBench,
      produce: await tsScript<BenchJson>('bench/peers/redis-load.ts', ['produce', ...port, '--records', N]),
      consume: await tsScript<BenchJson>('bench/peers/redis-load.ts', ['consume', ...port]),
      e2e: await tsScript<BenchJson>('bench/peers/redis-load.ts', [
        'e2e',
        ...port,
        '--stream',
        'e2e',
        '--rate',
        RATE,
        '--duration',
        DURATION,
      ]),
    };
  } finally {
    await redis.stop();
  }
}

async function natsRound(): Promise<SystemRound> {
  const nats = await startNats();
  try {
    const port = ['--port', String(nats.port)];
    const produce = await tsScript<BenchJson>('bench/peers/nats-load.ts', [
      'produce',
      ...port,
      '--records',
      N,
    ]);
    const consume = await tsScript<BenchJson>('bench/peers/nats-load.ts', ['consume', ...port]);
    return {
      produce,
      consume,
      e2e: await tsScript<BenchJson>('bench/peers/nats-load.ts', [
        'e2e',
        ...port,
        '--rate',
        RATE,
        '--duration',
        DURATION,
      ]),
    };
  } finally {
    await nats.stop();
  }
}

const runners = { sluice: sluiceRound, redis: redisRound, nats: natsRound } as const;
type SystemName = keyof typeof runners;
const systems = args.systems!.split(',') as SystemName[];
const results = new Map<SystemName, SystemRound[]>(systems.map((s) => [s, []]));
for (let r = 0; r < RUNS; r++) {
  const order = systems.map((_, i) => systems[(i + r) % systems.length]!);
  for (const system of order) {
    log(`round ${r + 1}/${RUNS}: ${system}`);
    const round = await runners[system]();
    results.get(system)!.push(round);
    log(
      `  produce ${fmtInt(round.produce.records_per_sec)}/s, consume ${fmtInt(round.consume.records_per_sec)}/s, e2e p50 ${fmtMs(round.e2e.p50_ms)} p99 ${fmtMs(round.e2e.p99_ms)} p99.9 ${fmtMs(round.e2e.p999_ms)} ms`,
    );
  }
}

const med = (system: SystemName, f: (r: SystemRound) => number | null | undefined) =>
  median((results.get(system) ?? []).map((r) => f(r) ?? Number.NaN));
/** The median over rounds of Sluice's figure divided by the peer's in the same round. */
const ratio = (peer: SystemName, f: (r: SystemRound) => number | null | undefined) =>
  median(
    (results.get('sluice') ?? []).map((s, i) => {
      const p = results.get(peer)?.[i];
      return p ? (f(s) ?? Number.NaN) / (f(p) ?? Number.NaN) : Number.NaN;
    }),
  );

const names: Record<SystemName, string> = {
  sluice: 'Sluice (ws)',
  redis: 'Redis Streams 7.0 (AOF everysec)',
  nats: 'NATS JetStream 2.9 (file)',
};
const rows: string[][] = [];
for (const system of systems) {
  rows.push([
    names[system],
    fmtInt(med(system, (r) => r.produce.records_per_sec)),
    `${fmtMs(med(system, (r) => r.produce.p50_ms))} / ${fmtMs(med(system, (r) => r.produce.p99_ms))}`,
    fmtInt(med(system, (r) => r.consume.records_per_sec)),
    `${fmtMs(med(system, (r) => r.e2e.p50_ms))} / ${fmtMs(med(system, (r) => r.e2e.p99_ms))} / ${fmtMs(med(system, (r) => r.e2e.p999_ms))}`,
  ]);
  if (system === 'redis')
    rows.push([
      'Redis: redis-benchmark -c 1 -P 100 XADD',
      fmtInt(med(system, (r) => r.redisBenchmark?.rps)),
      `${fmtMs(med(system, (r) => r.redisBenchmark?.p50))} / ${fmtMs(med(system, (r) => r.redisBenchmark?.p99))}`,
      '',
      '',
    ]);
}
for (const peer of systems.filter((s) => s !== 'sluice')) {
  rows.push([
    `Sluice ÷ ${names[peer]}`,
    `${fmtRatio(ratio(peer, (r) => r.produce.records_per_sec))}×`,
    '',
    `${fmtRatio(ratio(peer, (r) => r.consume.records_per_sec))}×`,
    `${fmtRatio(ratio(peer, (r) => r.e2e.p50_ms))} / ${fmtRatio(ratio(peer, (r) => r.e2e.p99_ms))} / ${fmtRatio(ratio(peer, (r) => r.e2e.p999_ms))} (lower is better)`,
  ]);
  if (peer === 'redis')
    rows.push([
      'Sluice ÷ redis-benchmark XADD',
      `${fmtRatio(
        median(
          (results.get('sluice') ?? []).map(
            (s, i) =>
              s.produce.records_per_sec / (results.get('redis')?.[i]?.redisBenchmark?.rps ?? Number.NaN),
          ),
        ),
      )}×`,
      '',
      '',
      '',
    ]);
}
process.stdout.write(
  `\nMachine: ${machine()}; ${RUNS} rounds, medians; ratios are medians of per-round ratios.\n`,
);
process.stdout.write(
  `100-byte records, ${fmtInt(Number(N))} produced then consumed; e2e at ${fmtInt(Number(RATE))} records/s for ${DURATION} s.\n\n`,
);
const table = markdownTable(
  [
    'system',
    'produce records/s',
    'produce latency p50 / p99 ms',
    'consume records/s',
    `e2e latency p50 / p99 / p99.9 ms`,
  ],
  rows,
);
if (args.out)
  fs.writeFileSync(
    args.out,
    JSON.stringify({ machine: machine(), results: Object.fromEntries(results), table }, null, 2),
  );
if (args.report) {
  const first = systems.flatMap((system) => {
    const r = results.get(system)?.[0];
    if (!r) return [];
    return [r.produce, r.consume, r.e2e].map((x) => {
      const summary = x as unknown as BenchSummary;
      summary.config = { ...summary.config, label: names[system] };
      return summary;
    });
  });
  writeReport(args.report, first, 'Sluice vs Redis Streams vs NATS JetStream (first round)');
}
