/**
 * Event-loop delay on every process of the fleet, for /metrics: how late the loop got round to a
 * timer, which is how long any request arriving at that moment waited before being read. A stall
 * here is the tail of every latency histogram (docs/hardening.md).
 *
 * Named `nodejs_event_loop_delay_*`: `process_` belongs to the standard process collector.
 * prom-client's own `nodejs_eventloop_lag_*` gauges reset their histogram on every scrape, so two
 * scrapers see halves of the truth. These gauges do not depend on scrapes: two native histograms
 * (perf_hooks.monitorEventLoopDelay, 10 ms resolution) take turns, each reset every half window,
 * so `max` and `p99` always cover the last 1 to 2 seconds (a scraper reading once a second sees
 * every stall); `worst` covers the process's life.
 * (A histogram drops the first delay after its reset; with two, the other one still has it.)
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

const WINDOW_MS = 2000;
const NS_PER_S = 1e9;

export interface EventLoopDelayReading {
  /** Seconds, over the last 1-2 s. */
  maxS: number;
  p99S: number;
  /** Seconds, since the process started. */
  worstS: number;
}

class EventLoopDelayWindow {
  private readonly halves: [IntervalHistogram, IntervalHistogram];
  private older = 0;
  private worstNs = 0;

  constructor() {
    this.halves = [monitorEventLoopDelay({ resolution: 10 }), monitorEventLoopDelay({ resolution: 10 })];
    for (const h of this.halves) h.enable();
    setInterval(() => this.rotate(), WINDOW_MS / 2).unref();
  }

  read(): EventLoopDelayReading {
    let max = 0;
    let p99 = 0;
    for (const h of this.halves) {
      if (h.count === 0) continue;
      max = Math.max(max, h.max);
      p99 = Math.max(p99, h.percentile(99));
    }
    this.worstNs = Math.max(this.worstNs, max);
    return { maxS: max / NS_PER_S, p99S: p99 / NS_PER_S, worstS: this.worstNs / NS_PER_S };
  }

  private rotate(): void {
    this.read();
    this.halves[this.older]?.reset();
    this.older = 1 - this.older;
  }
}

let shared: EventLoopDelayWindow | undefined;

/** The process's one monitor (started on first use). */
export function eventLoopDelay(): EventLoopDelayReading {
  shared ??= new EventLoopDelayWindow();
  return shared.read();
}

/** Add the three gauges to `registry`; their values are read when scraped. */
export function eventLoopDelayGauges(registry: Registry): void {
  shared ??= new EventLoopDelayWindow();
  const gauge = (name: string, help: string, pick: (r: EventLoopDelayReading) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(eventLoopDelay()));
      },
    });
  };
  gauge(
    'nodejs_event_loop_delay_max_seconds',
    'Longest event-loop delay over the last 1-2 s (not reset by scrapes)',
    (r) => r.maxS,
  );
  gauge(
    'nodejs_event_loop_delay_p99_seconds',
    '99th percentile event-loop delay over the last 1-2 s',
    (r) => r.p99S,
  );
  gauge(
    'nodejs_event_loop_delay_worst_seconds',
    'Longest event-loop delay since the process started',
    (r) => r.worstS,
  );
}
