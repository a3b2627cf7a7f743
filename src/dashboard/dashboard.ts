/**
 * The balancer's dashboard and metrics, as one object the balancer feeds and the admin listener
 * serves. It listens to the balancer's events (request finished, pool change, admin change, health
 * check), keeps the last minute's totals, the last pool changes, operators' decisions and worker
 * changes, updates the Prometheus metrics, and answers the admin routes (routes.ts). It never
 * changes anything in the balancer: it only reads (the page's controls POST to the balancer's own
 * routes, behind its guard).
 */
import { VRRP_STATES } from '../balancer/front/vrrp-state.js';
import { BalancerMetrics, type UpstreamGaugeSource } from '../metrics/balancer-metrics.js';
import { RollingWindow } from '../metrics/rolling-window.js';
import { EventStream } from './event-stream.js';
import { PoolChangeLog, type PoolChange } from './pool-change-log.js';
import { RecentLog } from './recent-log.js';
import { totalsView, type AdminChangeView, type DashboardView, type UpstreamView } from './view.js';
import { WorkerChangeTracker, type WorkerChange } from './worker-changes.js';

/** What the dashboard reads from the balancer, once per frame or scrape. */
export interface DashboardSource {
  read(): Pick<DashboardView, 'balancer' | 'upstreams' | 'workers'>;
}

export interface DashboardOptions {
  source: DashboardSource;
  /** How often open pages get a frame; default 1000 ms (the "at most once a second"). */
  frameIntervalMs?: number;
  /** Pool changes, admin changes and worker changes kept for the page; default 20 of each. */
  changesKept?: number;
  /** Export process metrics (CPU, memory, event loop) on /metrics; default true. */
  processMetrics?: boolean;
  clock?: () => number;
  onError?: (err: unknown) => void;
}

export class Dashboard {
  readonly metrics: BalancerMetrics;
  readonly stream: EventStream;
  private readonly window = new RollingWindow(60);
  private readonly changes: PoolChangeLog;
  private readonly adminChanges: RecentLog<AdminChangeView>;
  private readonly workerChanges: RecentLog<WorkerChange>;
  private readonly workerTracker = new WorkerChangeTracker();
  private readonly source: DashboardSource;
  private readonly clock: () => number;

  constructor(options: DashboardOptions) {
    this.source = options.source;
    this.clock = options.clock ?? Date.now;
    this.changes = new PoolChangeLog(options.changesKept ?? 20);
    this.adminChanges = new RecentLog<AdminChangeView>(options.changesKept ?? 20);
    this.workerChanges = new RecentLog<WorkerChange>(options.changesKept ?? 20);
    this.metrics = new BalancerMetrics({
      upstreams: () => this.source.read().upstreams.map(gaugeSource),
      connections: () => this.source.read().balancer.connections,
      policy: () => this.source.read().balancer.policy,
      workers: () => this.source.read().workers,
      processMetrics: options.processMetrics ?? true,
      front: { states: VRRP_STATES, read: () => this.source.read().balancer.front ?? null },
    });
    this.stream = new EventStream({
      frame: () => this.view(),
      intervalMs: options.frameIntervalMs ?? 1000,
      ...(options.onError === undefined ? {} : { onError: options.onError }),
    });
  }

  /** Hot path: a request finished. `upstream` is the name of the one that answered, null for none. */
  requestFinished(upstream: string | null, status: number, durationMs: number, retries: number): void {
    this.window.record(this.clock(), durationMs, status >= 500);
    this.metrics.requestFinished(upstream, status, durationMs, retries);
  }

  /** An upstream left or rejoined rotation: log it and show it on open pages at once. */
  poolChanged(change: Omit<PoolChange, 'at'> & { at?: number }): void {
    this.changes.add({ ...change, at: change.at ?? this.clock() });
    this.stream.pushSoon();
  }

  /** An operator drained, readied, put in maint or weighed an upstream: on open pages at once. */
  adminChanged(change: AdminChangeView): void {
    this.adminChanges.add(change);
    this.stream.pushSoon();
  }

  healthChecked(upstream: string, ok: boolean): void {
    this.metrics.healthChecked(upstream, ok);
  }

  /** Something on the page changed that should not wait for the next tick (a state change). */
  refresh(): void {
    this.stream.pushSoon();
  }

  view(): DashboardView {
    const now = this.clock();
    const { balancer, upstreams, workers } = this.source.read();
    // Each view is a reading of the workers; what changed since the last one goes in the log.
    for (const change of this.workerTracker.observe(now, workers, balancer.reloads)) {
      this.workerChanges.add(change);
    }
    return {
      at: now,
      balancer,
      upstreams,
      workers,
      totals: totalsView(this.window.summary(now)),
      poolChanges: this.changes.list(),
      adminChanges: this.adminChanges.list(),
      workerChanges: this.workerChanges.list(),
    };
  }

  /** End open event streams so the admin listener can close. */
  close(): void {
    this.stream.close();
  }
}

function gaugeSource(u: UpstreamView): UpstreamGaugeSource {
  return {
    name: u.name,
    healthy: u.health === 'healthy',
    available: u.available,
    admin: u.admin,
    weight: u.weight,
    inFlight: u.inFlight,
    tunnels: u.tunnels.open,
    tunnelBytesToUpstream: u.tunnels.bytesToUpstream,
    tunnelBytesFromUpstream: u.tunnels.bytesFromUpstream,
    pm2Restarts: u.pm2?.restarts ?? null,
  };
}
