/**
 * What a front failover cost the clients, from their outcomes (pure): the requests that failed,
 * the failover time (the last answer through the old front to the first through the new one),
 * and the gap (the longest stretch with no answer at all around the fault).
 */
import type { TimedOutcome } from './client-run.js';

export interface FailoverFigures {
  fault: string;
  /** Requests sent from the fault on (and in the second before it), and how many failed. */
  sent: number;
  failed: number;
  /** The failures' reasons, counted. */
  reasons: Record<string, number>;
  /** Last answer through `from`, first through `to` after it, relative to the fault (ms). */
  lastOldMs: number | null;
  firstNewMs: number | null;
  /** firstNew - lastOld; null when either is missing (the address never moved). */
  failoverMs: number | null;
  /** The longest time between two answers in the window (ms). */
  gapMs: number;
}

/** An outcome's answer time: when it was sent plus how long it took. */
const answeredAt = (o: TimedOutcome): number => o.at + o.ms;

export function failoverFigures(
  outcomes: readonly TimedOutcome[],
  fault: { name: string; at: number; from: string; to: string; untilMs: number },
): FailoverFigures {
  const start = fault.at - 1000;
  const end = fault.at + fault.untilMs;
  const window = outcomes.filter((o) => o.at >= start && o.at <= end);
  const failed = window.filter((o) => !o.ok);
  const reasons: Record<string, number> = {};
  for (const o of failed) reasons[o.err ?? '?'] = (reasons[o.err ?? '?'] ?? 0) + 1;
  const ok = window.filter((o) => o.ok).sort((a, b) => answeredAt(a) - answeredAt(b));
  const firstNew = ok.find((o) => o.via === fault.to && answeredAt(o) >= fault.at);
  // The old front's last answer before the new one's first (after it, the old one has nothing).
  const oldAnswers = ok.filter(
    (o) => o.via === fault.from && (firstNew === undefined || answeredAt(o) <= answeredAt(firstNew)),
  );
  const lastOld = oldAnswers[oldAnswers.length - 1];
  let gapMs = 0;
  for (let i = 1; i < ok.length; i++) {
    const a = ok[i - 1];
    const b = ok[i];
    if (a !== undefined && b !== undefined) gapMs = Math.max(gapMs, answeredAt(b) - answeredAt(a));
  }
  const rel = (o: TimedOutcome | undefined): number | null =>
    o === undefined ? null : Math.round(answeredAt(o) - fault.at);
  const lastOldMs = rel(lastOld);
  const firstNewMs = rel(firstNew);
  return {
    fault: fault.name,
    sent: window.length,
    failed: failed.length,
    reasons,
    lastOldMs,
    firstNewMs,
    failoverMs: lastOldMs === null || firstNewMs === null ? null : firstNewMs - lastOldMs,
    gapMs: Math.round(gapMs),
  };
}

/** `link cut f1→f2: 2 of 412 failed (ECONNRESET 2), failover 0.41 s, gap 0.45 s`. */
export function describeFailover(f: FailoverFigures): string {
  const reasons = Object.entries(f.reasons)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  const s = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
  return `${f.fault}: ${f.failed} of ${f.sent} failed${reasons === '' ? '' : ` (${reasons})`}, failover ${s(f.failoverMs)}, gap ${s(f.gapMs)}`;
}
