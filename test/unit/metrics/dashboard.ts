/**
 * The Grafana dashboard (grafana/dashboards/sluice.json) as the tests see it: its panels and every
 * PromQL expression in them, and the variable substitutions Grafana would make.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Panel {
  type: string;
  title: string;
  id: number;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; refId: string; datasource?: { uid: string } }[];
}

export interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: {
    list: { name: string; type: string; query: unknown; includeAll?: boolean; allValue?: string }[];
  };
}

export const DASHBOARD_FILE = path.resolve(import.meta.dirname, '../../../grafana/dashboards/sluice.json');

export function loadDashboard(): Dashboard {
  return JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every PromQL expression of the dashboard: panel targets and query variables. */
export function dashboardExpressions(d: Dashboard = loadDashboard()): { title: string; expr: string }[] {
  const out: { title: string; expr: string }[] = [];
  for (const p of d.panels)
    for (const t of p.targets ?? []) out.push({ title: `${p.title} [${t.refId}]`, expr: t.expr });
  return out;
}

/**
 * An expression as Grafana would send it with every variable at All and `$__rate_interval` at
 * `rateInterval` (Grafana makes it four scrape intervals).
 */
export function withVariablesAtAll(expr: string, rateInterval: string): string {
  return expr.replaceAll('$__rate_interval', rateInterval).replace(/\$(instance|topic|group)\b/g, '.*');
}
