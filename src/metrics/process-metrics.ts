/**
 * What every /metrics of the fleet exports besides its own series: prom-client's process metrics,
 * corrected for promtool, and a build-info gauge (Prometheus' convention: value 1, facts as labels).
 */
import { Gauge, collectDefaultMetrics, type Registry } from 'prom-client';
import { PROJECT_VERSION } from '../config/version.js';

/**
 * prom-client's default gauges that end in `_total`, a suffix Prometheus keeps for counters
 * (`promtool check metrics` fails on them). Each is the sum of the same gauge without the suffix,
 * which has a `type` label and stays: `sum(nodejs_active_handles)` is the dropped total.
 */
export const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_resources_total',
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
] as const;

/** prom-client's process metrics (CPU, memory, event loop lag, GC) without the misnamed gauges. */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
}

/** `supervised_balancer_build_info{version, nodejs} 1`: which build and runtime answer this scrape. */
export function registerBuildInfo(registry: Registry): void {
  new Gauge({
    name: 'supervised_balancer_build_info',
    help: 'Always 1; the labels say which version of the project and of Node.js serve these metrics',
    labelNames: ['version', 'nodejs'],
    registers: [registry],
  })
    .labels(PROJECT_VERSION, process.versions.node)
    .set(1);
}
