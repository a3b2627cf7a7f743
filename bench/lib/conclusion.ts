/**
 * The conclusion, written from the numbers: for each concurrency, which target served the most
 * requests per second and by how much, and whether that lead is real (the repeats do not overlap),
 * within the run-to-run spread, unknowable (one run), or set by the load client rather than the
 * servers. Only targets that answered every request correctly are ranked. Pure.
 */
import { formatInt, formatPercent, formatSignificant } from '../../src/report/format.js';
import type { Spread } from './types.js';

export interface Contender {
  target: string;
  status: 'measured' | 'down' | 'error';
  rps: Spread | null;
  p99Ms: number | null;
  failed: number;
  complete: number;
  /** e.g. "status 1000" */
  failedText: string;
  clientBound: boolean;
  runs: number;
}

export interface LevelInput {
  concurrency: number;
  ceilingRps: number | null;
  contenders: Contender[];
}

export type VerdictKind = 'clear' | 'within-spread' | 'single-run' | 'client-bound' | 'only-one' | 'none';

export interface Verdict {
  concurrency: number;
  kind: VerdictKind;
  winner: string | null;
  runnerUp: string | null;
  winnerRps: number | null;
  runnerUpRps: number | null;
  /** How much more the winner served: winner / runner-up - 1. */
  margin: number | null;
  lowestP99: { target: string; ms: number } | null;
  text: string;
}

export interface ScenarioVerdicts {
  scenario: string;
  verdicts: Verdict[];
  /** One paragraph over all concurrency levels. */
  summary: string;
  /** Targets left out of the ranking, and why. */
  notes: string[];
}

const rpsText = (n: number) => `${formatInt(n)} req/s`;
const range = (s: Spread) => `${formatInt(s.min)}-${formatInt(s.max)}`;

function verdictFor(level: LevelInput): Verdict {
  const c = level.concurrency;
  const ranked = level.contenders
    .filter(
      (x) => x.status === 'measured' && x.failed === 0 && x.rps !== null && Number.isFinite(x.rps.median),
    )
    .sort((a, b) => (b.rps?.median ?? 0) - (a.rps?.median ?? 0));
  const withP99 = ranked.filter((x) => x.p99Ms !== null && Number.isFinite(x.p99Ms));
  const best = withP99.reduce<Contender | null>(
    (m, x) => (m === null || (x.p99Ms ?? 0) < (m.p99Ms ?? 0) ? x : m),
    null,
  );
  const lowestP99 = best === null ? null : { target: best.target, ms: best.p99Ms ?? Number.NaN };
  const base = { concurrency: c, lowestP99 };
  const w = ranked[0];
  const r = ranked[1];
  if (w === undefined || w.rps === null) {
    return {
      ...base,
      kind: 'none',
      winner: null,
      runnerUp: null,
      winnerRps: null,
      runnerUpRps: null,
      margin: null,
      text: `c=${c}: no target answered every request correctly, so none is ranked.`,
    };
  }
  if (r === undefined || r.rps === null) {
    return {
      ...base,
      kind: 'only-one',
      winner: w.target,
      runnerUp: null,
      winnerRps: w.rps.median,
      runnerUpRps: null,
      margin: null,
      text:
        level.contenders.length === 1
          ? `c=${c}: ${w.target} alone, ${rpsText(w.rps.median)}: nothing to compare it with.`
          : `c=${c}: only ${w.target} can be ranked (${rpsText(w.rps.median)}): no other target was up and answered every request correctly.`,
    };
  }
  const margin = w.rps.median / r.rps.median - 1;
  const head = `${w.target} ${rpsText(w.rps.median)} vs ${r.target} ${rpsText(r.rps.median)} (+${formatPercent(margin)})`;
  const common = {
    ...base,
    winner: w.target,
    runnerUp: r.target,
    winnerRps: w.rps.median,
    runnerUpRps: r.rps.median,
    margin,
  };
  if (w.clientBound) {
    const ceiling = level.ceilingRps === null ? '' : ` of ${rpsText(level.ceilingRps)}`;
    const who = r.clientBound ? `both ${w.target} and ${r.target} reach` : `${w.target} reaches`;
    // (at least 80%: the threshold of CLIENT_BOUND_THRESHOLD in assemble.ts)
    return {
      ...common,
      kind: 'client-bound',
      text: `c=${c}: ${head}, but ${who} at least 80% of the load client's own ceiling${ceiling}: the client may be the limit, so this lead is not a reliable ranking.`,
    };
  }
  if (w.runs <= 1 || r.runs <= 1) {
    return {
      ...common,
      kind: 'single-run',
      text: `c=${c}: ${head}, one run each: the run-to-run spread is unknown (use --repeat 3 or more).`,
    };
  }
  if (w.rps.min <= r.rps.max) {
    return {
      ...common,
      kind: 'within-spread',
      text: `c=${c}: ${head}: within the run-to-run spread (${w.target} ${range(w.rps)}, ${r.target} ${range(r.rps)}), no clear winner.`,
    };
  }
  return {
    ...common,
    kind: 'clear',
    text: `c=${c}: ${w.target} wins with ${rpsText(w.rps.median)}, ${formatPercent(margin)} more than ${r.target} (${rpsText(r.rps.median)}); its slowest run beat ${r.target}'s fastest.`,
  };
}

