/**
 * `npm run bench`: the list of benchmarks, or one of them.
 *
 *   npm run bench                      list them, with their commands
 *   npm run bench -- --all             bash bench/run-all.sh: every row of bench/RESULTS.md's issue-7 tables
 *   npm run bench -- NAME [ARGS…]      run one (limits, peers, modes, storage, compaction, micro-…)
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

const BENCHMARKS: Record<string, { script: string; about: string }> = {
  limits: {
    script: 'bench/limits/compare.ts',
    about: 'Sluice vs the bare pipeline (produce/consume 100 B) and vs dd (produce 1 KiB)',
  },
  peers: {
    script: 'bench/peers/compare.ts',
    about: 'Sluice vs Redis Streams vs NATS JetStream: produce, consume, e2e latency',
  },
  modes: {
    script: 'bench/modes/compare.ts',
    about: 'Kafka front door (kcat) vs WebSocket; acks=all with fsync before every ack',
  },
  storage: {
    script: 'bench/storage/engine-append-read.ts',
    about: 'storage engine append/read vs raw fs; fsync group commit',
  },
  compaction: { script: 'bench/storage/compaction.ts', about: 'log compaction' },
  'micro-record-batch': { script: 'bench/micro/record-batch.ts', about: 'RecordBatch v2 encode/decode' },
  'micro-client-producer': {
    script: 'bench/micro/client-producer.ts',
    about: "the producer's client-side cost, in process",
  },
  'micro-client-consumer': {
    script: 'bench/micro/client-consumer.ts',
    about: "the consumer's client-side cost, in process",
  },
};

const [name, ...rest] = process.argv.slice(2);
if (name === '--all') {
  process.exitCode =
    spawnSync('bash', [path.join(ROOT, 'bench/run-all.sh')], { stdio: 'inherit', cwd: ROOT }).status ?? 1;
} else if (name !== undefined && name in BENCHMARKS) {
  const { script } = BENCHMARKS[name]!;
  process.exitCode =
    spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...rest], {
      stdio: 'inherit',
      cwd: ROOT,
    }).status ?? 1;
} else {
  const lines = [
    'Benchmarks (programs, not tests; results in bench/RESULTS.md, how-to in docs/benchmarks.md):',
    '',
    ...Object.entries(BENCHMARKS).map(
      ([n, b]) =>
        `  npm run bench -- ${n.padEnd(22)} ${b.about}\n  ${' '.repeat(20)}(node --import tsx ${b.script})`,
    ),
    '',
    '  npm run bench -- --all                 every row of the issue-7 tables (bash bench/run-all.sh)',
    '',
    'Load generators against a running broker:',
    '  npx sluice bench produce --topic T --records 1000000 --record-size 100 --acks 1',
    '  npx sluice bench consume --topic T',
    '  npx sluice bench e2e --rate 10000 --duration 10',
    '  … --protocol kafka (kcat or --kafka-client kafkajs), --json, --report out.html; see --help',
    '',
    'Reports and profiles:',
    '  node --import tsx bench/report/render.ts a.json b.json --out compare.html',
    '  node --import tsx bench/harness/cpuprofile-top.ts PROFILE_DIR --skip 2',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (name !== undefined) {
    process.stderr.write(`npm run bench: unknown benchmark "${name}"\n`);
    process.exitCode = 2;
  }
}
