/**
 * Metrics against a real Prometheus (Debian's `prometheus`): the broker runs as a child process, a
 * private Prometheus on 127.0.0.1 scrapes it every second (temporary storage, grafana/alerts.yml
 * loaded), and the test produces and consumes over both protocols with a consumer group, makes
 * retention delete segments and the cleaner compact a topic, and triggers a partition error and a
 * request error. Then:
 * - every expression of every dashboard panel (variables at All, as the dashboard opens) returns at
 *   least one series through Prometheus's HTTP query API, and the topic and group variables list the
 *   test's topics and group;
 * - the counters agree with what the test did (records and bytes in and out of a topic, request
 *   counts, lag = end offset − committed offset);
 * - the alert rules evaluate without errors; `promtool check metrics` accepts the live scrape.
 * In CI a missing prometheus/promtool is a failure, elsewhere the tests are skipped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/kafka/api-keys.ts';
import type { FetchPartitionResponse } from '../../src/protocol/wire/ops.ts';
import { makeBatch } from '../helpers/batches.ts';
import { type RunningBroker, startBrokerProcess } from '../helpers/broker.ts';
import { producePayload, RawWsClient } from '../helpers/ws-raw.ts';
import { dashboardExpressions, withVariablesAtAll } from '../unit/metrics/dashboard.ts';
import {
  describeWith,
  type PrometheusServer,
  promtool,
  startPrometheus,
} from '../unit/metrics/prometheus-tools.ts';
import { RawKafkaClient, topicName } from '../unit/router/kafka/raw-kafka-client.ts';

const ALERTS = path.resolve(import.meta.dirname, '../../grafana/alerts.yml');
/** What Grafana's $__rate_interval becomes with a 1 s scrape interval (it is at least 4 intervals). */
const RATE_INTERVAL = '15s';

const main = topicName('metrics');
const exact = topicName('exact');
const retained = topicName('retained');
const compacted = topicName('compacted');
const group = topicName('group');

let broker: RunningBroker;
let prometheus: PrometheusServer | undefined;
let ws: RawWsClient;
let kafka: RawKafkaClient;

/** What the test did, to compare with the counters. */
const done = {
  exactRecords: 0,
  exactBytes: 0,
  wsProduces: 0,
  kafkaProduces: 0,
  /** Records per partition of the main topic. */
  mainEnd: [0, 0, 0],
  committed: [0, 0, 0],
};

async function wsProduce(topic: string, partition: number, batch: Uint8Array): Promise<void> {
  done.wsProduces++;
  const r = await ws.request('produce', producePayload(topic, partition, batch, -1));
  const p = (r.topics as { partitions: { error?: { code: string } }[] }[])[0]!.partitions[0]!;
  if (p.error) throw new Error(`produce to ${topic}-${partition}: ${p.error.code}`);
}

async function kafkaProduce(topic: string, partition: number, batch: Uint8Array): Promise<void> {
  done.kafkaProduces++;
  const r = await kafka.request(API_KEYS.Produce, 7, {
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
  });
  expect(r.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
}

/**
 * Record timestamps for the topics that must keep their data: makeBatch's default ones (2023) are
 * older than the default retention.ms, and retention runs every 300 ms here.
 */
const now = () => Date.now();

/** Poll (bounded) until `probe` gives a value: Prometheus has no event to wait for. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 90_000,
  last: () => unknown = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${JSON.stringify(last())}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The single value of an instant query (undefined when it returns nothing). */
async function value(expr: string): Promise<number | undefined> {
  const result = await prometheus!.query(expr);
  return result.length === 1 ? Number(result[0]!.value[1]) : undefined;
}

async function join(): Promise<{ memberId: string; generationId: number }> {
  const body = (memberId: string) => ({
    groupId: group,
    memberId,
    sessionTimeoutMs: 120_000,
    rebalanceTimeoutMs: 10_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: new Uint8Array([0]) }],
  });
  let r = await ws.request('joinGroup', body(''));
  if (r.error?.code === 'MEMBER_ID_REQUIRED') r = await ws.request('joinGroup', body(r.memberId as string));
  if (r.error) throw new Error(`joinGroup: ${r.error.code}`);
  return { memberId: r.memberId as string, generationId: r.generationId as number };
}

