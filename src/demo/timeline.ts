/**
 * The per-second timeline, built as results arrive: requests are counted in the second their answer
 * came, the pool is what the balancer showed at the last reading of that second, and actions, pool
 * changes and PM2 events are listed in the second they happened. Pure: the caller feeds records.
 */
import type {
  ActionRecord,
  Pm2Event,
  PoolSample,
  RequestOutcome,
  ScheduledAction,
  UpstreamView,
} from './types.js';

/** An action that has started and not ended yet (a restart waits for the app to be ready). */
export interface ActionStart extends ScheduledAction {
  startedAtMs: number;
}

export interface PoolChange {
  atMs: number;
  app: string;
  change: 'left' | 'joined';
}

export interface TimelineSecond {
  /** Covers [second * 1000, second * 1000 + 1000) ms after the load started. */
  second: number;
  requests: number;
  failures: number;
  /** Over the requests answered in this second; null when none was. */
  p99Ms: number | null;
  /** Good answers per X-Served-By value. */
  servedBy: Record<string, number>;
  /** Upstreams in rotation at the last reading of the second; null when the status was not read. */
  inRotation: string[] | null;
  /** Every upstream the balancer has shown so far, to draw the missing ones as gaps. */
  known: string[];
  poolChanges: PoolChange[];
  /** Actions that started in this second and have ended. */
  actions: ActionRecord[];
  /** Actions that started in this second and are still running (live view only). */
  actionsRunning: ActionStart[];
  /** Actions that ended in this second but started in an earlier one. */
  actionsEnded: ActionRecord[];
  pm2Events: Pm2Event[];
}

/** A request that failed: when its outcome came, and why. */
export interface FailedRequest {
  atMs: number;
  error: string;
}

export interface Totals {
  sent: number;
  ok: number;
  failed: number;
  /** Failure reasons and how often each happened. */
  errors: Record<string, number>;
  servedBy: Record<string, number>;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

interface Bucket {
  requests: number;
  failures: number;
  latencies: number[];
  servedBy: Record<string, number>;
}

/** Nearest-rank percentile of unsorted values; null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

export function inRotationNames(upstreams: readonly UpstreamView[]): string[] {
  return upstreams
    .filter((u) => u.inRotation)
    .map((u) => u.name)
    .sort();
}

const secondOf = (ms: number): number => Math.max(0, Math.floor(ms / 1000));

function increment(record: Record<string, number>, key: string, by = 1): void {
  record[key] = (record[key] ?? 0) + by;
}

export class TimelineRecorder {
  private readonly buckets: Bucket[] = [];
  private readonly samples: PoolSample[] = [];
  private readonly changes: PoolChange[] = [];
  private readonly actions: ActionRecord[] = [];
  private readonly started: ActionStart[] = [];
  private readonly events: Pm2Event[] = [];
  private readonly known = new Set<string>();
  private lastInRotation: Set<string> | null = null;
  private sent = 0;
  private readonly errors: Record<string, number> = {};
  private readonly failed: FailedRequest[] = [];

  /** A request left (the load generator's count of attempts, for requests that never answered). */
  addSent(count = 1): void {
    this.sent += count;
  }

  addOutcome(outcome: RequestOutcome): void {
    const bucket = this.bucket(secondOf(outcome.atMs));
    bucket.requests++;
    if (!outcome.ok) {
      bucket.failures++;
      increment(this.errors, outcome.error ?? 'unknown error');
      this.failed.push({ atMs: outcome.atMs, error: outcome.error ?? 'unknown error' });
    }
    // Only good answers count for a backend: a 502 names the balancer, which answered it itself.
    if (outcome.ok && outcome.latencyMs !== null) bucket.latencies.push(outcome.latencyMs);
    if (outcome.ok && outcome.servedBy !== null) increment(bucket.servedBy, outcome.servedBy);
  }

