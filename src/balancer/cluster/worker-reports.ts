/**
 * What the workers report, gathered for the cluster's one status: each worker's counters as its
 * last report gave them (counter-book.ts), a fresh round of reports when someone asks for the
 * status (waiting a moment at most), and the upstreams' counters summed into the document. In
 * flight comes from the zone, not from here: every worker, the old generation's too, counts there.
 */
import type { BalancerStatus, ConnectionFacts, WorkerStatus } from '../status.js';
import { CounterBook } from './counter-book.js';
import type { ToPrimary } from './messages.js';
import type { WorkerEntry, WorkerSet } from './worker-set.js';

/** How long the status page waits for the workers' fresh counts before using the last ones. */
const REPORT_WAIT_MS = 200;

type Report = Extract<ToPrimary, { lb: 'report' }>;

export class WorkerReports {
  private readonly book = new CounterBook();
  private readonly waiting = new Map<number, { left: Set<number>; done: () => void }>();
  private seq = 0;

  record(id: number, report: Report): void {
    this.book.record(id, report);
    const w = this.waiting.get(report.seq);
    if (w !== undefined && w.left.delete(id) && w.left.size === 0) w.done();
  }

  /** The worker exited: its counts go, and nobody waits for its report. */
  retire(id: number): void {
    this.book.retire(id);
    for (const w of this.waiting.values()) if (w.left.delete(id) && w.left.size === 0) w.done();
  }

  /** Ask every worker that listens for its counts now; resolves when all answered, or after a moment. */
  async refresh(workers: WorkerSet): Promise<void> {
    const seq = ++this.seq;
    const left = new Set<number>();
    for (const e of workers.all()) {
      if (e.state === 'starting') continue;
      left.add(e.id);
      workers.send(e, { lb: 'report?', seq });
    }
    if (left.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, REPORT_WAIT_MS);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiting.set(seq, { left, done });
    });
    this.waiting.delete(seq);
  }

  totals(): ReturnType<CounterBook['totals']> {
    return this.book.totals();
  }

  connections(): ConnectionFacts {
    return this.book.connections();
  }

  worker(e: WorkerEntry): WorkerStatus {
    const last = this.book.of(e.id);
    const totals = last?.totals ?? { inFlight: 0, served: 0, failures: 0 };
    return {
      id: e.id,
      pid: e.pid,
      generation: e.generation,
      startedAt: e.startedAt,
      state: e.state,
      ...totals,
      rssBytes: last?.usage.rssBytes ?? null,
      cpuPercent: last?.usage.cpuPercent ?? null,
    };
  }

  /** The workers' counts of each upstream, into a status built from the primary's pool. */
  addUpstreamCounts(status: BalancerStatus): void {
    for (const u of status.upstreams) {
      const [, attempts, served, failures, tunnels, up, down] = this.book.upstream(u.id);
      u.attempts = attempts;
      u.served = served;
      // The primary's own failed checks, plus what the workers saw while proxying.
      u.failures += failures;
      u.tunnels = { open: tunnels, bytesToUpstream: up, bytesFromUpstream: down };
    }
  }
}
