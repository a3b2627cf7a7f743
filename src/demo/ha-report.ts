/**
 * The HA demo's report, pure: a line per second of what the clients saw (sent, answered, failed,
 * which front answered) with the steps on the same clock, the figures of each step, and the
 * verdict: nothing may fail in a planned failover or a drain; a fault may fail only requests in
 * flight (at most one per client loop).
 */
import type { TimedOutcome } from '../hosts/client-run.js';
import type { FailoverFigures } from '../hosts/failover-report.js';
import { markdownTable } from '../report/markdown-table.js';

export interface HaStep {
  /** `drain h1/backend-9002 through f1`, `link f1`, `planned f2`, ... */
  name: string;
  kind: 'drain' | 'ready' | 'planned' | 'fault';
  /** Epoch ms it began and ended. */
  at: number;
  endedAt: number;
  failed: number;
  /** Failovers: the clients' figures. */
  figures?: FailoverFigures;
  /** Drains: how long until the other front applied it (ms). */
  appliedOnOtherMs?: number;
  detail: string;
}

export interface HaSecond {
  second: number;
  sent: number;
  ok: number;
  failed: number;
  /** Answers by front (its Via pseudonym). */
  byFront: Record<string, number>;
  steps: string[];
}

export function haTimeline(
  outcomes: readonly TimedOutcome[],
  steps: readonly HaStep[],
  start: number,
): HaSecond[] {
  const last = Math.max(start, ...outcomes.map((o) => o.at));
  const seconds: HaSecond[] = [];
  for (let s = 0; s <= Math.floor((last - start) / 1000); s++) {
    const from = start + s * 1000;
    const inIt = outcomes.filter((o) => o.at >= from && o.at < from + 1000);
    const byFront: Record<string, number> = {};
    for (const o of inIt) if (o.ok && o.via !== null) byFront[o.via] = (byFront[o.via] ?? 0) + 1;
    seconds.push({
      second: s,
      sent: inIt.length,
      ok: inIt.filter((o) => o.ok).length,
      failed: inIt.filter((o) => !o.ok).length,
      byFront,
      steps: steps.filter((st) => st.at >= from && st.at < from + 1000).map((st) => st.name),
    });
  }
  return seconds;
}

/**
 * What each step may lose: nothing for planned work, the loops' requests in flight for a fault;
 * and nothing may fail outside the steps (from a second before each to its end).
 */
export function stepProblems(
  steps: readonly HaStep[],
  inFlightBound: number,
  outcomes: readonly TimedOutcome[] = [],
): string[] {
  const problems: string[] = [];
  const outside = outcomes.filter(
    (o) => !o.ok && !steps.some((st) => o.at >= st.at - 1000 && o.at <= st.endedAt),
  );
  if (outside.length > 0) {
    const first = outside[0] as TimedOutcome;
    problems.push(
      `${outside.length} failed outside any step (the first: ${first.err ?? '?'} at ${new Date(first.at).toISOString()})`,
    );
  }
  for (const st of steps) {
    const allowed = st.kind === 'fault' ? inFlightBound : 0;
    if (st.failed > allowed)
      problems.push(`${st.name}: ${st.failed} failed, more than the ${allowed} allowed`);
  }
  return problems;
}

export function renderHaMarkdown(
  seconds: readonly HaSecond[],
  steps: readonly HaStep[],
  totals: { sent: number; failed: number },
  settings: Record<string, string | number>,
  problems: readonly string[],
): string {
  const fronts = [...new Set(seconds.flatMap((s) => Object.keys(s.byFront)))].sort();
  const s = (ms: number | null | undefined) =>
    ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`;
  return [
    '# Front hosts under load: the HA demo',
    '',
    `Settings: ${Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    '',
    `**${totals.sent} requests, ${totals.failed} failed.** ${problems.length === 0 ? 'Nothing failed outside what was in flight at a fault.' : `Problems: ${problems.join('; ')}`}`,
    '',
    '## Steps',
    '',
    markdownTable(
      ['step', 'took', 'failed', 'failover (clients)', 'gap', 'notes'],
      steps.map((st) => [
        st.name,
        s(st.endedAt - st.at),
        String(st.failed),
        s(st.figures?.failoverMs),
        s(st.figures?.gapMs),
        st.detail,
      ]),
    ),
    '',
    '## Timeline (a line per second)',
    '',
    markdownTable(
      ['s', 'sent', 'ok', 'failed', ...fronts.map((f) => `via ${f}`), 'step'],
      seconds.map((x) => [
        String(x.second),
        String(x.sent),
        String(x.ok),
        String(x.failed),
        ...fronts.map((f) => String(x.byFront[f] ?? 0)),
        x.steps.join('; '),
      ]),
    ),
    '',
  ].join('\n');
}
