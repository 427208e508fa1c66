/**
 * The prom-client objects for the metric table in definitions.ts, registered in one registry, and
 * the topic/partition label sets they are used with.
 *
 * Main thread only.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { BucketHistogram } from './bucket-histogram.ts';
import { METRICS, type MetricDef, type MetricKey } from './definitions.ts';

/** Histograms are plain-number BucketHistograms (cheap on the hot paths, and fed by worker reports). */
type InstrumentOf<K extends MetricKey> = (typeof METRICS)[K]['type'] extends 'counter'
  ? Counter<string>
  : (typeof METRICS)[K]['type'] extends 'gauge'
    ? Gauge<string>
    : BucketHistogram;

export type Instruments = { readonly [K in MetricKey]: InstrumentOf<K> };

export function createInstruments(registry: Registry, partitionLabels: boolean): Instruments {
  const out: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(METRICS) as [MetricKey, MetricDef][]) {
    const labelNames = def.labels.filter((l) => partitionLabels || l !== 'partition');
    const config = { name: def.name, help: def.help, labelNames, registers: [registry] };
    if (def.type === 'counter') {
      out[key] = new Counter(config);
    } else if (def.type === 'gauge') {
      out[key] = new Gauge(config);
    } else {
      const h = new BucketHistogram(def);
      registry.registerMetric(h.asMetric());
      out[key] = h;
    }
  }
  return out as Instruments;
}

export type TopicLabels = { topic: string; partition?: string };

/** `<topic>-<partition>` (src/router/shard-table.ts partitionKey) back to its parts. */
export function splitPartitionKey(key: string): { topic: string; partition: number } {
  const dash = key.lastIndexOf('-');
  return { topic: key.slice(0, dash), partition: Number(key.slice(dash + 1)) };
}

/**
 * Label objects per partition, made once and reused (prom-client hashes the object on every
 * update; not allocating one per update keeps the fetch path cheap). With partition labels off,
 * every partition of a topic shares the `{ topic }` set, so counters add up per topic.
 */
export class PartitionLabels {
  private readonly byTopic = new Map<string, Map<number, TopicLabels>>();

  constructor(readonly partitionLabels: boolean) {}

  /** The label set of a partition (made on first use; `has` tells whether it exists yet). */
  of(topic: string, partition: number): TopicLabels {
    let partitions = this.byTopic.get(topic);
    if (!partitions) {
      partitions = new Map();
      this.byTopic.set(topic, partitions);
    }
    let labels = partitions.get(partition);
    if (!labels) {
      labels = this.partitionLabels ? { topic, partition: String(partition) } : { topic };
      partitions.set(partition, labels);
    }
    return labels;
  }

  has(topic: string, partition: number): boolean {
    return this.byTopic.get(topic)?.has(partition) === true;
  }

  /** Every distinct label set of a topic (one when partition labels are off). */
  setsOf(topic: string): TopicLabels[] {
    const partitions = this.byTopic.get(topic);
    if (!partitions) return [];
    return this.partitionLabels ? [...partitions.values()] : [{ topic }];
  }

  forget(topic: string): void {
    this.byTopic.delete(topic);
  }
}
