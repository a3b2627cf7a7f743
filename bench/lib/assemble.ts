/** From measured runs to the case records, client-bound flags and conclusion inputs. Pure. */
import type { ScenarioVerdicts, LevelInput } from './conclusion.js';
import { concludeScenario } from './conclusion.js';
import { aggregate } from './figures.js';
import type { AbResult } from './external-tools.js';
import type { CaseResult, MeasuredRun, ScenarioReport } from './results.js';
import { failedText } from './report-markdown.js';

/** From this share of the client's own ceiling up, a result may be the client's limit, not the server's. */
export const CLIENT_BOUND_THRESHOLD = 0.8;

export function isClientBound(
  rps: number,
  ceilingRps: number | null,
  threshold = CLIENT_BOUND_THRESHOLD,
): boolean {
  return (
    ceilingRps !== null && Number.isFinite(ceilingRps) && ceilingRps > 0 && rps >= threshold * ceilingRps
  );
}

export interface CaseInput {
  scenario: string;
  target: string;
  concurrency: number;
  up: boolean;
  runs: MeasuredRun[];
  errors: string[];
  ceilingRps: number | null;
  ab: AbResult | null;
  abError: string | null;
}

export function buildCase(input: CaseInput): CaseResult {
  const base = {
    scenario: input.scenario,
    target: input.target,
    concurrency: input.concurrency,
    ceilingRps: input.ceilingRps,
    ab: input.ab,
    abError: input.abError,
  };
  if (!input.up)
    return { ...base, status: 'down', error: null, runs: [], aggregate: null, clientBound: false };
  if (input.runs.length === 0) {
    return {
      ...base,
      status: 'error',
      error: input.errors.join('; ') || 'no run finished',
      runs: [],
      aggregate: null,
      clientBound: false,
    };
  }
  const agg = aggregate(input.runs.map((r) => r.figures));
  return {
    ...base,
    status: 'measured',
    error: input.errors.length > 0 ? input.errors.join('; ') : null,
    runs: input.runs,
    aggregate: agg,
    clientBound: isClientBound(agg.figures.rps.median, input.ceilingRps),
  };
}

export function conclude(
  scenario: ScenarioReport,
  cases: readonly CaseResult[],
  concurrency: readonly number[],
): ScenarioVerdicts {
  const levels: LevelInput[] = concurrency.map((c) => ({
    concurrency: c,
    ceilingRps: scenario.ceilings.find((x) => x.concurrency === c)?.aggregate?.figures.rps.median ?? null,
    contenders: cases
      .filter((x) => x.scenario === scenario.name && x.concurrency === c)
      .map((x) => ({
        target: x.target,
        status: x.status,
        rps: x.aggregate?.figures.rps ?? null,
        p99Ms: x.aggregate?.figures.p99.median ?? null,
        failed: x.aggregate?.failed ?? 0,
        complete: x.aggregate?.complete ?? 0,
        failedText: x.aggregate === null ? '' : failedText(x.aggregate.failedBy),
        clientBound: x.clientBound,
        runs: x.aggregate?.runs ?? 0,
      })),
  }));
  return concludeScenario(scenario.name, levels);
}
