/**
 * The demo's summary and verdict, from the recorded timeline, the actions and PM2's counts. Pure.
 * The demo passes only when every request got a good answer and every action really happened: a
 * run whose restart failed proves nothing about restarts. One allowance, the issue's own: a
 * SIGKILLed balancer worker takes the connections it holds with it, so requests in flight on it
 * (connection errors while the kill ran, at most the load's concurrency) are counted apart.
 */
import { formatScheduleEntry } from './schedule.js';
import { onlineToRotation, outOfRotation, type OnlineToRotation, type OutOfRotation } from './rotation.js';
import type { FailedRequest, Totals } from './timeline.js';
import {
  BALANCER_WORKER,
  type ActionRecord,
  type Pm2Event,
  type PoolSample,
  type ScheduledAction,
} from './types.js';

export interface DemoSettings {
  url: string;
  durationMs: number;
  rate: number;
  concurrency: number;
  /** The balancer's retry setting during the run. */
  retries: boolean;
  schedule: ScheduledAction[];
  statusIntervalMs: number;
  portOffset: number;
}

export interface BackendShare {
  app: string;
  served: number;
  /** Fraction of all answers carrying an X-Served-By header. */
  share: number;
}

/** PM2's restart count (and pid) of an app before and after the run; null when PM2 did not list it. */
export interface RestartCount {
  app: string;
  before: number | null;
  after: number | null;
  pidBefore: number | null;
  pidAfter: number | null;
}

/** What the summary needs of PM2's list. */
export interface AppState {
  name: string;
  restarts: number;
  pid: number | null;
}

export interface DemoSummary {
  startedAt: string;
  settings: DemoSettings;
  /** planned = rate x duration; fewer sent means the run was cut short. */
  requests: {
    planned: number;
    sent: number;
    ok: number;
    failed: number;
    errors: Record<string, number>;
    /** Of the failed: connection errors while a balancer worker was being SIGKILLed (in flight on it). */
    onKilledWorker: number;
  };
  latency: { p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
  perBackend: BackendShare[];
  actions: ActionRecord[];
  outOfRotation: OutOfRotation[];
  restarts: RestartCount[];
  onlineToRotation: OnlineToRotation[];
  passed: boolean;
  /** Why it did not pass; empty when it did. */
  problems: string[];
}

export interface SummaryInput {
  startedAt: Date;
  settings: DemoSettings;
  /** Requests the load was to send. */
  planned: number;
  totals: Totals;
  actions: readonly ActionRecord[];
  samples: readonly PoolSample[];
  pm2Events: readonly Pm2Event[];
  appsBefore: readonly AppState[];
  appsAfter: readonly AppState[];
  /** Each failed request with its time; none given, none is counted apart. */
  failures?: readonly FailedRequest[];
}

/** How loadtest words a request whose connection broke (reset, hang up), as opposed to a bad status. */
const CONNECTION_ERROR = /^Connection error/;

/**
 * The failed requests that were in flight on a balancer worker as it was SIGKILLed: connection
 * errors between the kill's start and the replacement being ready, at most `concurrency` per kill
 * (no more requests can be in flight at once).
 */
export function failuresOnKilledWorkers(
  actions: readonly ActionRecord[],
  failures: readonly FailedRequest[],
  concurrency: number,
): number {
  let count = 0;
  for (const a of actions) {
    if (a.app !== BALANCER_WORKER || !a.ok) continue;
    const during = failures.filter(
      (f) => CONNECTION_ERROR.test(f.error) && f.atMs >= a.startedAtMs && f.atMs <= a.finishedAtMs,
    );
    count += Math.min(during.length, concurrency);
  }
  return count;
}

export function buildSummary(input: SummaryInput): DemoSummary {
  const { totals } = input;
  const served = Object.values(totals.servedBy).reduce((a, b) => a + b, 0);
  const perBackend = Object.entries(totals.servedBy)
    .map(([app, n]) => ({ app, served: n, share: served === 0 ? 0 : n / served }))
    .sort((a, b) => a.app.localeCompare(b.app));
  const before = new Map(input.appsBefore.map((a) => [a.name, a]));
  const after = new Map(input.appsAfter.map((a) => [a.name, a]));
  const restarts = [...new Set([...before.keys(), ...after.keys()])].sort().map((app) => ({
    app,
    before: before.get(app)?.restarts ?? null,
    after: after.get(app)?.restarts ?? null,
    pidBefore: before.get(app)?.pid ?? null,
    pidAfter: after.get(app)?.pid ?? null,
  }));

  const problems: string[] = [];
  if (totals.sent < input.planned) {
    problems.push(`only ${totals.sent} of the ${input.planned} planned requests were sent`);
  }
  const onKilledWorker = failuresOnKilledWorkers(
    input.actions,
    input.failures ?? [],
    input.settings.concurrency,
  );
  if (totals.failed > onKilledWorker) {
    const reasons = Object.entries(totals.errors)
      .map(([reason, n]) => `${n}x ${reason}`)
      .join(', ');
    const apart =
      onKilledWorker > 0 ? `, ${onKilledWorker} of them in flight on a killed balancer worker` : '';
    problems.push(`${totals.failed} of ${totals.sent} requests failed (${reasons}${apart})`);
  }
  for (const a of input.actions) {
    if (!a.ok) problems.push(`${formatScheduleEntry(a)} did not happen: ${a.detail}`);
  }
  const ran = new Set(input.actions.map((a) => formatScheduleEntry(a)));
  for (const planned of input.settings.schedule) {
    if (!ran.has(formatScheduleEntry(planned))) {
      problems.push(`${formatScheduleEntry(planned)} never ran (the load ended first)`);
    }
  }

  return {
    startedAt: input.startedAt.toISOString(),
    settings: input.settings,
    requests: {
      planned: input.planned,
      sent: totals.sent,
      ok: totals.ok,
      failed: totals.failed,
      errors: totals.errors,
      onKilledWorker,
    },
    latency: { p50Ms: totals.p50Ms, p99Ms: totals.p99Ms, maxMs: totals.maxMs },
    perBackend,
    // Records arrive as actions end; the summary lists them as they started.
    actions: [...input.actions].sort((a, b) => a.startedAtMs - b.startedAtMs),
    outOfRotation: outOfRotation(input.samples),
    restarts,
    onlineToRotation: onlineToRotation(input.pm2Events, input.samples),
    passed: problems.length === 0,
    problems,
  };
}
