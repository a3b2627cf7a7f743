/** The two charts of a scenario: requests per second and p99 latency against concurrency. Pure. */
import { formatInt } from '../../src/report/format.js';
import { renderLineChart, type ChartSeries } from '../../src/report/svg-line-chart.js';
import type { CaseResult, ScenarioReport } from './results.js';

export interface ChartContext {
  scenario: ScenarioReport;
  cases: readonly CaseResult[];
  targets: readonly string[];
  concurrency: readonly number[];
  /** e.g. "1,000 requests per run, median of 3, keep-alive, loadtest tcp client" */
  subtitle: string;
  threshold: number;
}

function targetSeries(ctx: ChartContext, value: (c: CaseResult) => number | null): ChartSeries[] {
  return ctx.targets.map((target) => {
    const cases = ctx.cases.filter((c) => c.scenario === ctx.scenario.name && c.target === target);
    const down = cases.length > 0 && cases.every((c) => c.status !== 'measured');
    return {
      name: down ? `${target} (down)` : target,
      points: ctx.concurrency.map((concurrency) => {
        const found = cases.find((c) => c.concurrency === concurrency);
        const y = found === undefined || found.status !== 'measured' ? null : value(found);
        return {
          x: concurrency,
          y: y !== null && Number.isFinite(y) ? y : null,
          flagged: found?.clientBound === true,
        };
      }),
    };
  });
}

export function rpsChart(ctx: ChartContext): string {
  const ceiling: ChartSeries = {
    name: 'load client vs trivial server (ceiling)',
    color: '#888888',
    dashed: true,
    points: ctx.scenario.ceilings.map((c) => ({
      x: c.concurrency,
      y: c.aggregate?.figures.rps.median ?? null,
    })),
  };
  return renderLineChart({
    title: `${ctx.scenario.name} (${ctx.scenario.path}): requests per second`,
    subtitle: ctx.subtitle,
    xLabel: 'concurrency',
    yLabel: 'requests per second (median)',
    xScale: 'points',
    xTicks: ctx.concurrency,
    series: [...targetSeries(ctx, (c) => c.aggregate?.figures.rps.median ?? null), ceiling],
    flaggedLabel: `client-bound (>= ${Math.round(ctx.threshold * 100)}% of the client's ceiling)`,
    formatX: (v) => String(v),
    formatY: formatInt,
  });
}

export function p99Chart(ctx: ChartContext): string {
  return renderLineChart({
    title: `${ctx.scenario.name} (${ctx.scenario.path}): p99 latency`,
    subtitle: ctx.subtitle,
    xLabel: 'concurrency',
    yLabel: 'p99 latency, ms (median of runs)',
    xScale: 'points',
    xTicks: ctx.concurrency,
    series: targetSeries(ctx, (c) => c.aggregate?.figures.p99.median ?? null),
    flaggedLabel: `client-bound (>= ${Math.round(ctx.threshold * 100)}% of the client's ceiling)`,
    formatX: (v) => String(v),
  });
}