function notesFor(levels: readonly LevelInput[]): string[] {
  const notes: string[] = [];
  const down = new Set<string>();
  for (const level of levels) {
    for (const x of level.contenders) {
      if (x.status === 'down') down.add(x.target);
      else if (x.status === 'error')
        notes.push(`c=${level.concurrency}: ${x.target} could not be measured (client error).`);
      else if (x.failed > 0) {
        notes.push(
          `c=${level.concurrency}: ${x.target} failed ${formatInt(x.failed)} of ${formatInt(x.complete)} requests (${x.failedText}), so it is not ranked there.`,
        );
      }
    }
  }
  for (const t of down) notes.unshift(`${t} was down (its /healthz did not answer): not measured.`);
  return notes;
}

function summaryFor(scenario: string, verdicts: readonly Verdict[]): string {
  const parts: string[] = [];
  const clear = new Map<string, number[]>();
  for (const v of verdicts)
    if (v.kind === 'clear' && v.winner !== null)
      clear.set(v.winner, [...(clear.get(v.winner) ?? []), v.concurrency]);
  for (const [target, levels] of clear) parts.push(`${target} wins clearly at c=${levels.join(', ')}`);
  const list = (kind: VerdictKind) => verdicts.filter((v) => v.kind === kind).map((v) => v.concurrency);
  const leads = (kind: VerdictKind) =>
    verdicts
      .filter((v) => v.kind === kind)
      .map((v) => `c=${v.concurrency} (${v.winner ?? '?'} +${formatPercent(v.margin ?? Number.NaN)})`)
      .join(', ');
  if (list('within-spread').length > 0)
    parts.push(`within the run-to-run spread at ${leads('within-spread')}`);
  if (list('single-run').length > 0) parts.push(`single runs, spread unknown, at ${leads('single-run')}`);
  if (list('client-bound').length > 0) parts.push(`client-bound at c=${list('client-bound').join(', ')}`);
  if (list('only-one').length > 0) parts.push(`only one target ranked at c=${list('only-one').join(', ')}`);
  if (list('none').length > 0) parts.push(`no target ranked at c=${list('none').join(', ')}`);
  const p99 = verdicts
    .filter((v) => v.lowestP99 !== null)
    .map(
      (v) =>
        `c=${v.concurrency} ${v.lowestP99?.target ?? ''} (${formatSignificant(v.lowestP99?.ms ?? Number.NaN)} ms)`,
    );
  const p99Text = p99.length > 0 ? ` Lowest p99 latency: ${p99.join(', ')}.` : '';
  return `${scenario}: ${parts.length > 0 ? parts.join('; ') : 'nothing measured'}.${p99Text}`;
}

export function concludeScenario(scenario: string, levels: readonly LevelInput[]): ScenarioVerdicts {
  const verdicts = levels.map(verdictFor);
  return { scenario, verdicts, summary: summaryFor(scenario, verdicts), notes: notesFor(levels) };
}
