/**
 * Where the time went, from V8 CPU profiles (`node --cpu-prof`, one .cpuprofile per thread): the
 * share of each thread that was busy at all, and its top functions by self time.
 *
 *   node --import tsx bench/harness/cpuprofile-top.ts DIR_OR_FILES… [--top 15] [--skip S]
 *
 * --skip S leaves out the first S seconds of each profile (start-up: module loading and compiling).
 *
 * Profiling a broker under load (the worker threads too, through SLUICE_WORKER_EXEC_ARGV):
 *   SLUICE_WORKER_EXEC_ARGV="--cpu-prof --cpu-prof-dir=/tmp/prof" \
 *     node --cpu-prof --cpu-prof-dir=/tmp/prof bin/sluice.js start --data-dir /tmp/d --port 0 --kafka-port 0
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof-client bin/sluice.js bench produce --bootstrap … --records 5000000
 *   (stop the broker with SIGTERM: the profiles are written at exit)
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '15' }, skip: { type: 'string', default: '0' } },
});
const files = positionals.flatMap((p) =>
  fs.statSync(p).isDirectory()
    ? fs
        .readdirSync(p)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => path.join(p, f))
    : [p],
);

for (const file of files) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const from = profile.startTime + Number(args.skip) * 1e6;
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    if (t >= from) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = profile.endTime - Math.max(profile.startTime, from);
  const byName = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') idle += us;
    const where = f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : '';
    const name = `${f.functionName || '(anonymous)'} ${where}`.trim();
    byName.set(name, (byName.get(name) ?? 0) + us);
  }
  const busy = total - idle;
  process.stdout.write(
    `\n${path.basename(file)}: ${(total / 1e6).toFixed(1)} s profiled, busy ${((100 * busy) / total).toFixed(0)}%\n`,
  );
  const top = [...byName.entries()]
    .filter(([n]) => !n.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(args.top));
  for (const [name, us] of top)
    process.stdout.write(`  ${((100 * us) / busy).toFixed(1).padStart(5)}% of busy  ${name}\n`);
}
