/**
 * The balancer's Prometheus metrics, in a registry of its own (never prom-client's global one, so
 * tests and several instances in one process do not share counters).
 *
 * The proxy's request path pays two map lookups and a few number updates per request: counters
 * and the latency histogram are bound once per upstream and status (deferred-counter.ts,
 * bucket-histogram.ts), with no label hashing or allocation per request. Gauges (health, in-flight,
 * PM2 restarts) are not updated on every change: they are read from the balancer's status when
 * someone scrapes.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { BucketHistogram, type HistogramSeries } from './bucket-histogram.js';
import { DeferredCounter, type CounterSlot } from './deferred-counter.js';
import { registerBuildInfo, registerProcessMetrics } from './process-metrics.js';
import { eventLoopDelayGauges } from './event-loop-delay.js';
import { registerFrontMetrics, type FrontGaugeSource } from './front-metrics.js';

/** The operator's states, as the admin-state gauge labels them (the balancer's AdminState). */
const ADMIN_STATES = ['ready', 'drain', 'maint'] as const;

/** What the gauges need from the balancer's status for one upstream. */
export interface UpstreamGaugeSource {
  name: string;
  healthy: boolean;
  /** Given new requests now: healthy, admin ready, weight above 0. */
  available: boolean;
  /** ready, drain or maint, as an operator decided. */
  admin: string;
  weight: number;
  /** From every worker of the balancer (the shared zone). */
  inFlight: number;
  /** Open tunnels (upgraded connections), and the bytes relayed through them each way so far. */
  tunnels: number;
  tunnelBytesToUpstream: number;
  tunnelBytesFromUpstream: number;
  /** Null when the upstream is not a PM2 app. */
  pm2Restarts: number | null;
}

export interface BalancerMetricsOptions {
  /** Read at scrape time for the gauges. */
  upstreams: () => Iterable<UpstreamGaugeSource>;
  /** Client connections against the balancer's cap, read at scrape time. */
  connections?: () => ConnectionGaugeSource;
  /** The selection policy in use (round-robin, weighted-round-robin, least-request), read at scrape time. */
  policy?: () => string;
  /** The request-path workers' memory and CPU (a single process is worker 0), read at scrape time. */
  workers?: () => Iterable<WorkerUsageSource>;
  /** Also export prom-client's process metrics (CPU, memory, event loop lag); default true. */
  processMetrics?: boolean;
  /** A front balancer's VRRP state (null: it is no front), and every state it can be in. */
  front?: { states: readonly string[]; read: () => FrontGaugeSource | null };
}

export interface WorkerUsageSource {
  id: number;
  rssBytes: number | null;
  cpuPercent: number | null;
}

export interface ConnectionGaugeSource {
  open: number;
  limit: number;
  dropped: number;
  localFailures: number;
}

/** Label used for requests the balancer answered itself (503 with no upstream available). */
export const NO_UPSTREAM = 'none';