/** The workload: both protocols, a group that commits half of what it read, retention, compaction, errors. */
async function workload(): Promise<void> {
  const created = await ws.request('createTopics', {
    topics: [
      { name: main, numPartitions: 3 },
      { name: exact, numPartitions: 1 },
      // Old record timestamps (makeBatch's default, 2023) and one batch per segment: retention deletes
      // the segments.
      { name: retained, numPartitions: 1, configs: { 'retention.ms': '60000', 'segment.bytes': '2048' } },
      {
        name: compacted,
        numPartitions: 1,
        configs: {
          'cleanup.policy': 'compact',
          'segment.bytes': '2048',
          'min.cleanable.dirty.ratio': '0.01',
        },
      },
    ],
  });
  for (const t of created.topics as { name: string; error?: { code: string } }[])
    expect(t.error, t.name).toBeUndefined();

  // Known records and bytes into one topic, over the WebSocket protocol.
  for (let i = 0; i < 5; i++) {
    const batch = makeBatch({ count: 20 + i, valueSize: 50 + i * 10, tag: `exact${i}`, timestamp: now });
    done.exactRecords += 20 + i;
    done.exactBytes += batch.byteLength;
    await wsProduce(exact, 0, batch);
  }
  // The main topic over both protocols.
  for (let p = 0; p < 3; p++) {
    for (let i = 0; i < 4; i++) {
      const batch = makeBatch({ count: 10, tag: `m${p}-${i}`, timestamp: now });
      if (i % 2 === 0) await wsProduce(main, p, batch);
      else await kafkaProduce(main, p, batch);
      done.mainEnd[p]! += 10;
    }
  }
  for (let i = 0; i < 4; i++) await wsProduce(retained, 0, makeBatch({ count: 10, tag: `r${i}` }));
  // The same ten keys again and again: compaction has something to remove.
  for (let i = 0; i < 6; i++)
    await wsProduce(compacted, 0, makeBatch({ count: 10, tag: 'same', timestamp: now }));

  // A partition error (the partition does not exist) and a request that fails as a whole.
  done.wsProduces++;
  const bad = await ws.request('produce', producePayload(main, 99, makeBatch({ count: 1 }), -1));
  expect(
    (bad.topics as { partitions: { error?: { code: string } }[] }[])[0]!.partitions[0]!.error?.code,
  ).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  const invalid = await ws.request('fetch', { maxWaitMs: 'soon' });
  expect(invalid.error?.code).toBe('INVALID_REQUEST');

  // A consumer group over the WebSocket protocol: read everything, commit half.
  const member = await join();
  const synced = await ws.request('syncGroup', {
    groupId: group,
    generationId: member.generationId,
    memberId: member.memberId,
    assignments: [{ memberId: member.memberId, assignment: new Uint8Array([1]) }],
  });
  expect(synced.error).toBeUndefined();
  const fetched = await ws.request('fetch', {
    maxWaitMs: 0,
    topics: [
      { topic: main, partitions: [0, 1, 2].map((partition) => ({ partition, offset: 0 })) },
      { topic: exact, partitions: [{ partition: 0, offset: 0, maxBytes: 1 << 20 }] },
    ],
  });
  expect(fetched.error).toBeUndefined();
  const answered = fetched.topics as { topic: string; partitions: FetchPartitionResponse[] }[];
  expect(answered[1]!.partitions[0]!.error).toBeUndefined();
  expect(answered[1]!.partitions[0]!.records?.byteLength).toBe(done.exactBytes);
  done.committed = done.mainEnd.map((end) => end / 2);
  const commit = await ws.request('offsetCommit', {
    groupId: group,
    generationId: member.generationId,
    memberId: member.memberId,
    topics: [{ topic: main, partitions: done.committed.map((offset, partition) => ({ partition, offset })) }],
  });
  expect(commit.error).toBeUndefined();
  const beat = await ws.request('heartbeat', {
    groupId: group,
    generationId: member.generationId,
    memberId: member.memberId,
  });
  expect(beat.error).toBeUndefined();

  // Fetch over the Kafka protocol, parked for a moment on an empty offset first (fetch wait).
  for (const fetchOffset of [done.mainEnd[0]!, 0]) {
    await kafka.request(API_KEYS.Fetch, 11, {
      maxWaitMs: fetchOffset === 0 ? 0 : 50,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      topics: [{ topic: main, partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20 }] }],
    } as never);
  }
}

