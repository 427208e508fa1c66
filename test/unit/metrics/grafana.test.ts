/**
 * The Prometheus files in grafana/ pass Prometheus's own checks: the alert rules load
 * (`promtool check rules`) and fire when they should (`promtool test rules alerts.test.yml`), and
 * the example configuration is valid (`promtool check config`, which also loads its rule files).
 */
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeWith, promtool } from './prometheus-tools.ts';

const GRAFANA = path.resolve(import.meta.dirname, '../../../grafana');

describeWith('promtool', 'grafana/ Prometheus files', () => {
  it('alerts.yml: promtool check rules', async () => {
    const r = await promtool(['check', 'rules', 'alerts.yml'], { cwd: GRAFANA });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code).toBe(0);
  });

  it('alerts.yml: promtool test rules alerts.test.yml', async () => {
    const r = await promtool(['test', 'rules', 'alerts.test.yml'], { cwd: GRAFANA });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.code).toBe(0);
  });

  it('prometheus.yml: promtool check config', async () => {
    const r = await promtool(['check', 'config', 'prometheus.yml'], { cwd: GRAFANA });
    expect(r.stdout).toMatch(/prometheus.yml is valid/);
    expect(r.code).toBe(0);
  });
});
