/**
 * The broker's metrics: one prom-client registry (main thread only), the metrics of definitions.ts,
 * prom-client's default Node metrics (process memory and CPU, GC, event-loop lag), and what fills
 * them:
 *
 * - hooks the front doors and handlers call on their hot paths. They add to plain numbers (a
 *   histogram bucket per request; records and bytes per fetched partition, records counted from the
 *   batch headers, nothing per record) that reach prom-client at scrape time; only errors, which are
 *   rare, update prom-client directly;
 * - the worker threads' periodic reports, relayed by the partition engine (report-collector.ts);
 * - the group coordinator's state and the broker's own gauges, read at scrape time (`scrape`).
 *
 * GET /metrics (src/broker/broker.ts) calls `scrape(accept)`: Prometheus text format, or OpenMetrics
 * when the Accept header asks for it (open-metrics.ts).
 *
 * Main thread only.
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { TopicRecord } from '../broker/topic-registry.ts';
import { toErrorData } from '../errors.ts';
import { API_TABLE, type ApiKey } from '../protocol/kafka/api-keys.ts';
import { BatchField, batchSizeAt } from '../protocol/kafka/record-batch.ts';
import { OP_NAMES } from '../protocol/wire/ops.ts';
import type { EngineEvents, WorkerReport } from '../router/partition-engine.ts';
import type { HistogramChild } from './bucket-histogram.ts';
import { DROPPED_DEFAULT_METRICS, METRICS } from './definitions.ts';
import { GroupCollector, type GroupSource } from './group-collector.ts';
import { createInstruments, type Instruments, PartitionLabels, type TopicLabels } from './instruments.ts';
import {
  OPENMETRICS_CONTENT_TYPE,
  openMetricsMirror,
  PROMETHEUS_CONTENT_TYPE,
  wantsOpenMetrics,
} from './open-metrics.ts';
import { ReportCollector } from './report-collector.ts';

export type Protocol = 'ws' | 'kafka';

export interface MetricsOptions {
  /** Label per-partition series with `partition` (metrics.partition.labels); false sums per topic. */
  partitionLabels: boolean;
  /** Goes into sluice_build_info. */
  version: string;
  /** Register prom-client's default Node metrics (default true). */
  defaultMetrics?: boolean;
}

/** What the broker hands over once its parts exist (see `attach`). */
export interface MetricsSources {
  dataDir: string;
  engine: {
    readonly workerCount: number;
    highWatermark(topic: string, partition: number): number | undefined;
    on<K extends keyof EngineEvents>(event: K, listener: (...args: EngineEvents[K]) => void): unknown;
  };
  topics: {
    list(): TopicRecord[];
    get(name: string): TopicRecord | undefined;
    on(event: 'deleted', listener: (name: string) => void): unknown;
  };
  /** The broker-wide log.cleanup.policy (topics without an override follow it). */
  defaultCleanupPolicy: string;
  coordinator: GroupSource;
  connections(): Record<Protocol, number>;
  fetchesParked(): number;
}

/** What the fetch hook reads of each answered partition (handlers/fetch.ts slots). */
export interface FetchedPartition {
  topic: string;
  partition: number;
  result: { records: Uint8Array | null; error?: { code: string } | undefined };
}

/** What the produce hook reads of an answer (handlers/produce.ts). */
export interface ProducedTopics {
  topics: { partitions: { error?: { code: string } | undefined }[] }[];
}

const WS_APIS = new Set<string>([...OP_NAMES, 'hello']);

/** Kafka API names as the `api` label: JoinGroup → joinGroup, the same words as the WebSocket ops. */
const KAFKA_APIS: string[] = [];
for (const spec of Object.values(API_TABLE)) {
  KAFKA_APIS[spec.apiKey] = spec.name.charAt(0).toLowerCase() + spec.name.slice(1);
}

export function kafkaApiLabel(apiKey: number): string {
  return KAFKA_APIS[apiKey as ApiKey] ?? 'unknown';
}

