/**
 * The balancer's status and events, mapped onto the dashboard's view (view.ts): the one place that
 * knows both shapes. Pure.
 */
import type { AdminChange, PoolChange as BalancerPoolChange } from '../balancer/events.js';
import type { HealthStatus } from '../balancer/health-state.js';
import type { BalancerStatus, UpstreamStatus, WorkerStatus } from '../balancer/status.js';
import type { PoolChange } from './pool-change-log.js';
import type { AdminChangeView, DashboardView, HealthView, UpstreamView, WorkerView } from './view.js';

const HEALTH: Record<HealthStatus, HealthView> = { up: 'healthy', down: 'unhealthy', unknown: 'unknown' };

export function healthView(state: HealthStatus): HealthView {
  return HEALTH[state];
}

export function upstreamView(u: UpstreamStatus): UpstreamView {
  // An operator's decision shows as its own badge; out of rotation for any other reason is
  // unhealthy to a person watching.
  const operatorsOut = u.admin !== 'ready' || u.weight === 0;
  return {
    id: u.id,
    name: u.name,
    address: u.address,
    health: u.state === 'up' && !u.available && !operatorsOut ? 'unhealthy' : healthView(u.state),
    reason: u.reason,
    since: u.since,
    available: u.available,
    admin: u.admin,
    weight: u.weight,
    inFlight: u.inFlight,
    tunnels: u.tunnels,
    served: u.served,
    failures: u.failures,
    check: u.lastCheck,
    pm2: u.pm2,
    origin: u.origin,
  };
}

export function workerView(w: WorkerStatus): WorkerView {
  return {
    id: w.id,
    pid: w.pid,
    generation: w.generation,
    startedAt: w.startedAt,
    state: w.state,
    inFlight: w.inFlight,
    served: w.served,
    failures: w.failures,
    rssBytes: w.rssBytes,
    cpuPercent: w.cpuPercent,
  };
}

/** Oldest generation first (the draining ones during a reload), then by worker id. */
function byAge(a: WorkerView, b: WorkerView): number {
  return a.generation - b.generation || a.id - b.id;
}

export function statusView(
  status: BalancerStatus,
): Pick<DashboardView, 'balancer' | 'upstreams' | 'workers'> {
  const b = status.balancer;
  return {
    balancer: {
      name: b.name,
      pid: b.pid,
      uptimeMs: b.uptimeMs,
      discovery: b.discovery,
      policy: b.policy,
      engine: b.proxyEngine,
      connections: {
        open: b.connections.open,
        limit: b.connections.limit,
        dropped: b.connections.dropped,
        localFailures: b.connections.localFailures,
      },
      source: b.source ?? null,
      workers: b.workers,
      singleProcessReason: b.singleProcessReason,
      reloads: b.reloads,
      front: b.front ?? null,
    },
    upstreams: status.upstreams.map(upstreamView),
    workers: status.workers.map(workerView).sort(byAge),
  };
}

/** "absent" is an upstream joining or leaving the membership (discovery), not a health state. */
export function poolChangeView(e: BalancerPoolChange): PoolChange {
  const side = (s: HealthStatus | 'absent') => (s === 'absent' ? 'not in pool' : healthView(s));
  return { at: e.at, id: e.id, name: e.name, from: side(e.from), to: side(e.to), reason: e.reason };
}

export function adminChangeView(e: AdminChange): AdminChangeView {
  return { at: e.at, id: e.id, name: e.name, admin: e.admin, weight: e.weight, change: e.change, by: e.by };
}
