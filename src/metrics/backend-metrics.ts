/**
 * A backend's Prometheus metrics, in a registry of its own: requests by status and a latency
 * histogram, plus prom-client's process metrics (computed when scraped, so they cost nothing per
 * request; the per-request update is a map lookup and a few number updates, see
 * deferred-counter.ts and bucket-histogram.ts). Health checks and scrapes are not counted, so the counters are the traffic the server
 * served and rise by exactly the requests a client sent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { BucketHistogram, type HistogramSeries } from './bucket-histogram.js';
import { DeferredCounter, type CounterSlot } from './deferred-counter.js';
import { registerBuildInfo, registerProcessMetrics } from './process-metrics.js';
import { serveMetrics } from './serve-metrics.js';

/** A static file from memory takes well under a millisecond; the tail reaches into seconds. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/**
 * Statuses every file server answers, exported at 0 before the first one: a series that appears
 * only with its first request hides that first increase from rate() and alerts.
 */
const KNOWN_STATUSES = [200, 304, 404, 500];

export interface BackendMetricsOptions {
  /** Also export process metrics (CPU, memory, event loop lag, GC); default true. */
  processMetrics?: boolean;
  /** Put on the scrape's response too (`X-Served-By`, as on every answer of the server). */
  headers?: Record<string, string>;
  /** Hears about a scrape that failed. */
  onError?: (message: string) => void;
}

export class BackendMetrics {
  readonly registry = new Registry();
  private readonly requests: DeferredCounter<'status'>;
  private readonly latency: HistogramSeries;
  /** Bound once per status code. */
  private readonly byStatus = new Map<number, CounterSlot>();
  private readonly headers: Record<string, string>;
  private readonly onError: (message: string) => void;

  constructor(options: BackendMetricsOptions = {}) {
    this.headers = options.headers ?? {};
    this.onError = options.onError ?? (() => undefined);
    const registers = [this.registry];
    this.requests = new DeferredCounter({
      name: 'http_requests_total',
      help: 'Requests answered, by status (health checks and scrapes not counted)',
      labelNames: ['status'],
      registers,
    });
    this.latency = new BucketHistogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request to the end of the response',
      buckets: LATENCY_BUCKETS,
      registers,
    }).series();
    for (const status of KNOWN_STATUSES) this.byStatus.set(status, this.requests.slot(String(status)));
    registerBuildInfo(this.registry);
    if (options.processMetrics ?? true) registerProcessMetrics(this.registry);
  }

  /** One request answered with `status` after `durationMs`. */
  observe(status: number, durationMs: number): void {
    let count = this.byStatus.get(status);
    if (count === undefined) {
      count = this.requests.slot(String(status));
      this.byStatus.set(status, count);
    }
    count.pending++;
    this.latency.observe(durationMs / 1000);
  }

  /** Answer `/metrics`: GET and HEAD only. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'GET' || req.method === 'HEAD') {
      serveMetrics(this, req, res, this.onError, this.headers);
      return;
    }
    const body = `405 Method Not Allowed: /metrics answers GET and HEAD\n`;
    res.writeHead(405, {
      ...this.headers,
      Allow: 'GET, HEAD',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
