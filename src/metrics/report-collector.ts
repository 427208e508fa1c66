/**
 * Turns the worker threads' periodic reports (workers/contract.ts, `report` events of the partition
 * engine, about once a second per worker) into metrics. Workers keep plain counters and send deltas;
 * this adds them to prom-client counters, keeps the latest log figures per partition for the gauges
 * (set at scrape time, so that per-topic sums see every partition), and feeds the fsync and task
 * latency histograms.
 *
 * Series of a partition are initialised to 0 when it is first reported, so rates and increases are
 * defined before the first event (a retention panel shows 0 rather than "no data").
 *
 * Main thread only.
 */
import type { WorkerReport } from '../router/partition-engine.ts';
import type { LogStats } from '../storage/log.ts';
import {
  type Instruments,
  type PartitionLabels,
  splitPartitionKey,
  type TopicLabels,
} from './instruments.ts';

/** What the collector needs to know of the topics. */
export interface TopicFacts {
  exists(topic: string): boolean;
  compacted(topic: string): boolean;
}

interface Latest {
  labels: TopicLabels;
  stats: LogStats;
}

const BATCH_OUTCOMES = ['appended', 'duplicate', 'rejected'] as const;
const PASS_OUTCOMES = ['finished', 'abandoned'] as const;

export class ReportCollector {
  /** Latest log figures per partition key. */
  private readonly latest = new Map<string, Latest>();
  private readonly workerLabels: { worker: string }[] = [];

  constructor(
    private readonly m: Instruments,
    private readonly labels: PartitionLabels,
    private readonly topics: TopicFacts,
  ) {}

  /** Series of every worker exist from the start (no failures, no fsync yet). */
  initWorkers(count: number): void {
    for (let w = 0; w < count; w++) {
      this.m.workerFailures.inc(this.worker(w), 0);
      this.m.fsyncDuration.child(this.worker(w));
    }
  }

  workerFailed(shard: number): void {
    this.m.workerFailures.inc(this.worker(shard));
  }

  report(r: WorkerReport): void {
    const m = this.m;
    for (const p of r.partitions) {
      const { topic, partition } = splitPartitionKey(p.key);
      // A report that raced a topic deletion must not bring its series back.
      if (!this.topics.exists(topic)) continue;
      const l = this.partitionLabels(topic, partition);
      this.latest.set(p.key, { labels: l, stats: p.stats });
      const c = p.counters;
      if (c.appendedRecords > 0) m.recordsIn.inc(l, c.appendedRecords);
      if (c.appendedBytes > 0) m.bytesIn.inc(l, c.appendedBytes);
      if (c.appendedBatches > 0) m.batchesIn.inc({ ...l, outcome: 'appended' }, c.appendedBatches);
      if (c.duplicateBatches > 0) m.batchesIn.inc({ ...l, outcome: 'duplicate' }, c.duplicateBatches);
      if (c.rejectedBatches > 0) m.batchesIn.inc({ ...l, outcome: 'rejected' }, c.rejectedBatches);
    }
    for (const d of r.retention) {
      const { topic, partition } = splitPartitionKey(d.key);
      if (!this.topics.exists(topic)) continue;
      const l = this.partitionLabels(topic, partition);
      m.retentionSegments.inc(l, d.deletedSegments);
      m.retentionBytes.inc(l, d.deletedBytes);
    }
    for (const c of r.cleaner ?? []) {
      const { topic, partition } = splitPartitionKey(c.key);
      if (!this.topics.exists(topic)) continue;
      const l = this.partitionLabels(topic, partition);
      m.cleanerCleaned.inc(l, c.cleanedBytes);
      m.cleanerRemoved.inc(l, c.removedRecords);
      m.cleanerReclaimed.inc(l, Math.max(0, c.reclaimedBytes));
      if (c.passes > 0) m.cleanerPasses.inc({ ...l, outcome: 'finished' }, c.passes);
      if (c.abandoned > 0) m.cleanerPasses.inc({ ...l, outcome: 'abandoned' }, c.abandoned);
    }
    const w = this.worker(r.shard);
    m.workerBusy.inc(w, Math.max(0, r.busyMs) / 1000);
    m.workerUtilization.set(w, r.elapsedMs > 0 ? Math.min(1, r.busyMs / r.elapsedMs) : 0);
    m.workerQueue.set(w, r.queuedRequests);
    m.workerRequests.inc(w, r.processedRequests);
    const fsync = m.fsyncDuration.child(w);
    for (const seconds of r.fsyncs) fsync.observe(seconds);
    for (const t of r.tasks ?? [])
      m.workerTaskDuration.child({ worker: w.worker, op: t.op }).add(t.counts, t.sumSeconds);
  }

  /** Scrape time: log gauges from the latest figures (summed per topic without partition labels). */
  refreshLogGauges(): void {
    const m = this.m;
    m.logStartOffset.reset();
    m.logEndOffset.reset();
    m.logSize.reset();
    m.logSegments.reset();
    for (const { labels, stats } of this.latest.values()) {
      m.logStartOffset.inc(labels, stats.logStartOffset);
      m.logEndOffset.inc(labels, stats.logEndOffset);
      m.logSize.inc(labels, stats.sizeBytes);
      m.logSegments.inc(labels, stats.segmentCount);
    }
  }

  /** A topic was deleted: its series go. */
  topicDeleted(topic: string): void {
    const m = this.m;
    for (const l of this.labels.setsOf(topic)) {
      for (const c of [
        m.recordsIn,
        m.bytesIn,
        m.recordsOut,
        m.bytesOut,
        m.retentionSegments,
        m.retentionBytes,
        m.cleanerCleaned,
        m.cleanerRemoved,
        m.cleanerReclaimed,
      ])
        c.remove(l);
      for (const outcome of BATCH_OUTCOMES) m.batchesIn.remove({ ...l, outcome });
      for (const outcome of PASS_OUTCOMES) m.cleanerPasses.remove({ ...l, outcome });
    }
    for (const [key, v] of this.latest) if (v.labels.topic === topic) this.latest.delete(key);
    this.labels.forget(topic);
  }

  /** The partition's label set; on first sight its event counters start at 0. */
  partitionLabels(topic: string, partition: number): TopicLabels {
    if (this.labels.has(topic, partition)) return this.labels.of(topic, partition);
    const l = this.labels.of(topic, partition);
    const m = this.m;
    for (const c of [m.recordsIn, m.bytesIn, m.recordsOut, m.bytesOut, m.retentionSegments, m.retentionBytes])
      c.inc(l, 0);
    m.batchesIn.inc({ ...l, outcome: 'appended' }, 0);
    if (this.topics.compacted(topic)) {
      for (const c of [m.cleanerCleaned, m.cleanerRemoved, m.cleanerReclaimed]) c.inc(l, 0);
      m.cleanerPasses.inc({ ...l, outcome: 'finished' }, 0);
    }
    return l;
  }

  private worker(shard: number): { worker: string } {
    let w = this.workerLabels[shard];
    if (!w) {
      w = { worker: String(shard) };
      this.workerLabels[shard] = w;
    }
    return w;
  }
}
