/**
 * Content negotiation for GET /metrics: Prometheus text format 0.0.4 by default, OpenMetrics 1.0
 * when the scraper asks for it in Accept (Prometheus itself does, preferring OpenMetrics).
 *
 * Why a second registry of stand-ins rather than `registry.setContentType()`: rendering OpenMetrics,
 * prom-client renames every counter in place (`metric.name` loses its `_total`, permanently), after
 * which the Prometheus-format output would lose `_total` too. The stand-ins below carry the
 * OpenMetrics family name (no `_total`) and read their values from the real metric, which is never
 * touched; prom-client then adds `_total` back on the counter samples as OpenMetrics wants.
 *
 * Main thread only.
 */
import { type Metric, Registry } from 'prom-client';

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_CONTENT_TYPE = Registry.OPENMETRICS_CONTENT_TYPE;

/** True when an Accept header lists OpenMetrics (any version) with a non-zero quality. */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    if (type !== 'application/openmetrics-text') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

interface Renderable {
  name: string;
  help: string;
  type: string;
  aggregator?: string;
  get(): Promise<{ name: string; values: unknown[] }>;
  getForPromString?(): Promise<{ name: string; values: unknown[] }>;
}

/** An OpenMetrics registry mirroring `source` (call after every metric is registered there). */
export function openMetricsMirror(source: Registry): Registry<typeof OPENMETRICS_CONTENT_TYPE> {
  // (prom-client's typings lack the constructor's content-type argument; setContentType is the same.)
  const mirror = new Registry<typeof OPENMETRICS_CONTENT_TYPE>();
  mirror.setContentType(OPENMETRICS_CONTENT_TYPE);
  for (const original of source.getMetricsAsArray() as unknown as Renderable[]) {
    const family = original.type === 'counter' ? original.name.replace(/_total$/, '') : original.name;
    const standIn: Renderable = {
      name: family,
      help: original.help,
      type: original.type,
      aggregator: original.aggregator ?? 'sum',
      async get() {
        // Histograms render from getForPromString (unsplayed labels), as Registry does.
        const data = await (original.getForPromString?.() ?? original.get());
        return { ...data, name: family };
      },
    };
    mirror.registerMetric(standIn as unknown as Metric);
  }
  return mirror;
}