export class BrokerMetrics {
  readonly registry: Registry;
  private openMetrics: Registry<typeof OPENMETRICS_CONTENT_TYPE> | undefined;
  private readonly m: Instruments;
  private readonly labels: PartitionLabels;
  /** Request latency series: WebSocket by op, Kafka by API key (looked up once, then observed). */
  private readonly wsRequests = new Map<string, HistogramChild>();
  private readonly kafkaRequests: (HistogramChild | undefined)[] = [];
  private readonly fetchWait: HistogramChild;
  private readonly fetchServe: HistogramChild;
  /** Records and bytes out since the last scrape, per partition label set. */
  private readonly pendingOut = new Map<TopicLabels, { records: number; bytes: number }>();
  private reports: ReportCollector | undefined;
  private groups: GroupCollector | undefined;
  private sources: MetricsSources | undefined;

  constructor(private readonly options: MetricsOptions) {
    this.registry = new Registry();
    this.m = createInstruments(this.registry, options.partitionLabels);
    this.labels = new PartitionLabels(options.partitionLabels);
    this.m.buildInfo.set({ version: options.version }, 1);
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of DROPPED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
    // Zero series for the APIs every dashboard shows, so rates exist before the first request.
    for (const protocol of ['ws', 'kafka'] as const) {
      for (const api of ['produce', 'fetch']) this.m.requestDuration.child({ protocol, api });
    }
    this.fetchWait = this.m.fetchWait.child();
    this.fetchServe = this.m.fetchServe.child();
  }

  /** Wire the broker's parts in: engine reports, worker failures, topic deletions, group events. */
  attach(sources: MetricsSources): void {
    this.sources = sources;
    const topicFacts = {
      exists: (topic: string) => sources.topics.get(topic) !== undefined,
      compacted: (topic: string) => {
        const record = sources.topics.get(topic);
        const policy = record?.configs['cleanup.policy'] ?? sources.defaultCleanupPolicy;
        return policy.includes('compact');
      },
    };
    const reports = new ReportCollector(this.m, this.labels, topicFacts);
    this.reports = reports;
    reports.initWorkers(sources.engine.workerCount);
    sources.engine.on('report', (r: WorkerReport) => reports.report(r));
    sources.engine.on('workerFailed', (shard: number) => reports.workerFailed(shard));
    sources.topics.on('deleted', (name) => reports.topicDeleted(name));
    this.groups = new GroupCollector(
      this.m,
      sources.coordinator,
      (topic, partition) => sources.engine.highWatermark(topic, partition),
      this.options.partitionLabels,
    );
  }

  // ---- hot-path hooks (front doors and handlers) ----

  /** A WebSocket request was answered (or failed as a whole): count and time it. */
  wsRequestDone(op: string, startedAt: number, error?: unknown): void {
    // Ops a client made up share the "unknown" series (labels stay bounded).
    const api = WS_APIS.has(op) ? op : 'unknown';
    let series = this.wsRequests.get(api);
    if (!series) {
      series = this.m.requestDuration.child({ protocol: 'ws', api });
      this.wsRequests.set(api, series);
    }
    series.observe((performance.now() - startedAt) / 1000);
    if (error !== undefined) this.requestFailed('ws', api, error);
  }

  /** A Kafka request was answered, or failed (the connection closes): count and time it. */
  kafkaRequestDone(apiKey: number, startedAt: number, error?: unknown): void {
    let series = this.kafkaRequests[apiKey];
    if (!series) {
      series = this.m.requestDuration.child({ protocol: 'kafka', api: kafkaApiLabel(apiKey) });
      this.kafkaRequests[apiKey] = series;
    }
    series.observe((performance.now() - startedAt) / 1000);
    if (error !== undefined) this.requestFailed('kafka', series.labels.api!, error);
  }

  /**
   * The Kafka front door refused a frame before running it (too large, undecodable, unknown API or
   * version): the connection closes. Counted as api="unknown": the frame was never decoded.
   */
  kafkaRefused(error: unknown): void {
    this.m.requestErrors.inc({ protocol: 'kafka', api: 'unknown', error: toErrorData(error).code });
  }

