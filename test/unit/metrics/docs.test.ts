/**
 * docs/metrics.md, the metric table (src/metrics/definitions.ts), the registry the broker scrapes,
 * the Grafana dashboard and the alert rules agree: every metric is documented with its type and
 * labels, and every metric the dashboard or an alert queries exists (STYLE.md point 8).
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BrokerMetrics } from '../../../src/metrics/broker-metrics.ts';
import { METRICS } from '../../../src/metrics/definitions.ts';
import { dashboardExpressions, loadDashboard } from './dashboard.ts';

interface DocRow {
  name: string;
  type: string;
  labels: string[];
  meaning: string;
}

function docRows(): DocRow[] {
  const doc = fs.readFileSync('docs/metrics.md', 'utf8');
  return [
    ...doc.matchAll(/^\|\s*`([a-z0-9_:]+)`\s*\|\s*(counter|gauge|histogram)\s*\|([^|]*)\|([^|]*)\|\s*$/gm),
  ].map((m) => ({
    name: m[1]!,
    type: m[2]!,
    labels: [...m[3]!.matchAll(/`([a-z_]+)`/g)].map((l) => l[1]!),
    meaning: m[4]!.trim(),
  }));
}

/** Metric names in a PromQL expression or rules file (ours and the Node/process defaults). */
function metricNames(text: string): string[] {
  return [...new Set([...text.matchAll(/\b((?:sluice|nodejs|process)_[a-z0-9_]+)\b/g)].map((m) => m[1]!))];
}

async function registeredMetrics(): Promise<Map<string, string>> {
  const metrics = new BrokerMetrics({ partitionLabels: true, version: 'test' });
  const all = await metrics.registry.getMetricsAsJSON();
  return new Map(all.map((m) => [m.name, String(m.type)]));
}

/** A series name → the metric it belongs to (histogram series carry _bucket, _sum, _count). */
function familyOf(series: string, registered: Map<string, string>): string | undefined {
  if (registered.has(series)) return series;
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  return m && registered.get(m[1]!) === 'histogram' ? m[1] : undefined;
}

describe('docs/metrics.md', () => {
  it('lists every Sluice metric with its type, labels and meaning, as defined', () => {
    const documented = docRows().filter((r) => r.name.startsWith('sluice_'));
    const defined = Object.values(METRICS).map((d) => ({
      name: d.name,
      type: d.type,
      labels: [...d.labels],
      meaning: d.help,
    }));
    expect(documented.map((r) => r.name).sort()).toEqual(defined.map((d) => d.name).sort());
    for (const d of defined) expect(documented.find((r) => r.name === d.name)).toEqual(d);
  });

  it('lists every metric the broker registers, with its type', async () => {
    const rows = new Map(docRows().map((r) => [r.name, r]));
    for (const [name, type] of await registeredMetrics()) {
      expect(rows.get(name), `${name} is not in docs/metrics.md`).toBeDefined();
      expect(rows.get(name)?.type, name).toBe(type);
    }
  });

  it('follows the naming conventions', () => {
    for (const d of Object.values(METRICS)) {
      expect(d.name).toMatch(/^sluice_[a-z0-9_]+$/);
      expect(d.name.endsWith('_total')).toBe(d.type === 'counter');
      if (d.type === 'histogram') expect(d.name).toMatch(/_seconds$/);
      expect(d.name).not.toMatch(/_(ms|milliseconds|kb|mb|percent)(_|$)/);
      expect(d.labels).not.toContain('client_id');
    }
  });
});

describe('grafana/dashboards/sluice.json', () => {
  const d = loadDashboard();

  it('has the five rows, in order', () => {
    expect(d.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual([
      'Overview',
      'Producers',
      'Consumers & lag',
      'Storage',
      'Workers & runtime',
    ]);
  });

  it('has a Prometheus data source variable and topic and group variables', () => {
    const vars = new Map(d.templating.list.map((v) => [v.name, v]));
    expect(vars.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['topic', 'group']) {
      expect(vars.get(name)).toMatchObject({ type: 'query', includeAll: true, allValue: '.*' });
    }
  });

  it('has panels that query through the data source variable, with unique ids, inside the grid', () => {
    const panels = d.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(30);
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: `\${datasource}` });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.expr.trim(), p.title).not.toBe('');
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
  });

  it('queries only metrics the broker exports', async () => {
    const registered = await registeredMetrics();
    const used = new Set<string>();
    for (const { title, expr } of dashboardExpressions(d)) {
      for (const name of metricNames(expr)) {
        expect(familyOf(name, registered), `${title}: ${name}`).toBeDefined();
        used.add(familyOf(name, registered)!);
      }
    }
    for (const v of d.templating.list.filter((v) => v.type === 'query')) {
      for (const name of metricNames(JSON.stringify(v.query))) expect(registered.has(name), name).toBe(true);
    }
    // The must-haves are on the dashboard.
    for (const name of [
      'sluice_records_in_total',
      'sluice_bytes_out_total',
      'sluice_request_duration_seconds',
      'sluice_fetch_wait_seconds',
      'sluice_fetch_serve_seconds',
      'sluice_consumer_group_lag',
      'sluice_consumer_group_members',
      'sluice_consumer_group_rebalances_total',
      'sluice_log_size_bytes',
      'sluice_retention_deleted_bytes_total',
      'sluice_worker_busy_seconds_total',
      'sluice_worker_queue_depth',
      'sluice_worker_task_duration_seconds',
      'sluice_fsync_duration_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'process_resident_memory_bytes',
      'nodejs_gc_duration_seconds',
      'sluice_connections',
    ])
      expect(used, name).toContain(name);
  });
});

describe('grafana/alerts.yml', () => {
  it('queries only metrics the broker exports', async () => {
    const registered = await registeredMetrics();
    const rules = fs.readFileSync('grafana/alerts.yml', 'utf8').replace(/^\s*#.*$/gm, '');
    const names = metricNames(rules);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) expect(familyOf(name, registered), name).toBeDefined();
  });
});
