/**
 * Every metric Sluice exports, in one place: name, type, labels, meaning and (for histograms) the
 * bucket bounds. src/metrics/broker-metrics.ts builds the prom-client objects from this table,
 * docs/metrics.md lists it row by row (test/unit/metrics/metrics-doc.test.ts keeps the two in step),
 * and the Grafana dashboard queries only names found here or in prom-client's default set.
 *
 * Conventions (Prometheus): `sluice_` prefix, base units (seconds, bytes), `_total` on counters,
 * `_bytes` / `_seconds` suffixes. Labels are bounded: `topic`/`partition` come from the topic
 * registry, `group` from the group coordinator, `api` from the fixed operation tables, `error` from
 * the error registry (src/errors.ts), `worker` is a thread index. Nothing is labelled per record or
 * per client id. With `metrics.partition.labels=false` the `partition` label is dropped and values are
 * summed per topic.
 *
 * No prom-client import here: the bucket bounds are shared with the worker threads, which count into
 * plain arrays (bucket-counts.ts) and report them.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
}

/** Request latency: sub-millisecond appends up to long-polling fetches (max wait is often 0.5–30 s). */
export const REQUEST_SECONDS_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;

/** Worker task latency (arrival on the worker → answer): tens of microseconds up to an fsync. */
export const TASK_SECONDS_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
] as const;

/** fsync latency: page-cache SSDs answer in ~100 µs, loaded disks in tens of ms or worse. */
export const FSYNC_SECONDS_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
] as const;

const TP = ['topic', 'partition'] as const;

