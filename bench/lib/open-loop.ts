/**
 * The arithmetic of bench/policy-load.ts, pure: how many requests of a fixed-rate schedule are due
 * at a moment (request k is due at k / rate seconds, so the count never depends on how often the
 * timer fired: a late tick sends the backlog at once, each request timed from when it was due), and
 * the share of the answers one upstream gave.
 */

/** Requests in a phase of `phaseMs` at `rate` a second: k = 0, 1, ... while k / rate < phaseMs. */
export function scheduledCount(rate: number, phaseMs: number): number {
  return Math.max(0, Math.ceil((phaseMs * rate) / 1000));
}

/** Requests of that phase due by `elapsedMs` from its start (request 0 is due at once). */
export function dueCount(rate: number, phaseMs: number, elapsedMs: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(scheduledCount(rate, phaseMs), Math.floor((elapsedMs * rate) / 1000) + 1);
}

/** When request k of the phase is due, in ms from its start. */
export function dueAtMs(rate: number, k: number): number {
  return (k * 1000) / rate;
}

/** The share (0..1) of the counted answers that `name` gave; NaN when there were none. */
export function shareOf(counts: Readonly<Record<string, number>>, name: string): number {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return total === 0 ? Number.NaN : (counts[name] ?? 0) / total;
}