describeWith('prometheus', 'metrics scraped by a real Prometheus', () => {
  beforeAll(async () => {
    broker = await startBrokerProcess({
      args: [
        '--workers',
        '2',
        '--log-retention-check-interval-ms',
        '300',
        '--log-cleaner-backoff-ms',
        '200',
        '--group-initial-rebalance-delay-ms',
        '0',
      ],
    });
    prometheus = await startPrometheus({
      targets: [new URL(broker.httpUrl).host],
      scrapeIntervalSeconds: 1,
      ruleFiles: [ALERTS],
    });
    ws = await RawWsClient.connect(broker.url);
    kafka = await RawKafkaClient.connect(broker.kafkaPort);
    await workload();
    // Prometheus has the figures once the slowest of them (compaction) has been scraped.
    let seen: Record<string, number | undefined> = {};
    await until(
      'the workload in Prometheus',
      async () => {
        seen = {
          inExact: await value(`sum(sluice_records_in_total{topic="${exact}"})`),
          out: await value(`sum(sluice_records_out_total{topic="${exact}"})`),
          deleted: await value(`sum(sluice_retention_deleted_segments_total{topic="${retained}"})`),
          cleaned: await value(`sum(sluice_cleaner_removed_records_total{topic="${compacted}"})`),
          lag: await value(`sum(sluice_consumer_group_lag{group="${group}"})`),
        };
        const { inExact, out, deleted, cleaned, lag } = seen;
        const ready =
          inExact === done.exactRecords &&
          out === done.exactRecords &&
          deleted! > 0 &&
          cleaned! > 0 &&
          lag! > 0;
        return ready ? true : undefined;
      },
      90_000,
      () => seen,
    );
    // Rates need samples: Prometheus starts scraping a few seconds after it starts (its target
    // discovery settles first), so wait for a rate window's worth of scrapes.
    await until('a rate window of scrapes', async () => {
      const scrapes = await value(`count_over_time(up{job="sluice"}[${RATE_INTERVAL}])`);
      return scrapes !== undefined && scrapes >= 5 ? true : undefined;
    });
  }, 180_000);

  afterAll(async () => {
    ws?.close();
    kafka?.close();
    await prometheus?.stop();
    await broker?.stop();
    if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
  });

  it('scrapes the broker without errors (OpenMetrics negotiated)', async () => {
    const targets = await prometheus!.api<{
      activeTargets: { health: string; lastError: string; labels: Record<string, string> }[];
    }>('/api/v1/targets');
    expect(targets.activeTargets).toHaveLength(1);
    expect(targets.activeTargets[0]).toMatchObject({ health: 'up', lastError: '' });
    const res = await fetch(`${broker.httpUrl}/metrics`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' },
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
    expect(await res.text()).toMatch(/# EOF\n$/);
  });

  it('gives every dashboard panel data', async () => {
    const empty: string[] = [];
    for (const { title, expr } of dashboardExpressions()) {
      const query = withVariablesAtAll(expr, RATE_INTERVAL);
      const result = await prometheus!.query(query);
      if (result.length === 0) empty.push(`${title}: ${query}`);
    }
    expect(empty).toEqual([]);
  });

  it('lists the test topics and group in the dashboard variables', async () => {
    const labelValues = (label: string, match: string) =>
      prometheus!.api<string[]>(`/api/v1/label/${label}/values?match[]=${encodeURIComponent(match)}`);
    const topics = await labelValues('topic', 'sluice_log_end_offset{instance=~".*"}');
    for (const t of [main, exact, retained, compacted, '__consumer_offsets']) expect(topics).toContain(t);
    expect(await labelValues('group', 'sluice_consumer_group_members{instance=~".*"}')).toContain(group);
    expect(await labelValues('instance', 'sluice_build_info')).toEqual([new URL(broker.httpUrl).host]);
  });

  it('counts what the test did', async () => {
    // Records and bytes in: from the worker reports (batch headers), exactly what was produced.
    expect(await value(`sum(sluice_records_in_total{topic="${exact}"})`)).toBe(done.exactRecords);
    expect(await value(`sum(sluice_bytes_in_total{topic="${exact}"})`)).toBe(done.exactBytes);
    expect(await value(`sum(sluice_batches_in_total{topic="${exact}", outcome="appended"})`)).toBe(5);
    // Out: the whole topic was fetched once.
    expect(await value(`sum(sluice_records_out_total{topic="${exact}"})`)).toBe(done.exactRecords);
    expect(await value(`sum(sluice_bytes_out_total{topic="${exact}"})`)).toBe(done.exactBytes);
    expect(await value(`sum(sluice_records_in_total{topic="${main}"})`)).toBe(120);
    expect(await value(`sluice_requests_total{protocol="ws", api="produce"}`)).toBe(done.wsProduces);
    expect(await value(`sluice_requests_total{protocol="kafka", api="produce"}`)).toBe(done.kafkaProduces);
    expect(await value(`sluice_requests_total{protocol="kafka", api="fetch"}`)).toBe(2);
    expect(await value(`sluice_request_duration_seconds_count{protocol="ws", api="produce"}`)).toBe(
      done.wsProduces,
    );
    expect(
      await value(`sluice_partition_errors_total{api="produce", error="UNKNOWN_TOPIC_OR_PARTITION"}`),
    ).toBe(1);
    expect(
      await value(`sluice_request_errors_total{protocol="ws", api="fetch", error="INVALID_REQUEST"}`),
    ).toBe(1);
    // Log gauges and lag.
    for (let p = 0; p < 3; p++) {
      const labels = `topic="${main}", partition="${p}"`;
      expect(await value(`sluice_log_end_offset{${labels}}`)).toBe(done.mainEnd[p]);
      expect(await value(`sluice_consumer_group_committed_offset{group="${group}", ${labels}}`)).toBe(
        done.committed[p],
      );
      expect(await value(`sluice_consumer_group_lag{group="${group}", ${labels}}`)).toBe(
        done.mainEnd[p]! - done.committed[p]!,
      );
    }
    expect(await value(`sluice_consumer_group_members{group="${group}"}`)).toBe(1);
    expect(await value(`sluice_consumer_group_rebalances_total{group="${group}"}`)).toBeGreaterThanOrEqual(1);
    expect(await value(`sum(sluice_connections{protocol="ws"})`)).toBe(1);
    expect(await value(`sum(sluice_connections{protocol="kafka"})`)).toBe(1);
    expect(await value(`count(sluice_worker_busy_seconds_total)`)).toBe(2);
    expect(await value(`sum(sluice_worker_task_duration_seconds_count{op="append"})`)).toBeGreaterThanOrEqual(
      done.wsProduces + done.kafkaProduces - 1,
    );
    expect(await value(`sum(sluice_fsync_duration_seconds_count)`)).toBeGreaterThan(0);
  });

  it('evaluates every alert rule without errors', async () => {
    const rules = await until('rules evaluated', async () => {
      const data = await prometheus!.api<{
        groups: { rules: { name: string; health: string; lastError?: string }[] }[];
      }>('/api/v1/rules');
      const all = data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => r.health !== 'unknown') ? all : undefined;
    });
    expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);
    expect(rules.length).toBeGreaterThanOrEqual(10);
  });

  it('passes promtool check metrics on the live scrape', async () => {
    const body = await (await fetch(`${broker.httpUrl}/metrics`)).text();
    expect(body).toContain(`topic="${main}"`);
    const r = await promtool(['check', 'metrics'], { input: body });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
