/**
 * Plug the dashboard and /metrics into a load balancer: its routes on the admin listener, its
 * listeners on the balancer's events. The one call the balancer's entry point makes.
 */
import type { AdminServer } from '../balancer/admin-server.js';
import type { BalancerEvents } from '../balancer/events.js';
import type { BalancerStatus } from '../balancer/status.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { Dashboard } from './dashboard.js';
import { dashboardRoutes } from './routes.js';
import { adminChangeView, poolChangeView, statusView } from './status-adapter.js';

/** The parts of the LoadBalancer the dashboard uses: read-only status, events, admin routes. */
export interface DashboardHost {
  readonly events: BalancerEvents;
  readonly admin: AdminServer;
  status(): BalancerStatus;
  /** A cluster primary: gather the workers' fresh counts, awaited before /metrics answers. */
  refreshReports?(): Promise<void>;
}

export function attachDashboard(host: DashboardHost, logger: Logger): Dashboard {
  const dashboard = new Dashboard({
    source: { read: () => statusView(host.status()) },
    onError: (err) =>
      logger.warn(`dashboard frame failed: ${errorMessage(err)}`, { event: 'dashboard-error' }),
  });
  for (const [path, handler] of dashboardRoutes(dashboard, {
    onError: (message) => logger.warn(message, { event: 'metrics-error' }),
    ...(host.refreshReports === undefined ? {} : { beforeMetrics: () => host.refreshReports?.() }),
  })) {
    host.admin.route(path, handler);
  }
  host.events.onRequestFinished((e) => dashboard.requestFinished(e.upstream, e.status, e.ms, e.retries));
  host.events.onPoolChange((e) => dashboard.poolChanged(poolChangeView(e)));
  host.events.onAdminChange((e) => dashboard.adminChanged(adminChangeView(e)));
  host.events.onHealthCheck((e) => dashboard.healthChecked(e.name, e.ok));
  return dashboard;
}
