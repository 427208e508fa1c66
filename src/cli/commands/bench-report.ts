/**
 * `--report out.html`: one self-contained HTML page per run (or per comparison, from bench/): a table
 * of the summaries, throughput over time, latency over time and the latency distribution. The charts
 * are SVG drawn here, inline in the page: no script, no stylesheet or font from the network, so the
 * file opens anywhere, offline, and can be attached to an issue as it is.
 */
import fs from 'node:fs';
import type { BenchSummary } from './bench-stats.ts';

interface Series {
  name: string;
  points: [number, number][];
  /** Index into the palette (default: the series' position), so that a run keeps its colour. */
  color?: number;
  dashed?: boolean;
}

interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Fixed x ticks (value, label); otherwise about 6 evenly spaced ones. */
  xTicks?: { value: number; label: string }[];
  yLog?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const W = 760;
/** Height of the plot area and axes; the legend adds a line per series below it. */
const PLOT_H = 300;
const LEGEND_LINE = 16;
const PAD = { left: 70, right: 20, top: 34, bottom: 46 };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(a >= 1e4 ? 0 : 1)}k`;
  if (a >= 1) return String(Number(v.toFixed(2)));
  return String(Number(v.toPrecision(2)));
}

/** An SVG line chart (linear x; linear or log-10 y). */
export function lineChart(o: ChartOptions): string {
  const all = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) return `<p class="empty">${escapeHtml(o.title)}: no data</p>`;
  const H = PLOT_H;
  const height = PLOT_H + 8 + LEGEND_LINE * o.series.length;
  const xs = all.map(([x]) => x);
  const xMin = o.xTicks ? Math.min(...o.xTicks.map((t) => t.value), ...xs) : Math.min(0, ...xs);
  const xMax = Math.max(...xs, ...(o.xTicks ?? []).map((t) => t.value), xMin + 1e-9);
  const ys = all.map(([, y]) => y);
  let yMin: number;
  let yMax: number;
  let yTicks: number[];
  const yOf = (v: number): number => (o.yLog ? Math.log10(Math.max(v, 1e-3)) : v);
  if (o.yLog) {
    const lo = Math.floor(Math.log10(Math.max(Math.min(...ys.filter((y) => y > 0), 1e6), 1e-3)));
    const hi = Math.ceil(Math.log10(Math.max(...ys, 10 ** (lo + 1))));
    yMin = lo;
    yMax = Math.max(hi, lo + 1);
    yTicks = Array.from({ length: yMax - yMin + 1 }, (_, i) => 10 ** (yMin + i));
  } else {
    yMin = 0;
    const step = niceStep(Math.max(...ys, 1e-9), 5);
    yMax = Math.ceil(Math.max(...ys, 1e-9) / step) * step;
    yTicks = Array.from({ length: Math.round(yMax / step) + 1 }, (_, i) => i * step);
  }
  const px = (x: number) => PAD.left + ((x - xMin) / (xMax - xMin)) * (W - PAD.left - PAD.right);
  const py = (y: number) =>
    H - PAD.bottom - ((yOf(y) - yMin) / (yMax - yMin || 1)) * (H - PAD.top - PAD.bottom);
  const xTicks =
    o.xTicks ??
    (() => {
      const step = niceStep(xMax - xMin, 6);
      const out: { value: number; label: string }[] = [];
      for (let v = Math.ceil(xMin / step) * step; v <= xMax + 1e-9; v += step)
        out.push({ value: v, label: fmt(v) });
      return out;
    })();
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img">`,
  );
  parts.push(`<title>${escapeHtml(o.title)}</title>`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" class="t">${escapeHtml(o.title)}</text>`);
  for (const v of yTicks) {
    const y = py(v).toFixed(1);
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" class="g"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${y}" dy="4" text-anchor="end">${fmt(v)}</text>`);
  }
  for (const t of xTicks) {
    const x = px(t.value).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${PAD.top}" y2="${H - PAD.bottom}" class="g"/>`);
    parts.push(
      `<text x="${x}" y="${H - PAD.bottom + 16}" text-anchor="middle">${escapeHtml(t.label)}</text>`,
    );
  }
  parts.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle">${escapeHtml(o.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(16 ${(H - PAD.bottom + PAD.top) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(o.yLabel)}</text>`,
  );
  o.series.forEach((s, i) => {
    const color = COLORS[(s.color ?? i) % COLORS.length]!;
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 0) return;
    const d = pts
      .map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`)
      .join('');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    if (pts.length === 1)
      parts.push(`<circle cx="${px(pts[0]![0])}" cy="${py(pts[0]![1])}" r="3" fill="${color}"/>`);
    const ly = H + 8 + LEGEND_LINE * i;
    parts.push(
      `<line x1="${PAD.left}" x2="${PAD.left + 14}" y1="${ly + 1}" y2="${ly + 1}" stroke="${color}" stroke-width="3"${dash}/>`,
    );
    parts.push(`<text x="${PAD.left + 20}" y="${ly + 5}" class="l">${escapeHtml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Percentile → position on the HdrHistogram-style axis (0 at 0%, 1 at 90%, 2 at 99%, …). */
const nines = (percentile: number): number => -Math.log10(Math.max(1e-6, 1 - percentile / 100));

export function seriesName(s: BenchSummary): string {
  return (s.config.label as string | undefined) ?? `${s.workload} ${s.protocol}`;
}

function summaryTable(runs: BenchSummary[]): string {
  const head = [
    'run',
    'records',
    'seconds',
    'records/s',
    'MB/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'p99.9 ms',
    'max ms',
  ];
  const rows = runs.map((s) =>
    [
      seriesName(s),
      s.records.toLocaleString('en-US'),
      s.seconds.toFixed(2),
      s.records_per_sec.toLocaleString('en-US'),
      s.mb_per_sec.toFixed(2),
      ...[s.p50_ms, s.p95_ms, s.p99_ms, s.p999_ms, s.max_ms].map((v) => (v === null ? '–' : String(v))),
    ]
      .map((c) => `<td>${escapeHtml(c)}</td>`)
      .join(''),
  );
  return `<table><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r}</tr>`).join('')}</table>`;
}

function settingsTable(runs: BenchSummary[]): string {
  return runs
    .map(
      (s) =>
        `<details><summary>${escapeHtml(seriesName(s))}: settings</summary><pre>${escapeHtml(JSON.stringify(s.config, null, 2))}</pre></details>`,
    )
    .join('');
}

/** Throughput, latency over time and latency distribution of runs of one workload. */
function charts(runs: BenchSummary[]): string[] {
  const percentileTicks = [0, 90, 99, 99.9, 99.99, 99.999].map((p) => ({ value: nines(p), label: `${p}%` }));
  return [
    lineChart({
      title: 'Throughput over time',
      xLabel: 'seconds',
      yLabel: 'records/s',
      series: runs.map((s) => ({
        name: seriesName(s),
        points: s.timeline.map((p) => [p.t, p.records_per_sec]),
      })),
    }),
    lineChart({
      title: 'Latency over time (average and largest of each half second)',
      xLabel: 'seconds',
      yLabel: 'ms (log scale)',
      yLog: true,
      series: runs.flatMap((s, i) =>
        s.distribution.length === 0
          ? []
          : [
              {
                name: `${seriesName(s)} avg`,
                color: i,
                points: s.timeline.flatMap((p) => (p.avg_ms === null ? [] : [[p.t, p.avg_ms]])),
              },
              {
                name: `${seriesName(s)} max (dashed)`,
                color: i,
                dashed: true,
                points: s.timeline.flatMap((p) => (p.max_ms === null ? [] : [[p.t, p.max_ms]])),
              },
            ],
      ) as Series[],
    }),
    lineChart({
      title: 'Latency distribution',
      xLabel: 'percentile',
      yLabel: 'ms (log scale)',
      yLog: true,
      xTicks: percentileTicks,
      series: runs.flatMap((s, i) =>
        s.distribution.length === 0
          ? []
          : [
              {
                name: seriesName(s),
                color: i,
                points: s.distribution
                  .filter((d) => d.percentile < 100)
                  .map((d): [number, number] => [nines(d.percentile), d.ms]),
              },
            ],
      ),
    }),
  ];
}

/**
 * The report page for one run or several side by side: one section per workload (produce, consume,
 * e2e), each with its table and charts, so that like is plotted against like.
 */
export function renderReport(runs: BenchSummary[], title = 'Sluice benchmark', notes = ''): string {
  const workloads = [...new Set(runs.map((s) => s.workload))];
  const sections = workloads.map((w) => {
    const these = runs.filter((s) => s.workload === w);
    const heading = workloads.length > 1 ? `<h2>${escapeHtml(w)}</h2>` : '';
    return `${heading}
<p class="meta">Latency: ${escapeHtml([...new Set(these.map((s) => s.latency))].join('; '))}.</p>
${summaryTable(these)}
${charts(these).join('\n')}`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:960px;color:#222}
h1{font-size:20px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:12px 0;font-size:13px;font-variant-numeric:tabular-nums}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}
th{background:#f3f3f3}svg{display:block;margin:18px 0;font-size:11px}svg .g{stroke:#e5e5e5}
svg .t{font-size:14px;font-weight:600}svg .l{font-size:11px}pre{background:#f7f7f7;padding:8px}
.empty,.meta{color:#666}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">Generated ${escapeHtml(new Date().toISOString())} by sluice bench.${notes ? ` ${escapeHtml(notes)}` : ''}</p>
${sections.join('\n')}
${settingsTable(runs)}
</body></html>
`;
}

export function writeReport(file: string, runs: BenchSummary[], title?: string, notes?: string): void {
  fs.writeFileSync(file, renderReport(runs, title, notes));
}
