/**
 * BrokerMetrics with fake broker parts: worker reports become counters and gauges, the hot-path hooks
 * count requests, records out and errors, lag is computed at scrape time, per-topic aggregation,
 * topic deletion, OpenMetrics negotiation; and `promtool check metrics` accepts the output.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { TopicRecord } from '../../../src/broker/topic-registry.ts';
import type { OffsetFetchResult } from '../../../src/coordinator/types.ts';
import { BrokerMetrics, countRecords, kafkaApiLabel } from '../../../src/metrics/broker-metrics.ts';
import { wantsOpenMetrics } from '../../../src/metrics/open-metrics.ts';
import type { WorkerReport } from '../../../src/router/partition-engine.ts';
import { emptyCounters } from '../../../workers/partition-actor.ts';
import { makeBatch } from '../../helpers/batches.ts';
import { describeWith, promtool } from './prometheus-tools.ts';

const STATS = {
  logStartOffset: 0,
  logEndOffset: 0,
  highWatermark: 0,
  recoveryPoint: 0,
  sizeBytes: 0,
  segmentCount: 1,
  producerCount: 0,
};

function topic(name: string, partitions: number, configs: Record<string, string> = {}): TopicRecord {
  return { name, topicId: name, partitions, configs, internal: false, createdAt: 0 };
}

class FakeBroker {
  readonly engine = Object.assign(new EventEmitter(), {
    workerCount: 2,
    ends: new Map<string, number>(),
    highWatermark(t: string, p: number) {
      return this.ends.get(`${t}-${p}`);
    },
  });
  readonly topicMap = new Map<string, TopicRecord>();
  readonly topics = Object.assign(new EventEmitter(), {
    list: () => [...this.topicMap.values()],
    get: (name: string) => this.topicMap.get(name),
  });
  readonly members = new Map<string, number>();
  readonly commits = new Map<string, OffsetFetchResult['topics']>();
  readonly coordinator = Object.assign(new EventEmitter(), {
    memberCounts: () => new Map(this.members),
    offsetFetch: ({ groupId }: { groupId: string }) => ({ topics: this.commits.get(groupId) ?? [] }),
    listGroups: () =>
      [...this.members.keys()].map((groupId) => ({ groupId, protocolType: 'consumer', state: 'Stable' })),
  });

  constructor(readonly metrics: BrokerMetrics) {
    metrics.attach({
      dataDir: process.cwd(),
      engine: this.engine as never,
      topics: this.topics as never,
      defaultCleanupPolicy: 'delete',
      coordinator: this.coordinator as never,
      connections: () => ({ ws: 3, kafka: 1 }),
      fetchesParked: () => 2,
    });
  }

  report(shard: number, partitions: WorkerReport['partitions'], extra: Partial<WorkerReport> = {}): void {
    this.engine.emit('report', {
      type: 'report',
      shard,
      partitions,
      retention: [],
      busyMs: 250,
      elapsedMs: 1000,
      processedRequests: 7,
      queuedRequests: 3,
      fsyncs: [],
      ...extra,
    } satisfies WorkerReport);
  }
}

/** The value of one series in Prometheus text output (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[3] ? m[3].split(/,(?=[a-z_]+=")/) : [];
    if (want.length === have.length && want.every((w) => have.includes(w))) return Number(m[4]);
  }
  return undefined;
}

function metricsFor(partitionLabels = true) {
  const metrics = new BrokerMetrics({ partitionLabels, version: '9.9.9', defaultMetrics: false });
  return { metrics, broker: new FakeBroker(metrics) };
}

describe('BrokerMetrics', () => {
  it('adds worker report deltas to per-partition counters and keeps the latest log gauges', async () => {
    const { metrics, broker } = metricsFor();
    broker.topicMap.set('orders', topic('orders', 2));
    const counters = { ...emptyCounters(), appendedRecords: 10, appendedBytes: 1500, appendedBatches: 2 };
    broker.report(0, [
      { key: 'orders-0', stats: { ...STATS, logEndOffset: 10, sizeBytes: 1500 }, counters },
      { key: 'orders-1', stats: STATS, counters: emptyCounters() },
    ]);
    broker.report(0, [
      {
        key: 'orders-0',
        stats: { ...STATS, logEndOffset: 15, sizeBytes: 2200, segmentCount: 2 },
        counters: {
          ...emptyCounters(),
          appendedRecords: 5,
          appendedBytes: 700,
          appendedBatches: 1,
          duplicateBatches: 1,
        },
      },
    ]);
    const { body } = await metrics.scrape();
    const p0 = { topic: 'orders', partition: '0' };
    const p1 = { topic: 'orders', partition: '1' };
    expect(sample(body, 'sluice_records_in_total', p0)).toBe(15);
    expect(sample(body, 'sluice_bytes_in_total', p0)).toBe(2200);
    expect(sample(body, 'sluice_batches_in_total', { ...p0, outcome: 'appended' })).toBe(3);
    expect(sample(body, 'sluice_batches_in_total', { ...p0, outcome: 'duplicate' })).toBe(1);
    // A partition without events has its series at 0 (rate() works before the first event).
    expect(sample(body, 'sluice_records_in_total', p1)).toBe(0);
    expect(sample(body, 'sluice_retention_deleted_bytes_total', p1)).toBe(0);
    expect(sample(body, 'sluice_log_end_offset', p0)).toBe(15);
    expect(sample(body, 'sluice_log_size_bytes', p0)).toBe(2200);
    expect(sample(body, 'sluice_log_segments', p0)).toBe(2);
    expect(sample(body, 'sluice_worker_busy_seconds_total', { worker: '0' })).toBe(0.5);
    expect(sample(body, 'sluice_worker_utilization_ratio', { worker: '0' })).toBe(0.25);
    expect(sample(body, 'sluice_worker_queue_depth', { worker: '0' })).toBe(3);
    expect(sample(body, 'sluice_worker_requests_total', { worker: '0' })).toBe(14);
    expect(sample(body, 'sluice_worker_failures_total', { worker: '1' })).toBe(0);
    expect(sample(body, 'sluice_topics')).toBe(1);
    expect(sample(body, 'sluice_partitions')).toBe(2);
    expect(sample(body, 'sluice_connections', { protocol: 'ws' })).toBe(3);
    expect(sample(body, 'sluice_fetches_parked')).toBe(2);
    expect(sample(body, 'sluice_build_info', { version: '9.9.9' })).toBe(1);
    expect(sample(body, 'sluice_disk_capacity_bytes')).toBeGreaterThan(0);
  });

  it('counts retention, compaction, fsyncs, worker task latency and worker failures', async () => {
    const { metrics, broker } = metricsFor();
    broker.topicMap.set('compacted', topic('compacted', 1, { 'cleanup.policy': 'compact' }));
    broker.topicMap.set('plain', topic('plain', 1));
    broker.report(1, [
      { key: 'compacted-0', stats: STATS, counters: emptyCounters() },
      { key: 'plain-0', stats: STATS, counters: emptyCounters() },
    ]);
    let { body } = await metrics.scrape();
    // Compaction series exist for compacted topics only.
    expect(sample(body, 'sluice_cleaner_reclaimed_bytes_total', { topic: 'compacted', partition: '0' })).toBe(
      0,
    );
    expect(
      sample(body, 'sluice_cleaner_reclaimed_bytes_total', { topic: 'plain', partition: '0' }),
    ).toBeUndefined();
    const counts = new Array<number>(17).fill(0);
    counts[0] = 3; // ≤ 50 µs
    counts[16] = 1; // +Inf
    broker.report(1, [], {
      retention: [{ key: 'plain-0', deletedSegments: 2, deletedBytes: 4096 }],
      cleaner: [
        {
          key: 'compacted-0',
          cleanedBytes: 900,
          removedRecords: 4,
          reclaimedBytes: 300,
          passes: 1,
          abandoned: 0,
        },
      ],
      fsyncs: [0.002, 0.003],
      tasks: [{ op: 'append', counts, sumSeconds: 7.5 }],
    });
    broker.engine.emit('workerFailed', 1, new Error('boom'));
    ({ body } = await metrics.scrape());
    expect(sample(body, 'sluice_retention_deleted_segments_total', { topic: 'plain', partition: '0' })).toBe(
      2,
    );
    expect(sample(body, 'sluice_retention_deleted_bytes_total', { topic: 'plain', partition: '0' })).toBe(
      4096,
    );
    const c = { topic: 'compacted', partition: '0' };
    expect(sample(body, 'sluice_cleaner_cleaned_bytes_total', c)).toBe(900);
    expect(sample(body, 'sluice_cleaner_removed_records_total', c)).toBe(4);
    expect(sample(body, 'sluice_cleaner_reclaimed_bytes_total', c)).toBe(300);
    expect(sample(body, 'sluice_cleaner_passes_total', { ...c, outcome: 'finished' })).toBe(1);
    expect(sample(body, 'sluice_fsync_duration_seconds_count', { worker: '1' })).toBe(2);
    expect(sample(body, 'sluice_fsync_duration_seconds_bucket', { worker: '1', le: '0.0025' })).toBe(1);
    expect(sample(body, 'sluice_fsync_duration_seconds_count', { worker: '0' })).toBe(0);
    const task = { worker: '1', op: 'append' };
    expect(sample(body, 'sluice_worker_task_duration_seconds_bucket', { ...task, le: '0.00005' })).toBe(3);
    expect(sample(body, 'sluice_worker_task_duration_seconds_bucket', { ...task, le: '5' })).toBe(3);
    expect(sample(body, 'sluice_worker_task_duration_seconds_bucket', { ...task, le: '+Inf' })).toBe(4);
    expect(sample(body, 'sluice_worker_task_duration_seconds_count', task)).toBe(4);
    expect(sample(body, 'sluice_worker_task_duration_seconds_sum', task)).toBe(7.5);
    expect(sample(body, 'sluice_worker_failures_total', { worker: '1' })).toBe(1);
  });

  it('computes lag at scrape time from log end offsets and committed offsets', async () => {
    const { metrics, broker } = metricsFor();
    broker.topicMap.set('orders', topic('orders', 2));
    broker.members.set('billing', 2);
    broker.members.set('idle', 0);
    broker.commits.set('billing', [
      {
        name: 'orders',
        partitions: [
          { partition: 0, offset: 40, leaderEpoch: -1, metadata: '' },
          { partition: 1, offset: 90, leaderEpoch: -1, metadata: '' },
        ],
      },
    ]);
    broker.engine.ends.set('orders-0', 100);
    broker.engine.ends.set('orders-1', 80); // committed past the end (truncated log): lag 0, not negative
    broker.coordinator.emit('rebalanced', 'billing', 1, 2);
    let { body } = await metrics.scrape();
    expect(
      sample(body, 'sluice_consumer_group_lag', { group: 'billing', topic: 'orders', partition: '0' }),
    ).toBe(60);
    expect(
      sample(body, 'sluice_consumer_group_lag', { group: 'billing', topic: 'orders', partition: '1' }),
    ).toBe(0);
    expect(
      sample(body, 'sluice_consumer_group_committed_offset', {
        group: 'billing',
        topic: 'orders',
        partition: '0',
      }),
    ).toBe(40);
    expect(sample(body, 'sluice_consumer_group_members', { group: 'billing' })).toBe(2);
    expect(sample(body, 'sluice_consumer_group_members', { group: 'idle' })).toBe(0);
    expect(sample(body, 'sluice_consumer_group_rebalances_total', { group: 'billing' })).toBe(1);
    expect(sample(body, 'sluice_consumer_group_rebalances_total', { group: 'idle' })).toBe(0);
    expect(sample(body, 'sluice_consumer_groups', { state: 'Stable' })).toBe(2);
    expect(sample(body, 'sluice_consumer_groups', { state: 'Empty' })).toBe(0);
    // The log moves on: lag follows without any event.
    broker.engine.ends.set('orders-0', 130);
    ({ body } = await metrics.scrape());
    expect(
      sample(body, 'sluice_consumer_group_lag', { group: 'billing', topic: 'orders', partition: '0' }),
    ).toBe(90);
    // A deleted group's series go.
    broker.members.delete('billing');
    ({ body } = await metrics.scrape());
    expect(
      sample(body, 'sluice_consumer_group_lag', { group: 'billing', topic: 'orders', partition: '0' }),
    ).toBeUndefined();
    expect(sample(body, 'sluice_consumer_group_rebalances_total', { group: 'billing' })).toBeUndefined();
  });

  it('sums per topic without partition labels', async () => {
    const { metrics, broker } = metricsFor(false);
    broker.topicMap.set('orders', topic('orders', 2));
    const c = (records: number) => ({ ...emptyCounters(), appendedRecords: records, appendedBatches: 1 });
    broker.report(0, [
      { key: 'orders-0', stats: { ...STATS, logEndOffset: 10, sizeBytes: 100 }, counters: c(10) },
    ]);
    broker.report(1, [
      { key: 'orders-1', stats: { ...STATS, logEndOffset: 5, sizeBytes: 50 }, counters: c(5) },
    ]);
    broker.members.set('g', 1);
    broker.commits.set('g', [
      {
        name: 'orders',
        partitions: [
          { partition: 0, offset: 7, leaderEpoch: -1, metadata: '' },
          { partition: 1, offset: 1, leaderEpoch: -1, metadata: '' },
        ],
      },
    ]);
    broker.engine.ends.set('orders-0', 10);
    broker.engine.ends.set('orders-1', 5);
    const { body } = await metrics.scrape();
    expect(sample(body, 'sluice_records_in_total', { topic: 'orders' })).toBe(15);
    expect(sample(body, 'sluice_log_end_offset', { topic: 'orders' })).toBe(15);
    expect(sample(body, 'sluice_log_size_bytes', { topic: 'orders' })).toBe(150);
    expect(sample(body, 'sluice_consumer_group_lag', { group: 'g', topic: 'orders' })).toBe(7);
    expect(body).not.toContain('partition="');
  });

  it("drops a deleted topic's series and ignores reports that raced the deletion", async () => {
    const { metrics, broker } = metricsFor();
    broker.topicMap.set('gone', topic('gone', 1));
    broker.topicMap.set('kept', topic('kept', 1));
    const counters = { ...emptyCounters(), appendedRecords: 1, appendedBatches: 1 };
    broker.report(0, [
      { key: 'gone-0', stats: STATS, counters },
      { key: 'kept-0', stats: STATS, counters },
    ]);
    broker.topicMap.delete('gone');
    broker.topics.emit('deleted', 'gone');
    broker.report(0, [{ key: 'gone-0', stats: STATS, counters }]);
    const { body } = await metrics.scrape();
    expect(body).not.toContain('topic="gone"');
    expect(sample(body, 'sluice_records_in_total', { topic: 'kept', partition: '0' })).toBe(1);
  });

  it('counts requests, errors, records and bytes out, and fetch wait vs serve time', async () => {
    const { metrics, broker } = metricsFor();
    broker.topicMap.set('t', topic('t', 1));
    const started = performance.now() - 5;
    metrics.wsRequestDone('produce', started);
    metrics.wsRequestDone('fetch', started, Object.assign(new Error('x'), { code: 'REQUEST_TIMED_OUT' }));
    metrics.wsRequestDone('no-such-op-from-a-client', started, new Error('bad'));
    metrics.kafkaRequestDone(0, started);
    metrics.kafkaRequestDone(11, started); // JoinGroup
    metrics.kafkaRefused(Object.assign(new Error('big'), { code: 'INVALID_REQUEST' }));
    const batches = [makeBatch({ count: 4 }), makeBatch({ count: 6 })];
    const records = new Uint8Array(Buffer.concat(batches));
    metrics.fetchAnswered(
      [
        [
          { topic: 't', partition: 0, result: { records } },
          {
            topic: 't',
            partition: 1,
            result: { records: null, error: { code: 'UNKNOWN_TOPIC_OR_PARTITION' } },
          },
        ],
      ],
      started,
      3,
    );
    metrics.produceAnswered({ topics: [{ partitions: [{}, { error: { code: 'CORRUPT_MESSAGE' } }] }] });
    const { body } = await metrics.scrape();
    expect(sample(body, 'sluice_requests_total', { protocol: 'ws', api: 'produce' })).toBe(1);
    expect(sample(body, 'sluice_requests_total', { protocol: 'ws', api: 'unknown' })).toBe(1);
    expect(sample(body, 'sluice_requests_total', { protocol: 'kafka', api: 'produce' })).toBe(1);
    expect(sample(body, 'sluice_requests_total', { protocol: 'kafka', api: 'joinGroup' })).toBe(1);
    expect(sample(body, 'sluice_requests_total', { protocol: 'kafka', api: 'fetch' })).toBe(0);
    expect(
      sample(body, 'sluice_request_errors_total', {
        protocol: 'ws',
        api: 'fetch',
        error: 'REQUEST_TIMED_OUT',
      }),
    ).toBe(1);
    expect(
      sample(body, 'sluice_request_errors_total', {
        protocol: 'ws',
        api: 'unknown',
        error: 'UNKNOWN_SERVER_ERROR',
      }),
    ).toBe(1);
    expect(
      sample(body, 'sluice_request_errors_total', {
        protocol: 'kafka',
        api: 'unknown',
        error: 'INVALID_REQUEST',
      }),
    ).toBe(1);
    expect(sample(body, 'sluice_request_duration_seconds_count', { protocol: 'ws', api: 'produce' })).toBe(1);
    expect(
      sample(body, 'sluice_request_duration_seconds_sum', { protocol: 'ws', api: 'produce' }),
    ).toBeGreaterThanOrEqual(0.005);
    expect(sample(body, 'sluice_records_out_total', { topic: 't', partition: '0' })).toBe(10);
    expect(sample(body, 'sluice_bytes_out_total', { topic: 't', partition: '0' })).toBe(records.byteLength);
    expect(
      sample(body, 'sluice_partition_errors_total', { api: 'fetch', error: 'UNKNOWN_TOPIC_OR_PARTITION' }),
    ).toBe(1);
    expect(sample(body, 'sluice_partition_errors_total', { api: 'produce', error: 'CORRUPT_MESSAGE' })).toBe(
      1,
    );
    expect(sample(body, 'sluice_fetch_wait_seconds_sum')).toBeCloseTo(0.003, 6);
    expect(sample(body, 'sluice_fetch_serve_seconds_count')).toBe(1);
    expect(sample(body, 'sluice_fetch_serve_seconds_sum')).toBeGreaterThanOrEqual(0.002);
  });

  it('answers OpenMetrics when asked, without changing the Prometheus text output', async () => {
    const { metrics } = metricsFor();
    metrics.wsRequestDone('produce', performance.now());
    const om = await metrics.scrape(
      'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5',
    );
    expect(om.contentType).toMatch(/^application\/openmetrics-text; version=1.0.0/);
    expect(om.body).toContain('# TYPE sluice_requests counter');
    expect(om.body).toContain('sluice_requests_total{protocol="ws",api="produce"} 1');
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    const text = await metrics.scrape('text/plain');
    expect(text.contentType).toMatch(/^text\/plain; version=0.0.4/);
    expect(text.body).toContain('# TYPE sluice_requests_total counter');
    expect(text.body).toContain('sluice_requests_total{protocol="ws",api="produce"} 1');
    expect(text.body).not.toContain('# EOF');
  });

  it('reads Accept headers', () => {
    expect(wantsOpenMetrics(undefined)).toBe(false);
    expect(wantsOpenMetrics('*/*')).toBe(false);
    expect(wantsOpenMetrics('text/plain;version=0.0.4')).toBe(false);
    expect(wantsOpenMetrics('application/openmetrics-text; version=1.0.0')).toBe(true);
    expect(wantsOpenMetrics('application/openmetrics-text;q=0, text/plain')).toBe(false);
  });

  it('names Kafka APIs in the WebSocket ops’ words', () => {
    expect(kafkaApiLabel(0)).toBe('produce');
    expect(kafkaApiLabel(2)).toBe('listOffsets');
    expect(kafkaApiLabel(18)).toBe('apiVersions');
    expect(kafkaApiLabel(9999)).toBe('unknown');
  });

  it('counts records from batch headers', () => {
    const two = new Uint8Array(Buffer.concat([makeBatch({ count: 3 }), makeBatch({ count: 1 })]));
    expect(countRecords(two)).toBe(4);
    expect(countRecords(two.subarray(0, 30))).toBe(0);
    expect(countRecords(new Uint8Array(0))).toBe(0);
  });
});

describeWith('promtool', 'promtool check metrics', () => {
  it('accepts the scrape output, default Node metrics included', async () => {
    const metrics = new BrokerMetrics({ partitionLabels: true, version: '0.0.0' });
    const broker = new FakeBroker(metrics);
    broker.topicMap.set('t', topic('t', 1, { 'cleanup.policy': 'compact' }));
    broker.report(0, [{ key: 't-0', stats: STATS, counters: emptyCounters() }], {
      tasks: [{ op: 'read', counts: new Array<number>(17).fill(1), sumSeconds: 1 }],
      fsyncs: [0.01],
    });
    broker.members.set('g', 1);
    metrics.wsRequestDone('produce', performance.now(), new Error('x'));
    const { body } = await metrics.scrape();
    expect(body).toContain('nodejs_eventloop_lag_p99_seconds');
    expect(body).not.toContain('nodejs_active_handles_total');
    const r = await promtool(['check', 'metrics'], { input: body });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