export const METRICS = {
  // Broker
  buildInfo: {
    name: 'sluice_build_info',
    type: 'gauge',
    help: 'Always 1; the version label says which Sluice is running.',
    labels: ['version'],
  },
  topics: {
    name: 'sluice_topics',
    type: 'gauge',
    help: 'Topics, internal ones included.',
    labels: [],
  },
  partitions: {
    name: 'sluice_partitions',
    type: 'gauge',
    help: 'Partitions of all topics.',
    labels: [],
  },
  connections: {
    name: 'sluice_connections',
    type: 'gauge',
    help: 'Open client connections by protocol (ws, kafka).',
    labels: ['protocol'],
  },
  fetchesParked: {
    name: 'sluice_fetches_parked',
    type: 'gauge',
    help: 'Fetches waiting (long poll) for data or their max wait.',
    labels: [],
  },
  diskAvailable: {
    name: 'sluice_disk_available_bytes',
    type: 'gauge',
    help: 'Bytes available to the broker on the file system holding the data directory.',
    labels: [],
  },
  diskCapacity: {
    name: 'sluice_disk_capacity_bytes',
    type: 'gauge',
    help: 'Size of the file system holding the data directory.',
    labels: [],
  },

  // Requests (main thread, at the front doors' dispatch points)
  requests: {
    name: 'sluice_requests_total',
    type: 'counter',
    help: 'Requests handled, by protocol and API (produce, fetch, metadata, joinGroup, …).',
    labels: ['protocol', 'api'],
  },
  requestErrors: {
    name: 'sluice_request_errors_total',
    type: 'counter',
    help: 'Requests that failed as a whole, by protocol, API and error name (src/errors.ts).',
    labels: ['protocol', 'api', 'error'],
  },
  requestDuration: {
    name: 'sluice_request_duration_seconds',
    type: 'histogram',
    help: 'Time from a decoded request to its response, by protocol and API (fetch includes its long-poll wait).',
    labels: ['protocol', 'api'],
    buckets: REQUEST_SECONDS_BUCKETS,
  },
  partitionErrors: {
    name: 'sluice_partition_errors_total',
    type: 'counter',
    help: 'Partitions answered with an error in produce and fetch responses, by API and error name.',
    labels: ['api', 'error'],
  },
  fetchWait: {
    name: 'sluice_fetch_wait_seconds',
    type: 'histogram',
    help: 'Time a fetch spent parked waiting for data (0 when it was answered at once).',
    labels: [],
    buckets: REQUEST_SECONDS_BUCKETS,
  },
  fetchServe: {
    name: 'sluice_fetch_serve_seconds',
    type: 'histogram',
    help: 'Time a fetch spent reading logs and assembling its answer (its total time minus the wait).',
    labels: [],
    buckets: REQUEST_SECONDS_BUCKETS,
  },

  // Throughput
  recordsIn: {
    name: 'sluice_records_in_total',
    type: 'counter',
    help: 'Records appended (from batch headers; duplicates and rejected batches excluded).',
    labels: TP,
  },
  bytesIn: {
    name: 'sluice_bytes_in_total',
    type: 'counter',
    help: 'Record batch bytes appended (as stored: compressed batches count compressed).',
    labels: TP,
  },
  batchesIn: {
    name: 'sluice_batches_in_total',
    type: 'counter',
    help: 'Record batches received for append, by outcome: appended, duplicate (idempotent retry), rejected.',
    labels: [...TP, 'outcome'],
  },
  recordsOut: {
    name: 'sluice_records_out_total',
    type: 'counter',
    help: 'Records sent to consumers in fetch responses (from batch headers).',
    labels: TP,
  },
  bytesOut: {
    name: 'sluice_bytes_out_total',
    type: 'counter',
    help: 'Record batch bytes sent to consumers in fetch responses.',
    labels: TP,
  },

  // Storage (worker reports, about once a second)
  logStartOffset: {
    name: 'sluice_log_start_offset',
    type: 'gauge',
    help: 'First offset still in the log.',
    labels: TP,
  },
  logEndOffset: {
    name: 'sluice_log_end_offset',
    type: 'gauge',
    help: 'Offset the next appended record gets (the high watermark on a single broker).',
    labels: TP,
  },
  logSize: {
    name: 'sluice_log_size_bytes',
    type: 'gauge',
    help: 'Bytes of segment files on disk (indexes excluded).',
    labels: TP,
  },
  logSegments: {
    name: 'sluice_log_segments',
    type: 'gauge',
    help: 'Segments in the log.',
    labels: TP,
  },
  retentionSegments: {
    name: 'sluice_retention_deleted_segments_total',
    type: 'counter',
    help: 'Segments deleted by retention (retention.ms, retention.bytes).',
    labels: TP,
  },
  retentionBytes: {
    name: 'sluice_retention_deleted_bytes_total',
    type: 'counter',
    help: 'Bytes deleted by retention.',
    labels: TP,
  },
  cleanerCleaned: {
    name: 'sluice_cleaner_cleaned_bytes_total',
    type: 'counter',
    help: 'Bytes of closed segments the log cleaner read and rewrote (compacted topics).',
    labels: TP,
  },
  cleanerRemoved: {
    name: 'sluice_cleaner_removed_records_total',
    type: 'counter',
    help: 'Records compaction dropped (superseded by a newer record with the same key, expired tombstones).',
    labels: TP,
  },
  cleanerReclaimed: {
    name: 'sluice_cleaner_reclaimed_bytes_total',
    type: 'counter',
    help: 'Disk bytes compaction gave back.',
    labels: TP,
  },
  cleanerPasses: {
    name: 'sluice_cleaner_passes_total',
    type: 'counter',
    help: 'Cleaning passes, by outcome: finished, abandoned.',
    labels: [...TP, 'outcome'],
  },
  fsyncDuration: {
    name: 'sluice_fsync_duration_seconds',
    type: 'histogram',
    help: 'fsync latency of log segments, by worker.',
    labels: ['worker'],
    buckets: FSYNC_SECONDS_BUCKETS,
  },

  // Consumer groups (computed at scrape time)
  groupLag: {
    name: 'sluice_consumer_group_lag',
    type: 'gauge',
    help: 'Records a group has yet to consume: log end offset minus committed offset (partitions it committed).',
    labels: ['group', ...TP],
  },
  groupCommitted: {
    name: 'sluice_consumer_group_committed_offset',
    type: 'gauge',
    help: 'The offset a group committed.',
    labels: ['group', ...TP],
  },
  groupMembers: {
    name: 'sluice_consumer_group_members',
    type: 'gauge',
    help: 'Members of a consumer group.',
    labels: ['group'],
  },
  groupRebalances: {
    name: 'sluice_consumer_group_rebalances_total',
    type: 'counter',
    help: 'Completed join phases (generations) of a consumer group since the broker started.',
    labels: ['group'],
  },
  groupsByState: {
    name: 'sluice_consumer_groups',
    type: 'gauge',
    help: 'Consumer groups by state (Empty, PreparingRebalance, CompletingRebalance, Stable).',
    labels: ['state'],
  },

  // Worker threads (reports)
  workerBusy: {
    name: 'sluice_worker_busy_seconds_total',
    type: 'counter',
    help: 'Time a worker thread’s event loop was busy; its rate is the utilisation (1 = saturated).',
    labels: ['worker'],
  },
  workerUtilization: {
    name: 'sluice_worker_utilization_ratio',
    type: 'gauge',
    help: 'Busy share of a worker thread over its last report interval (about 1 s).',
    labels: ['worker'],
  },
  workerQueue: {
    name: 'sluice_worker_queue_depth',
    type: 'gauge',
    help: 'Requests waiting in the partition mailboxes of a worker at its last report.',
    labels: ['worker'],
  },
  workerRequests: {
    name: 'sluice_worker_requests_total',
    type: 'counter',
    help: 'Requests a worker thread received from the main thread.',
    labels: ['worker'],
  },
  workerTaskDuration: {
    name: 'sluice_worker_task_duration_seconds',
    type: 'histogram',
    help: 'Time from a request’s arrival on its worker to the answer (mailbox wait, validation, I/O, fsync), by op.',
    labels: ['worker', 'op'],
    buckets: TASK_SECONDS_BUCKETS,
  },
  workerFailures: {
    name: 'sluice_worker_failures_total',
    type: 'counter',
    help: 'Worker threads that died and were replaced (their partitions were reopened).',
    labels: ['worker'],
  },
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;

/**
 * prom-client's default metrics (collectDefaultMetrics) that Sluice leaves out: gauges named `_total`,
 * which `promtool check metrics` rejects ("non-counter metrics should not have _total suffix"); the
 * same figures are in nodejs_active_handles / nodejs_active_requests / nodejs_active_resources.
 */
export const DROPPED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;
