/**
 * What every `sluice bench` workload measures, in one place: counts, a latency histogram (HDR,
 * microsecond resolution, 3 significant digits), a timeline of two samples per second for the HTML
 * report, progress lines on stderr, and the final summary (text on stdout, or one JSON object on the
 * last line of stdout with --json).
 *
 * The clock is `performance.now()` (monotonic); latencies are recorded in microseconds so that the
 * sub-millisecond end-to-end figures keep three significant digits.
 */
import { build, type Histogram } from 'hdr-histogram-js';

/** One sample of the timeline: what happened during one interval. */
export interface TimelinePoint {
  /** Seconds since the start of the measurement, at the end of the interval. */
  t: number;
  records_per_sec: number;
  mb_per_sec: number;
  /** Average and largest latency of the interval (ms); null when none was recorded. */
  avg_ms: number | null;
  max_ms: number | null;
}

/** A point of the latency distribution (percentile → ms), for the report's chart. */
export interface PercentilePoint {
  percentile: number;
  ms: number;
}

/** The final summary; --json prints it as one object. */
export interface BenchSummary {
  workload: string;
  protocol: string;
  records: number;
  bytes: number;
  seconds: number;
  records_per_sec: number;
  mb_per_sec: number;
  /** What the latency figures measure (they differ by workload; see docs/benchmarks.md); null: not measured. */
  latency: string;
  avg_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  p999_ms: number | null;
  max_ms: number | null;
  /** The workload's settings, for the record. */
  config: Record<string, string | number | boolean>;
  timeline: TimelinePoint[];
  distribution: PercentilePoint[];
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** A new latency histogram in microseconds (1 µs … 1 h, grows if needed). */
export function latencyHistogram(): Histogram {
  const h = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  h.autoResize = true;
  return h;
}

/** Counts, latencies and the timeline of one run; see the module comment. */
export class BenchMeter {
  records = 0;
  bytes = 0;
  readonly histogram = latencyHistogram();
  readonly timeline: TimelinePoint[] = [];
  #start = performance.now();
  #end: number | undefined;
  #sampleAt = this.#start;
  #sampleRecords = 0;
  #sampleBytes = 0;
  #intervalSumUs = 0;
  #intervalCount = 0;
  #intervalMaxUs = 0;
  #progressAt = this.#start;
  #progressRecords = 0;
  #progressBytes = 0;
  #progressSumUs = 0;
  #progressCount = 0;
  #progressMaxUs = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly label: string,
    private readonly progressEveryMs: number,
    private readonly quiet: boolean,
  ) {}

