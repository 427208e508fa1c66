/**
 * A Prometheus histogram kept as plain numbers: per label set, a count per bucket and a sum. The hot
 * paths observe into a child they looked up once (a bucket search and two additions: no label
 * hashing or validation per observation, unlike prom-client's Histogram), and the worker threads'
 * pre-bucketed counts (task-latency.ts) are added in whole. prom-client renders it: this implements
 * the part of its metric interface a Registry uses (name, help, type, get, reset) and produces the
 * cumulative `_bucket` / `_sum` / `_count` series the way prom-client's Histogram does.
 *
 * Main thread only.
 */
import type { Metric, MetricObjectWithValues, MetricValueWithName } from 'prom-client';
import type { MetricDef } from './definitions.ts';
import { bucketIndex } from './task-latency.ts';

export class HistogramChild {
  /** Non-cumulative counts per bucket, the last one for +Inf. */
  readonly counts: number[];
  sum = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    this.counts[bucketIndex(this.bounds, value)]!++;
    this.sum += value;
  }

  /** Add counts bucketed elsewhere with the same bounds (`counts.length` = bounds + 1). */
  add(counts: readonly number[], sum: number): void {
    const n = Math.min(counts.length, this.counts.length);
    for (let i = 0; i < n; i++) this.counts[i]! += counts[i]!;
    this.sum += sum;
  }

  get count(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }
}

export class BucketHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  private readonly children = new Map<string, HistogramChild>();

  constructor(def: MetricDef) {
    if (!def.buckets) throw new Error(`${def.name} has no buckets`);
    this.name = def.name;
    this.help = def.help;
    this.bounds = def.buckets;
  }

  /** The series of a label set, made (at zero) on first use; keep it to observe without lookups. */
  child(labels: Readonly<Record<string, string>> = {}): HistogramChild {
    const key = keyOf(labels);
    let c = this.children.get(key);
    if (!c) {
      c = new HistogramChild(labels, this.bounds);
      this.children.set(key, c);
    }
    return c;
  }

  all(): IterableIterator<HistogramChild> {
    return this.children.values();
  }

  remove(labels: Readonly<Record<string, string>>): void {
    this.children.delete(keyOf(labels));
  }

  reset(): void {
    this.children.clear();
  }

  async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    for (const c of this.children.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += c.counts[i]!;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { ...c.labels, le: i < this.bounds.length ? this.bounds[i]! : '+Inf' },
          value: cumulative,
        });
      }
      values.push({ metricName: `${this.name}_sum`, labels: c.labels, value: c.sum });
      values.push({ metricName: `${this.name}_count`, labels: c.labels, value: cumulative });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values } as never;
  }

  /** For Registry.registerMetric, which is typed for prom-client's own classes. */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}

function keyOf(labels: Readonly<Record<string, string>>): string {
  let key = '';
  for (const name of Object.keys(labels).sort()) key += `${name}\u0000${labels[name]}\u0001`;
  return key;
}
