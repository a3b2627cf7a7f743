/**
 * The cluster's counters, summed over its workers. Each worker reports its own running counts; a
 * worker that exits leaves its last report behind in the retired totals (its in-flight count
 * aside), so what the status page shows never goes backwards across a reload or a crash. Pure.
 */
import type { RequestCounts } from '../proxy-handler.js';
import type { ConnectionFacts } from '../status.js';
import type { Counts, UpstreamCounts } from './messages.js';
import type { ProcessUsage } from '../../metrics/process-usage.js';

export interface WorkerReport {
  totals: RequestCounts;
  queued: number;
  tunnels: number;
  connections: ConnectionFacts;
  upstreams: UpstreamCounts;
  usage: ProcessUsage;
}

/** Positions in Counts that are levels (now), not running totals: a retired worker leaves none. */
const LEVELS = new Set([0, 4]);
const NONE: Counts = [0, 0, 0, 0, 0, 0, 0];

const ZERO: RequestCounts = { inFlight: 0, served: 0, failures: 0 };

export class CounterBook {
  private readonly live = new Map<number, WorkerReport>();
  private retired: WorkerReport = {
    totals: { ...ZERO },
    queued: 0,
    tunnels: 0,
    connections: { open: 0, limit: 0, descriptorLimit: null, dropped: 0, localFailures: 0 },
    upstreams: {},
    usage: { rssBytes: 0, cpuPercent: 0 },
  };

  record(worker: number, report: WorkerReport): void {
    this.live.set(worker, report);
  }

  /** The worker exited: its counts stay, its in-flight and queued do not. */
  retire(worker: number): void {
    const last = this.live.get(worker);
    this.live.delete(worker);
    if (last === undefined) return;
    const t = this.retired.totals;
    this.retired.totals = {
      inFlight: 0,
      served: t.served + last.totals.served,
      failures: t.failures + last.totals.failures,
    };
    const c = this.retired.connections;
    this.retired.connections = {
      ...c,
      dropped: c.dropped + last.connections.dropped,
      localFailures: c.localFailures + last.connections.localFailures,
    };
    for (const [id, counts] of Object.entries(last.upstreams)) {
      const kept = this.retired.upstreams[id] ?? [...NONE];
      this.retired.upstreams[id] = kept.map((v, i) => (LEVELS.has(i) ? 0 : v + (counts[i] ?? 0))) as Counts;
    }
  }

  of(worker: number): WorkerReport | undefined {
    return this.live.get(worker);
  }

  totals(): RequestCounts & { queued: number; tunnels: number } {
    const sum = { ...this.retired.totals, queued: 0, tunnels: 0 };
    for (const r of this.live.values()) {
      sum.inFlight += r.totals.inFlight;
      sum.served += r.totals.served;
      sum.failures += r.totals.failures;
      sum.queued += r.queued;
      sum.tunnels += r.tunnels;
    }
    return sum;
  }

  /** Connections over the live workers (each has its own cap), failures since start. */
  connections(): ConnectionFacts {
    const sum: ConnectionFacts = { ...this.retired.connections, open: 0, limit: 0 };
    for (const r of this.live.values()) {
      sum.open += r.connections.open;
      sum.limit += r.connections.limit;
      sum.dropped += r.connections.dropped;
      sum.localFailures += r.connections.localFailures;
      sum.descriptorLimit = r.connections.descriptorLimit;
    }
    return sum;
  }

  /** One upstream over every worker, retired ones included. */
  upstream(id: string): Counts {
    const sum: Counts = [...(this.retired.upstreams[id] ?? NONE)];
    for (const r of this.live.values()) {
      const c = r.upstreams[id];
      if (c === undefined) continue;
      for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] ?? 0) + (c[i] ?? 0);
    }
    return sum;
  }
}