/** Latency bounds in seconds: a proxied static file takes about a millisecond. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface CounterChild {
  inc(value?: number): void;
}
interface UpstreamSeries {
  byStatus: Map<number, CounterSlot>;
  latency: HistogramSeries;
}

export class BalancerMetrics {
  readonly registry = new Registry();
  private readonly requests: DeferredCounter<'upstream' | 'status'>;
  private readonly latency: BucketHistogram;
  private readonly retries: CounterSlot;
  private readonly healthChecks: Counter<'upstream' | 'result'>;
  private readonly series = new Map<string, UpstreamSeries>();
  private readonly checkChildren = new Map<string, [ok: CounterChild, failed: CounterChild]>();
  /** Registers the front's metrics on the first scrape that finds a front; undefined once done. */
  private frontPending: (() => void) | undefined;

  constructor(options: BalancerMetricsOptions) {
    const registers = [this.registry];
    this.requests = new DeferredCounter({
      name: 'balancer_requests_total',
      help: 'Requests answered, by the upstream that served them ("none" if the balancer answered) and status',
      labelNames: ['upstream', 'status'],
      registers,
    });
    this.latency = new BucketHistogram({
      name: 'balancer_request_duration_seconds',
      help: 'Time from request to the end of the response, retries included, by upstream',
      labelName: 'upstream',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.retries = new DeferredCounter({
      name: 'balancer_retries_total',
      help: 'Attempts retried on another upstream',
      labelNames: [],
      registers,
    }).slot();
    const { upstreams } = options;
    const checkPair = (upstream: string) => this.checkPair(upstream);
    this.healthChecks = new Counter({
      name: 'balancer_health_checks_total',
      help: 'Active health checks, by upstream and result (ok or fail)',
      labelNames: ['upstream', 'result'],
      registers,
      // Both results of every upstream in the pool are exported, at 0 until they happen.
      collect() {
        for (const u of upstreams()) checkPair(u.name);
      },
    });
    // The balancer's own answer when no upstream is available: exported at 0 until the first one.
    this.seriesOf(NO_UPSTREAM).byStatus.set(503, this.requests.slot(NO_UPSTREAM, '503'));
    upstreamGauge(
      this.registry,
      upstreams,
      'balancer_upstream_healthy',
      '1 while its health allows traffic (up, or not checked yet), 0 while it is down',
      (u) => (u.healthy ? 1 : 0),
    );
    upstreamGauge(
      this.registry,
      upstreams,
      'balancer_upstream_available',
      '1 while the upstream gets new requests (healthy, admin state ready, weight above 0), else 0',
      (u) => (u.available ? 1 : 0),
    );
    upstreamGauge(
      this.registry,
      upstreams,
      'balancer_upstream_weight',
      "The upstream's weight in force (an operator's, or discovery's)",
      (u) => u.weight,
    );
    new Gauge({
      name: 'balancer_upstream_admin_state',
      help: "1 for the operator's state of the upstream (ready, drain or maint), 0 for the others",
      labelNames: ['upstream', 'state'],
      registers,
      collect() {
        this.reset();
        for (const u of upstreams()) {
          for (const state of ADMIN_STATES) this.labels(u.name, state).set(u.admin === state ? 1 : 0);
        }
      },
    });
    upstreamGauge(
      this.registry,
      upstreams,
      'balancer_upstream_in_flight',
      'Requests being proxied to the upstream right now, by every worker (open tunnels included)',
      (u) => u.inFlight,
    );
    upstreamGauge(
      this.registry,
      upstreams,
      'balancer_upstream_tunnels_open',
      'Upgraded connections (WebSockets) tunnelled to the upstream right now',
      (u) => u.tunnels,
    );
    tunnelBytesCounter(this.registry, upstreams);
    upstreamGauge(
      this.registry,
      upstreams,
      'balancer_upstream_pm2_restarts',
      "PM2's restart count of the process behind the upstream (PM2 discovery only)",
      (u) => u.pm2Restarts,
    );
    registerBuildInfo(this.registry);
    if (options.processMetrics ?? true) registerProcessMetrics(this.registry);
    const { connections } = options;
    if (connections !== undefined) {
      const gauge = (name: string, help: string, read: (c: ConnectionGaugeSource) => number) =>
        new Gauge({
          name,
          help,
          registers,
          collect() {
            this.set(read(connections()));
          },
        });
      gauge('balancer_client_connections', 'Client connections open now', (c) => c.open);
      gauge(
        'balancer_client_connections_limit',
        'Most client connections at once (--max-connections, or half the descriptor limit less 64)',
        (c) => c.limit,
      );
      // Running totals: counters, so rate() and promtool treat them as such.
      scrapedCounter(
        this.registry,
        'balancer_client_connections_dropped_total',
        'Client connections closed at once at the limit, and failed accepts, since start',
        () => connections().dropped,
      );
      scrapedCounter(
        this.registry,
        'balancer_local_resource_failures_total',
        'Requests answered 503 because the balancer ran out of descriptors or local ports, since start',
        () => connections().localFailures,
      );
    }
    const { policy } = options;
    if (policy !== undefined) {
      new Gauge({
        name: 'balancer_policy_info',
        help: 'The selection policy in use, as the label (always 1)',
        labelNames: ['policy'],
        registers,
        collect() {
          this.reset();
          this.labels(policy()).set(1);
        },
      });
    }
    if (options.workers !== undefined) workerUsageGauges(this.registry, options.workers);
    eventLoopDelayGauges(this.registry);
    const { front } = options;
    if (front !== undefined) {
      this.frontPending = () => {
        if (front.read() === null) return;
        registerFrontMetrics(this.registry, front.states, front.read);
        this.frontPending = undefined;
      };
    }
  }

  /** One request finished: who served it (null: nobody), its status, how long it took, retries. */
  requestFinished(upstream: string | null, status: number, durationMs: number, retries: number): void {
    const series = this.seriesOf(upstream ?? NO_UPSTREAM);
    let count = series.byStatus.get(status);
    if (count === undefined) {
      count = this.requests.slot(upstream ?? NO_UPSTREAM, String(status));
      series.byStatus.set(status, count);
    }
    count.pending++;
    series.latency.observe(durationMs / 1000);
    if (retries > 0) this.retries.pending += retries;
  }

  healthChecked(upstream: string, ok: boolean): void {
    this.checkPair(upstream)[ok ? 0 : 1].inc();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    this.frontPending?.();
    return this.registry.metrics();
  }

  private checkPair(upstream: string): [ok: CounterChild, failed: CounterChild] {
    let pair = this.checkChildren.get(upstream);
    if (pair === undefined) {
      pair = [this.healthChecks.labels(upstream, 'ok'), this.healthChecks.labels(upstream, 'fail')];
      // prom-client exports a label set only once it is incremented.
      for (const child of pair) child.inc(0);
      this.checkChildren.set(upstream, pair);
    }
    return pair;
  }

  private seriesOf(upstream: string): UpstreamSeries {
    let series = this.series.get(upstream);
    if (series === undefined) {
      series = { byStatus: new Map(), latency: this.latency.series(upstream) };
      this.series.set(upstream, series);
    }
    return series;
  }
}

/**
 * Each worker's resident memory and CPU share, as its last report gave them: PM2 measures the
 * primary's pid alone, and the memory and CPU are in the workers.
 */
function workerUsageGauges(registry: Registry, workers: () => Iterable<WorkerUsageSource>): void {
  const gauge = (name: string, help: string, read: (w: WorkerUsageSource) => number | null): void =>
    scrapedGauge(registry, workers, 'worker', (w) => String(w.id), name, help, read);
  gauge(
    'balancer_worker_resident_memory_bytes',
    'Resident memory of each request-path worker at its last report (--worker-max-memory replaces one above it)',
    (w) => w.rssBytes,
  );
  gauge(
    'balancer_worker_cpu_ratio',
    'CPU share of each request-path worker between its last two reports (1 = one core busy)',
    (w) => (w.cpuPercent === null ? null : w.cpuPercent / 100),
  );
}

/** A counter without labels whose value is a running total read when scraped. */
function scrapedCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** Bytes through tunnels, by upstream and direction, read from the upstreams' own counters when scraped. */
function tunnelBytesCounter(registry: Registry, upstreams: () => Iterable<UpstreamGaugeSource>): void {
  new Counter({
    name: 'balancer_tunnel_bytes_total',
    help: 'Bytes relayed through tunnels, by upstream and direction (to_upstream, from_upstream)',
    labelNames: ['upstream', 'direction'],
    registers: [registry],
    collect() {
      this.reset();
      for (const u of upstreams()) {
        this.labels(u.name, 'to_upstream').inc(u.tunnelBytesToUpstream);
        this.labels(u.name, 'from_upstream').inc(u.tunnelBytesFromUpstream);
      }
    },
  });
}

/** A gauge per upstream whose values are read from the status when scraped; null leaves it out. */
function upstreamGauge(
  registry: Registry,
  upstreams: () => Iterable<UpstreamGaugeSource>,
  name: string,
  help: string,
  read: (u: UpstreamGaugeSource) => number | null,
): void {
  scrapedGauge(registry, upstreams, 'upstream', (u) => u.name, name, help, read);
}

/** A gauge with one label, one series per item read when scraped; null leaves an item out. */
function scrapedGauge<T>(
  registry: Registry,
  items: () => Iterable<T>,
  label: string,
  key: (item: T) => string,
  name: string,
  help: string,
  read: (item: T) => number | null,
): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      // Reset first so an item that is gone (an upstream that left, a worker that exited) stops being reported.
      this.reset();
      for (const item of items()) {
        const value = read(item);
        if (value !== null) this.labels(key(item)).set(value);
      }
    },
  });
}