  /** A fetch answers: records and bytes out per partition, partition errors, wait vs serve time. */
  fetchAnswered(
    byTopic: readonly (readonly FetchedPartition[])[],
    startedAt: number,
    waitedMs: number,
  ): void {
    const m = this.m;
    for (const partitions of byTopic) {
      for (const p of partitions) {
        const { records, error } = p.result;
        if (error) {
          m.partitionErrors.inc({ api: 'fetch', error: error.code });
          continue;
        }
        if (!records || records.byteLength === 0) continue;
        const l = this.reports?.partitionLabels(p.topic, p.partition) ?? this.labels.of(p.topic, p.partition);
        let out = this.pendingOut.get(l);
        if (!out) {
          out = { records: 0, bytes: 0 };
          this.pendingOut.set(l, out);
        }
        out.records += countRecords(records);
        out.bytes += records.byteLength;
      }
    }
    const totalMs = performance.now() - startedAt;
    this.fetchWait.observe(waitedMs / 1000);
    this.fetchServe.observe(Math.max(0, totalMs - waitedMs) / 1000);
  }

  /** A produce answers: its partition errors (records and bytes in come from the worker reports). */
  produceAnswered(answer: ProducedTopics): void {
    for (const t of answer.topics)
      for (const p of t.partitions)
        if (p.error) this.m.partitionErrors.inc({ api: 'produce', error: p.error.code });
  }

  // ---- scrape ----

  /** Render every metric; OpenMetrics when `accept` asks for it. */
  async scrape(accept?: string): Promise<{ contentType: string; body: string }> {
    await this.refresh();
    if (wantsOpenMetrics(accept)) {
      this.openMetrics ??= openMetricsMirror(this.registry);
      return { contentType: OPENMETRICS_CONTENT_TYPE, body: await this.openMetrics.metrics() };
    }
    return { contentType: PROMETHEUS_CONTENT_TYPE, body: await this.registry.metrics() };
  }

  /** Scrape-time figures: log gauges, groups, broker gauges, disk. */
  private async refresh(): Promise<void> {
    const m = this.m;
    // Hot-path tallies into prom-client: request counts from the latency series, records and bytes out.
    m.requests.reset();
    for (const series of m.requestDuration.all()) m.requests.inc(series.labels, series.count);
    const s = this.sources;
    if (!s) return;
    for (const [labels, out] of this.pendingOut) {
      if (s.topics.get(labels.topic) === undefined) {
        this.pendingOut.delete(labels); // deleted meanwhile: its series are gone
        continue;
      }
      m.recordsOut.inc(labels, out.records);
      m.bytesOut.inc(labels, out.bytes);
      out.records = 0;
      out.bytes = 0;
    }
    this.reports?.refreshLogGauges();
    this.groups?.refresh();
    const topics = s.topics.list();
    m.topics.set(topics.length);
    m.partitions.set(topics.reduce((n, t) => n + t.partitions, 0));
    const connections = s.connections();
    for (const protocol of ['ws', 'kafka'] as const) m.connections.set({ protocol }, connections[protocol]);
    m.fetchesParked.set(s.fetchesParked());
    try {
      const fsStats = await fs.promises.statfs(s.dataDir);
      m.diskAvailable.set(fsStats.bavail * fsStats.bsize);
      m.diskCapacity.set(fsStats.blocks * fsStats.bsize);
    } catch {
      // The data directory vanished or the platform has no statfs: leave the last figures.
    }
  }

  private requestFailed(protocol: Protocol, api: string, error: unknown): void {
    this.m.requestErrors.inc({ protocol, api, error: toErrorData(error).code });
  }
}

/** Records in whole stored batches, from each batch header's record count (no record is parsed). */
export function countRecords(batches: Uint8Array): number {
  const view = new DataView(batches.buffer, batches.byteOffset, batches.byteLength);
  let records = 0;
  for (let at = 0; at + BatchField.records <= batches.byteLength; ) {
    const size = batchSizeAt(batches, at);
    if (size === undefined) break;
    records += view.getInt32(at + BatchField.recordsCount);
    at += size;
  }
  return records;
}

/** Every metric name Sluice defines (docs and dashboard tests). */
export const SLUICE_METRIC_NAMES: readonly string[] = Object.values(METRICS).map((d) => d.name);
