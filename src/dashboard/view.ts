/**
 * What the dashboard page receives once a second (and at once on a pool or admin change): one JSON
 * document with every upstream (its health, admin state and weight), the balancer's workers, the
 * last minute's totals, the last pool changes, operators' decisions and worker changes (reloads, a
 * worker lost and replaced). This is the page's
 * contract; the balancer's own status type is mapped onto it in one place (status-adapter.ts) so the
 * page does not change when the balancer's internals do.
 */
import type { DiscoveryState, Pm2ProcessState, UpstreamOrigin } from '../balancer/discovery/types.js';
import type { AdminChange } from '../balancer/events.js';
import type { FrontStatus } from '../balancer/front/front-status.js';
import type { AdminState } from '../balancer/zone.js';
import type { SecondPoint, WindowSummary } from '../metrics/rolling-window.js';
import type { PoolChange } from './pool-change-log.js';

export type HealthView = 'healthy' | 'unhealthy' | 'unknown';

export interface UpstreamView {
  id: string;
  name: string;
  /** host:port */
  address: string;
  health: HealthView;
  /** Why it is in that state ("rejoined after 2 checks", "connection refused while proxying"). */
  reason: string;
  /** Epoch ms of the last state change. */
  since: number;
  /** Given new requests now (healthy, admin ready, weight above 0). */
  available: boolean;
  /** What an operator decided: ready, drain (no new requests) or maint (out, no checks). */
  admin: AdminState;
  /** The weight in force. */
  weight: number;
  /** Requests in flight to it now, from every worker. */
  inFlight: number;
  /** Open tunnels (WebSockets) and their bytes each way; part of inFlight. */
  tunnels: { open: number; bytesToUpstream: number; bytesFromUpstream: number };
  served: number;
  failures: number;
  check: { ok: boolean; latencyMs: number | null; at: number | null; error: string | null } | null;
  pm2: Pm2ProcessState | null;
  /** Which discovery source listed it, from which host. */
  origin?: UpstreamOrigin;
}

/** One request-path process: each cluster worker, or the balancer itself with --workers 1. */
export interface WorkerView {
  /** The cluster's worker id (0 for a single process). */
  id: number;
  pid: number;
  /** Which start or reload brought it (0 for the first). */
  generation: number;
  /** Epoch ms. */
  startedAt: number;
  state: 'starting' | 'ready' | 'draining';
  inFlight: number;
  served: number;
  failures: number;
  /** Resident memory and CPU share (percent of one core); null before its first report. */
  rssBytes: number | null;
  cpuPercent: number | null;
}

/** The balancer's own `front` status as it is: the page reads the same fields. */
export type FrontView = FrontStatus;

export interface TotalsView {
  windowSeconds: number;
  requests: number;
  errors: number;
  errorRate: number;
  requestsPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  series: SecondPoint[];
}

export interface DashboardView {
  /** Epoch ms when this view was built. */
  at: number;
  balancer: {
    name: string;
    pid: number;
    uptimeMs: number;
    discovery: string;
    policy: string;
    /** What carries requests to the upstreams (--proxy-engine). */
    engine: string;
    /** Client connections open now against the balancer's cap (--max-connections). */
    connections: { open: number; limit: number; dropped: number; localFailures: number };
    /** The discovery source's state (etcd: connected, last revision, last error). */
    source?: DiscoveryState | null;
    /** Request-path processes configured (--workers; 1 is a single process). */
    workers: number;
    /** Why one process serves where more workers were asked (the native addons did not load). */
    singleProcessReason: string | null;
    /** Zero-downtime reloads done since start. */
    reloads: number;
    /** A front behind a virtual IP: who holds it, split brain, the other fronts; null when no front. */
    front?: FrontView | null;
  };
  upstreams: UpstreamView[];
  /** Oldest generation first, then by worker id. */
  workers: WorkerView[];
  totals: TotalsView;
  poolChanges: PoolChange[];
  /** What operators decided (drain, maint, ready, a weight), newest first. */
  adminChanges: AdminChangeView[];
  /** Reloads starting and ending, workers lost and started; newest first. */
  workerChanges: WorkerChange[];
}

export function totalsView(summary: WindowSummary): TotalsView {
  return {
    windowSeconds: summary.seconds,
    requests: summary.requests,
    errors: summary.errors,
    errorRate: summary.errorRate,
    requestsPerSecond: summary.requestsPerSecond,
    p50Ms: round(summary.p50Ms),
    p99Ms: round(summary.p99Ms),
    series: summary.series.map((p) => ({ ...p, p50Ms: round(p.p50Ms), p99Ms: round(p.p99Ms) })),
  };
}

/** Three significant decimals are plenty for milliseconds and keep the JSON short. */
function round(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 1000) / 1000;
}

/**
 * An operator's decision on one upstream (drain, maint, ready, a weight), and who made it: the
 * balancer's event as it is, these fields only (status-adapter.ts copies them).
 */
export type AdminChangeView = Pick<AdminChange, 'at' | 'id' | 'name' | 'admin' | 'weight' | 'change' | 'by'>;

/** What changed among the workers between two readings (worker-changes.ts works it out). */
export type WorkerChangeKind =
  'reload-start' | 'reload-done' | 'reload-failed' | 'drained' | 'worker-lost' | 'worker-started';

export interface WorkerChange {
  /** Epoch ms: when the workers started for a start, else when the reading saw it. */
  at: number;
  kind: WorkerChangeKind;
  generation: number;
  /** One short line for a person: "reload: generation 2 starting, pids 41, 42". */
  text: string;
}