  /** Start (or restart, after a warm-up) the clock and the counts. */
  start(): void {
    this.#start = this.#sampleAt = this.#progressAt = performance.now();
    this.records = this.bytes = 0;
    this.#sampleRecords = this.#sampleBytes = this.#progressRecords = this.#progressBytes = 0;
    this.#intervalSumUs = this.#intervalCount = this.#intervalMaxUs = 0;
    this.#progressSumUs = this.#progressCount = this.#progressMaxUs = 0;
    this.histogram.reset();
    this.timeline.length = 0;
    clearInterval(this.#timer);
    // Two samples a second for the timeline (short runs still draw a line); unref'd so that it never
    // keeps the process alive.
    this.#timer = setInterval(() => this.#sample(), 500);
    this.#timer.unref();
  }

  /** Seconds since start(). */
  get elapsed(): number {
    return ((this.#end ?? performance.now()) - this.#start) / 1000;
  }

  add(records: number, bytes: number): void {
    this.records += records;
    this.bytes += bytes;
  }

  /** Record a latency (ms) for `count` records. */
  latency(ms: number, count = 1): void {
    const us = Math.max(1, Math.round(ms * 1000));
    this.histogram.recordValueWithCount(us, count);
    this.#intervalSumUs += us * count;
    this.#intervalCount += count;
    if (us > this.#intervalMaxUs) this.#intervalMaxUs = us;
    this.#progressSumUs += us * count;
    this.#progressCount += count;
    if (us > this.#progressMaxUs) this.#progressMaxUs = us;
  }

  #sample(progress = true): void {
    const now = performance.now();
    const dt = (now - this.#sampleAt) / 1000;
    if (dt <= 0) return;
    this.timeline.push({
      t: round((now - this.#start) / 1000, 2),
      records_per_sec: Math.round((this.records - this.#sampleRecords) / dt),
      mb_per_sec: round((this.bytes - this.#sampleBytes) / 1e6 / dt, 2),
      avg_ms: this.#intervalCount > 0 ? round(this.#intervalSumUs / this.#intervalCount / 1000) : null,
      max_ms: this.#intervalCount > 0 ? round(this.#intervalMaxUs / 1000) : null,
    });
    this.#sampleAt = now;
    this.#sampleRecords = this.records;
    this.#sampleBytes = this.bytes;
    this.#intervalSumUs = this.#intervalCount = this.#intervalMaxUs = 0;
    if (progress && now - this.#progressAt >= this.progressEveryMs - 100) this.#progress(now);
  }

  /** kafka-producer-perf-test's line: records, rate, MB/s, avg and max latency of the interval. */
  #progress(now: number): void {
    const dt = (now - this.#progressAt) / 1000;
    const n = this.records - this.#progressRecords;
    const mb = (this.bytes - this.#progressBytes) / 1e6;
    const lat =
      this.#progressCount > 0
        ? `, ${(this.#progressSumUs / this.#progressCount / 1000).toFixed(2)} ms avg latency, ` +
          `${(this.#progressMaxUs / 1000).toFixed(2)} ms max latency`
        : '';
    if (!this.quiet) {
      process.stderr.write(
        `${this.label}: ${n.toLocaleString('en-US')} records in ${dt.toFixed(1)} s ` +
          `(${Math.round(n / dt).toLocaleString('en-US')} records/s, ${(mb / dt).toFixed(2)} MB/s${lat})\n`,
      );
    }
    this.#progressAt = now;
    this.#progressRecords = this.records;
    this.#progressBytes = this.bytes;
    this.#progressSumUs = this.#progressCount = this.#progressMaxUs = 0;
  }

  /** Stop the clock (the measurement window ends here). */
  stop(): void {
    if (this.#end !== undefined) return;
    this.#end = performance.now();
    clearInterval(this.#timer);
    // The last partial second, so that the timeline covers the whole run.
    if (this.#end - this.#sampleAt > 50) this.#sample(false);
  }

  summary(workload: string, protocol: string, latency: string, config: BenchSummary['config']): BenchSummary {
    this.stop();
    const seconds = Math.max(this.elapsed, 1e-6);
    const h = this.histogram;
    // HDR reports a bucket's highest equivalent value, which can exceed the true max.
    const ms = (us: number) => round(Math.min(us, h.maxValue) / 1000);
    const has = h.totalCount > 0;
    return {
      workload,
      protocol,
      records: this.records,
      bytes: this.bytes,
      seconds: round(seconds),
      records_per_sec: Math.round(this.records / seconds),
      mb_per_sec: round(this.bytes / 1e6 / seconds, 2),
      latency,
      avg_ms: has ? ms(h.mean) : null,
      p50_ms: has ? ms(h.getValueAtPercentile(50)) : null,
      p95_ms: has ? ms(h.getValueAtPercentile(95)) : null,
      p99_ms: has ? ms(h.getValueAtPercentile(99)) : null,
      p999_ms: has ? ms(h.getValueAtPercentile(99.9)) : null,
      max_ms: has ? ms(h.maxValue) : null,
      config,
      timeline: this.timeline,
      distribution: has ? distribution(h) : [],
    };
  }
}

/** Percentiles spaced as HdrHistogram plots them: ever closer to 100 (90, 99, 99.9 … 99.999). */
export function distribution(h: Histogram): PercentilePoint[] {
  const out: PercentilePoint[] = [];
  for (let i = 0; i <= 50; i++) {
    // 1 − 10^(−i/10): 0, 20.6, 36.9 … 90 (i=10), 99 (i=20), 99.9 (i=30), 99.99, 99.999 (i=50).
    const percentile = round(100 * (1 - 10 ** (-i / 10)), 4);
    out.push({ percentile, ms: round(h.getValueAtPercentile(percentile) / 1000) });
  }
  out.push({ percentile: 100, ms: round(h.maxValue / 1000) });
  return out;
}

/** The human summary on stdout; with --json, one JSON object on the last line instead. */
export function printSummary(s: BenchSummary, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(s)}\n`);
    return;
  }
  const lines = [
    `${s.workload} (${s.protocol}): ${s.records.toLocaleString('en-US')} records, ` +
      `${(s.bytes / 1e6).toFixed(1)} MB in ${s.seconds.toFixed(2)} s`,
    `  ${s.records_per_sec.toLocaleString('en-US')} records/s, ${s.mb_per_sec.toFixed(2)} MB/s`,
    s.p50_ms === null
      ? `  latency: not measured (${s.latency})`
      : `  latency (${s.latency}): avg ${s.avg_ms} ms, p50 ${s.p50_ms} ms, p95 ${s.p95_ms} ms, ` +
        `p99 ${s.p99_ms} ms, p99.9 ${s.p999_ms} ms, max ${s.max_ms} ms`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