  /** Readings must arrive in time order; a change of the in-rotation set is recorded as pool changes. */
  addSample(sample: PoolSample): void {
    this.samples.push(sample);
    if (sample.upstreams === null) return;
    for (const u of sample.upstreams) this.known.add(u.name);
    const now = new Set(inRotationNames(sample.upstreams));
    const before = this.lastInRotation;
    if (before !== null) {
      for (const name of before) {
        if (!now.has(name)) this.changes.push({ atMs: sample.atMs, app: name, change: 'left' });
      }
      for (const name of now) {
        if (!before.has(name)) this.changes.push({ atMs: sample.atMs, app: name, change: 'joined' });
      }
    }
    this.lastInRotation = now;
  }

  addActionStart(start: ActionStart): void {
    this.started.push(start);
  }

  /** An action ended (well or not). */
  addAction(action: ActionRecord): void {
    this.actions.push(action);
  }

  /** PM2's bus can repeat an event (two `exit`s for one stop); an app's repeated event is kept once. */
  addPm2Event(event: Pm2Event): void {
    const previous = this.events.findLast((e) => e.app === event.app);
    if (previous?.event === event.event) return;
    this.events.push(event);
  }

  /** The row of one second, from what has been recorded so far. */
  row(second: number): TimelineSecond {
    const bucket = this.buckets[second] ?? { requests: 0, failures: 0, latencies: [], servedBy: {} };
    const from = second * 1000;
    const to = from + 1000;
    const within = (ms: number): boolean => ms >= from && ms < to;
    let last: PoolSample | undefined;
    for (const s of this.samples) {
      if (s.atMs >= to) break;
      if (s.upstreams !== null) last = s;
    }
    return {
      second,
      requests: bucket.requests,
      failures: bucket.failures,
      p99Ms: percentile(bucket.latencies, 99),
      servedBy: { ...bucket.servedBy },
      inRotation: last?.upstreams ? inRotationNames(last.upstreams) : null,
      known: [...this.known].sort(),
      poolChanges: this.changes.filter((c) => within(c.atMs)),
      actions: this.actions.filter((a) => within(a.startedAtMs)),
      actionsRunning: this.started.filter(
        (st) => within(st.startedAtMs) && !this.actions.some((a) => a.app === st.app && a.atMs === st.atMs),
      ),
      actionsEnded: this.actions.filter((a) => within(a.finishedAtMs) && !within(a.startedAtMs)),
      pm2Events: this.events.filter((e) => within(e.atMs)),
    };
  }

  /** Every second from 0 to the last one with an answer, or at least `minSeconds` of them. */
  rows(minSeconds = 0): TimelineSecond[] {
    const count = Math.max(minSeconds, this.buckets.length);
    return Array.from({ length: count }, (_, i) => this.row(i));
  }

  totals(): Totals {
    const latencies: number[] = [];
    const servedBy: Record<string, number> = {};
    let answered = 0;
    let failed = 0;
    for (const b of this.buckets) {
      answered += b.requests;
      failed += b.failures;
      for (const v of b.latencies) latencies.push(v);
      for (const [name, n] of Object.entries(b.servedBy)) increment(servedBy, name, n);
    }
    const errors = { ...this.errors };
    // A request that left and never reported back is a failure too: nobody got an answer.
    const unanswered = Math.max(0, this.sent - answered);
    if (unanswered > 0) increment(errors, 'no outcome reported', unanswered);
    return {
      sent: Math.max(this.sent, answered),
      ok: answered - failed,
      failed: failed + unanswered,
      errors,
      servedBy,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.reduce<number | null>((max, v) => (max === null || v > max ? v : max), null),
    };
  }

  /** Every failed request with its time, in the order the outcomes came. */
  failures(): readonly FailedRequest[] {
    return this.failed;
  }

  poolSamples(): readonly PoolSample[] {
    return this.samples;
  }

  pm2Events(): readonly Pm2Event[] {
    return this.events;
  }

  actionRecords(): readonly ActionRecord[] {
    return this.actions;
  }

  private bucket(second: number): Bucket {
    for (let i = this.buckets.length; i <= second; i++) {
      this.buckets.push({ requests: 0, failures: 0, latencies: [], servedBy: {} });
    }
    const bucket = this.buckets[second];
    if (bucket === undefined) throw new RangeError(`no bucket ${second}`);
    return bucket;
  }
}
