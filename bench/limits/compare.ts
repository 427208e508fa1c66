/**
 * Sluice against the practical ceiling of this machine, side by side in one run (issue 7):
 *
 *   produce 100 B   the bare pipeline (bare-client produce: ~16 KiB batches, 32 in flight, one ws
 *                   connection → main thread → worker → file) vs `sluice bench produce --acks 1`
 *                   (one producer, the client's defaults)
 *   consume 100 B   bare-client consume (4 reads of 1 MiB in flight, every record decoded) vs
 *                   `sluice bench consume` of what was just produced
 *   produce 1 KiB   `sluice bench produce --record-size 1024` vs `dd bs=1M` into the page cache of
 *                   the same disk (no fsync): MB/s of values against MB/s written
 *
 * Each round starts fresh servers and runs the two sides one after the other, alternating which
 * goes first; the table gives the medians and the median of the per-round ratios.
 *
 *   node --import tsx bench/limits/compare.ts [--runs 3] [--records 5000000] [--kib-records 1000000]
 *        [--out results.json] [--report report.html]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeReport } from '../../src/cli/commands/bench-report.ts';
import type { BenchSummary } from '../../src/cli/commands/bench-stats.ts';
import {
  type BenchJson,
  fmtInt,
  fmtRatio,
  log,
  machine,
  markdownTable,
  median,
  sluiceBench,
  startBare,
  startSluice,
  stopSluice,
  tempDir,
  tsScript,
} from '../harness/processes.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    records: { type: 'string', default: '5000000' },
    'kib-records': { type: 'string', default: '1000000' },
    out: { type: 'string' },
    report: { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const RECORDS = args.records;

interface Round {
  bareProduce: number;
  sluiceProduce: number;
  bareConsume: number;
  sluiceConsume: number;
  ddMBps: number;
  kibMBps: number;
  kibRecords: number;
}

async function bareSide(): Promise<{ produce: number; consume: number }> {
  const bare = await startBare();
  try {
    const p = await tsScript<BenchJson>('bench/limits/bare-client.ts', [
      'produce',
      '--url',
      bare.url,
      '--records',
      RECORDS,
    ]);
    const c = await tsScript<BenchJson>('bench/limits/bare-client.ts', ['consume', '--url', bare.url]);
    return { produce: p.records_per_sec, consume: c.records_per_sec };
  } finally {
    await bare.stop();
  }
}

const reports: BenchSummary[] = [];

async function sluiceSide(round: number): Promise<{ produce: number; consume: number }> {
  const broker = await startSluice();
  try {
    const common = ['--bootstrap', broker.url, '--topic', 'limits'];
    const p = await sluiceBench([
      'produce',
      ...common,
      '--records',
      RECORDS,
      '--record-size',
      '100',
      '--acks',
      '1',
    ]);
    const c = await sluiceBench(['consume', ...common]);
    if (round === 0) reports.push(label(p, 'Sluice produce 100 B'), label(c, 'Sluice consume 100 B'));
    return { produce: p.records_per_sec, consume: c.records_per_sec };
  } finally {
    await stopSluice(broker);
  }
}

function label(s: BenchJson, name: string): BenchSummary {
  const summary = s as unknown as BenchSummary;
  summary.config = { ...summary.config, label: name };
  return summary;
}

/** dd's page-cache write bandwidth on the disk that holds the data directories (MB/s). */
function ddMBps(mib: number): number {
  const dir = tempDir('sluice-dd-');
  const file = path.join(dir, 'dd.bin');
  try {
    const t0 = performance.now();
    execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${mib}`], { stdio: 'ignore' });
    const seconds = (performance.now() - t0) / 1000;
    return (mib * 1024 * 1024) / 1e6 / seconds;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function kibSide(round: number): Promise<{ mbps: number; records: number }> {
  const broker = await startSluice();
  try {
    const s = await sluiceBench([
      'produce',
      '--bootstrap',
      broker.url,
      '--topic',
      'limits-1k',
      '--records',
      args['kib-records']!,
      '--record-size',
      '1024',
      '--acks',
      '1',
    ]);
    if (round === 0) reports.push(label(s, 'Sluice produce 1 KiB'));
    return { mbps: s.mb_per_sec, records: s.records_per_sec };
  } finally {
    await stopSluice(broker);
  }
}

const rounds: Round[] = [];
for (let r = 0; r < RUNS; r++) {
  log(`round ${r + 1}/${RUNS}`);
  const bareFirst = r % 2 === 0;
  const first = bareFirst ? await bareSide() : await sluiceSide(r);
  const second = bareFirst ? await sluiceSide(r) : await bareSide();
  const bare = bareFirst ? first : second;
  const sluice = bareFirst ? second : first;
  const kibBytes = Math.round((Number(args['kib-records']) * 1024) / 2 ** 20);
  const dd = bareFirst ? ddMBps(kibBytes) : Number.NaN;
  const kib = await kibSide(r);
  const dd2 = bareFirst ? dd : ddMBps(kibBytes);
  const round: Round = {
    bareProduce: bare.produce,
    sluiceProduce: sluice.produce,
    bareConsume: bare.consume,
    sluiceConsume: sluice.consume,
    ddMBps: dd2,
    kibMBps: kib.mbps,
    kibRecords: kib.records,
  };
  rounds.push(round);
  log(JSON.stringify(round));
}

const m = (f: (r: Round) => number) => median(rounds.map(f));
process.stdout.write(
  `\nMachine: ${machine()}; ${RUNS} rounds, medians; ratios are medians of per-round ratios.\n\n`,
);
const table = markdownTable(
  ['workload', 'Sluice', 'ceiling (same run)', 'Sluice / ceiling', 'target'],
  [
    [
      'produce 100 B, 1 producer, ws, acks=1 (records/s)',
      fmtInt(m((r) => r.sluiceProduce)),
      `${fmtInt(m((r) => r.bareProduce))} (bare pipeline)`,
      fmtRatio(m((r) => r.sluiceProduce / r.bareProduce)),
      '≥ 2,000,000 and ≥ 0.85',
    ],
    [
      'consume 100 B, 1 consumer, every record decoded (records/s)',
      fmtInt(m((r) => r.sluiceConsume)),
      `${fmtInt(m((r) => r.bareConsume))} (bare pipeline)`,
      fmtRatio(m((r) => r.sluiceConsume / r.bareConsume)),
      '≥ 3,000,000 and ≥ 0.85',
    ],
    [
      'produce 1 KiB, 1 producer, ws, acks=1 (MB/s of values)',
      `${m((r) => r.kibMBps).toFixed(0)} MB/s (${fmtInt(m((r) => r.kibRecords))} records/s)`,
      `${m((r) => r.ddMBps).toFixed(0)} MB/s (dd bs=1M, page cache)`,
      fmtRatio(m((r) => r.kibMBps / r.ddMBps)),
      '≥ 0.60',
    ],
  ],
);
if (args.out) fs.writeFileSync(args.out, JSON.stringify({ machine: machine(), rounds, table }, null, 2));
if (args.report) writeReport(args.report, reports, 'Sluice vs the bare pipeline (first round)');
