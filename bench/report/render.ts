/**
 * One HTML report from several saved `sluice bench --json` summaries (or peer-load outputs), e.g. to
 * put two versions of the broker, or two settings, side by side:
 *
 *   npx sluice bench produce --records 5000000 --json > before.json
 *   … change something, restart the broker …
 *   npx sluice bench produce --records 5000000 --json > after.json
 *   node --import tsx bench/report/render.ts before.json after.json --out compare.html [--title T]
 *
 * Each file's last line is its summary; runs are labelled by file name, grouped by workload.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeReport } from '../../src/cli/commands/bench-report.ts';
import type { BenchSummary } from '../../src/cli/commands/bench-stats.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string', default: 'report.html' }, title: { type: 'string' } },
});
if (positionals.length === 0) {
  process.stderr.write('usage: render.ts SUMMARY.json… [--out report.html] [--title TEXT]\n');
  process.exit(2);
}
const runs = positionals.map((file): BenchSummary => {
  const last = fs.readFileSync(file, 'utf8').trim().split('\n').pop() ?? '';
  const summary = JSON.parse(last) as BenchSummary;
  summary.config = { ...summary.config, label: path.basename(file, path.extname(file)) };
  return summary;
});
writeReport(args.out!, runs, args.title ?? 'Sluice benchmark comparison');
process.stderr.write(`wrote ${args.out}\n`);
