/**
 * One scenario: learn what its responses must be, warm every target up, then measure each
 * repeat, concurrency and target in that order (so drift over time hits every target alike),
 * with the load client against the trivial server (same body size) measured alongside as the
 * ceiling; ApacheBench on the same cases when asked.
 */
import { errorMessage } from '../../src/errors.js';
import type { BenchConfig } from './bench-config.js';
import { formatInt, formatSignificant } from '../../src/report/format.js';
import { buildCase } from './assemble.js';
import { chooseScenarioMode } from './client-ceiling.js';
import type { ClientPool, RunSpec } from './client-pool.js';
import { expectationFor } from './expectations.js';
import { runAb, type AbResult } from './external-tools.js';
import { aggregate, figuresOf } from './figures.js';
import type { TargetStatus } from './health.js';
import type { Progress } from './progress.js';
import type { CaseResult, MeasuredRun, ScenarioClient, ScenarioReport } from './results.js';
import type { Scenario } from './scenarios.js';
import type { TrivialServer } from './trivial-server-process.js';
import type { ClientMode, Expectation, Figures } from './types.js';

export interface ScenarioContext {
  pool: ClientPool;
  server: TrivialServer;
  config: BenchConfig;
  /** The mode when no target is up to choose one for (nothing is measured then). */
  fallbackMode: ClientMode;
  progress: Progress;
  publicDir: string;
}

/** A scenario's runs all use the client mode chosen for it. */
type RunContext = ScenarioContext & { mode: ClientMode };

type Measured = Omit<ScenarioReport, 'charts'>;

async function measureRun(
  ctx: RunContext,
  label: string,
  url: string,
  concurrency: number,
  expect: Expectation,
  requests = ctx.config.requests,
): Promise<MeasuredRun> {
  const spec: RunSpec = {
    url,
    requests,
    concurrency,
    mode: ctx.mode,
    expect,
    timeoutMs: ctx.config.timeoutMs,
    deadlineMs: ctx.config.deadlineMs,
  };
  const bar = ctx.progress.start(label, requests);
  try {
    const raw = await ctx.pool.run(spec, (done) => bar.update(done));
    const figures = figuresOf(raw);
    const failed = figures.failed === 0 ? '' : `, ${formatInt(figures.failed)} FAILED`;
    bar.finish(
      `${formatInt(figures.rps)} req/s, p99 ${formatSignificant(figures.latencyMs.p99)} ms${failed}`,
    );
    return { figures, raw };
  } catch (err) {
    bar.finish(`error: ${errorMessage(err)}`);
    throw err;
  }
}

export async function measureScenario(
  ctx: ScenarioContext,
  scenario: Scenario,
  targets: readonly TargetStatus[],
): Promise<{ report: Measured; cases: CaseResult[] }> {
  const { config, progress } = ctx;
  const up = targets.filter((t) => t.up);
  const { expect, typicalBytes } = await expectationFor(
    scenario,
    ctx.publicDir,
    up[0]?.url ?? null,
    config.timeoutMs,
  );
  progress.line(`${scenario.name} ${scenario.path}: expecting status 200, ${expect.source}`);
  const client: ScenarioClient =
    up.length === 0
      ? { mode: ctx.fallbackMode, reason: 'no target up', trials: [] }
      : await chooseScenarioMode(ctx.pool, ctx.server, config, typicalBytes, scenario.name, progress);
  progress.line(`${scenario.name}: loadtest client ${client.mode} (${client.reason})`);
  const runCtx: RunContext = { ...ctx, mode: client.mode };

  const warmup: Measured['warmup'] = {};
  if (config.warmup > 0) {
    for (const t of up) {
      try {
        const run = await measureRun(
          runCtx,
          `${scenario.name} ${t.name} warm-up`,
          `${t.url}${scenario.path}`,
          Math.min(10, config.warmup),
          expect,
          config.warmup,
        );
        warmup[t.name] = { requests: config.warmup, ok: run.raw.ok, failed: run.figures.failed };
      } catch {
        warmup[t.name] = { requests: config.warmup, ok: 0, failed: config.warmup };
      }
    }
  }

  const ceilingExpect: Expectation = {
    status: 200,
    body: { kind: 'length', bytes: typicalBytes },
    source: 'trivial server',
  };
  const ceilingRuns = new Map<number, Figures[]>(config.concurrency.map((c) => [c, []]));
  const runs = new Map<string, MeasuredRun[]>();
  const errors = new Map<string, string[]>();
  const key = (target: string, c: number) => `${target}\u0000${c}`;
  // With every target down there is nothing to compare a ceiling with.
  const repeats = up.length === 0 ? 0 : config.repeat;
  for (let r = 1; r <= repeats; r++) {
    for (const c of config.concurrency) {
      const suffix = `c=${c} run ${r}/${config.repeat}`;
      try {
        const ceiling = await measureRun(
          runCtx,
          `${scenario.name} client ceiling ${suffix}`,
          `${ctx.server.url}/bytes/${typicalBytes}`,
          c,
          ceilingExpect,
        );
        ceilingRuns.get(c)?.push(ceiling.figures);
      } catch {
        // no ceiling for this run: the case is then compared with the runs that did finish
      }
      for (const t of up) {
        try {
          const run = await measureRun(
            runCtx,
            `${scenario.name} ${t.name} ${suffix}`,
            `${t.url}${scenario.path}`,
            c,
            expect,
          );
          runs.set(key(t.name, c), [...(runs.get(key(t.name, c)) ?? []), run]);
        } catch (err) {
          errors.set(key(t.name, c), [...(errors.get(key(t.name, c)) ?? []), errorMessage(err)]);
        }
      }
    }
  }

  const ab = new Map<string, { result: AbResult | null; error: string | null }>();
  if (config.withAb) {
    for (const c of config.concurrency) {
      for (const t of up) {
        const outcome = await runAb(`${t.url}${scenario.path}`, config.requests, c, {
          keepalive: config.keepalive,
          varyingLength: expect.body.kind === 'json-shape',
          timeoutMs: config.timeoutMs,
          deadlineMs: config.deadlineMs,
        });
        ab.set(
          key(t.name, c),
          outcome.ok ? { result: outcome.result, error: null } : { result: null, error: outcome.reason },
        );
        progress.line(
          `${scenario.name} ${t.name} c=${c} ab: ${outcome.ok ? `${formatInt(outcome.result.rps)} req/s, ${outcome.result.failed} failed, ${outcome.result.non2xx} non-2xx` : outcome.reason}`,
        );
      }
    }
  }

  const ceilings = config.concurrency.map((c) => {
    const list = ceilingRuns.get(c) ?? [];
    return { concurrency: c, runs: list, aggregate: list.length > 0 ? aggregate(list) : null };
  });
  const cases = targets.flatMap((t) =>
    config.concurrency.map((c) =>
      buildCase({
        scenario: scenario.name,
        target: t.name,
        concurrency: c,
        up: t.up,
        runs: runs.get(key(t.name, c)) ?? [],
        errors: errors.get(key(t.name, c)) ?? [],
        ceilingRps: ceilings.find((x) => x.concurrency === c)?.aggregate?.figures.rps.median ?? null,
        ab: ab.get(key(t.name, c))?.result ?? null,
        abError: ab.get(key(t.name, c))?.error ?? null,
      }),
    ),
  );
  return {
    report: {
      name: scenario.name,
      client,
      path: scenario.path,
      description: scenario.description,
      expectation: expect,
      warmup,
      ceilings,
    },
    cases,
  };
}
