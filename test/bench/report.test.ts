import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCase, isClientBound } from '../../bench/lib/assemble.js';
import { figuresOf } from '../../bench/lib/figures.js';
import { histogramOf } from '../../bench/lib/histogram.js';
import { rpsChart } from '../../bench/lib/report-charts.js';
import { CLIENT_BOUND_MARK, failedText, scenarioTable } from '../../bench/lib/report-markdown.js';
import type { ScenarioReport } from '../../bench/lib/results.js';
import { settingsText } from '../../bench/lib/settings-text.js';
import { emptyFailures, type RawRun } from '../../bench/lib/types.js';
import { benchOptions, buildBenchConfig } from '../../bench/lib/bench-config.js';
import { parseOptions } from '../../src/config/options.js';
import { rawRun } from '../helpers/raw-run.js';

function measured(ms: number, over: Partial<RawRun> = {}) {
  const raw = rawRun({
    startedAtMs: 0,
    endedAtMs: ms,
    wireBytes: 2_400_000,
    bodyBytes: 2_173_000,
    latency: histogramOf(Array.from({ length: 1000 }, (_, i) => 500 + i)),
    ...over,
  });
  return { raw, figures: figuresOf(raw) };
}

const base = { scenario: 'page', concurrency: 10, errors: [], ab: null, abError: null, up: true };

void test('a result from 80% of the client ceiling up is client-bound', () => {
  assert.equal(isClientBound(8000, 10_000), true);
  assert.equal(isClientBound(7999, 10_000), false);
  assert.equal(isClientBound(8000, null), false);
  assert.equal(isClientBound(8000, Number.NaN), false);
  const fast = buildCase({
    ...base,
    target: 'async',
    runs: [measured(100), measured(110), measured(90)],
    ceilingRps: 11_000,
  });
  assert.equal(fast.clientBound, true);
  assert.equal(fast.aggregate?.figures.rps.median, 10_000);
});

void test('the scenario table marks client-bound results, failures by reason, and down targets', () => {
  const cases = [
    buildCase({
      ...base,
      target: 'async',
      runs: [measured(100), measured(110), measured(90)],
      ceilingRps: 11_000,
    }),
    buildCase({
      ...base,
      target: 'threaded',
      runs: [measured(500, { ok: 990, failed: { ...emptyFailures(), reset: 10 } })],
      ceilingRps: 11_000,
    }),
    buildCase({ ...base, target: 'balancer', up: false, runs: [], ceilingRps: 11_000 }),
  ];
  const table = scenarioTable(cases, false);
  const [header, , asyncRow, threadedRow, balancerRow] = table.split('\n');
  assert.match(
    header ?? '',
    /\| target +\| +c \| time taken \(s\) \| complete \| +failed \| total transferred \| +req\/s \|/,
  );
  assert.match(asyncRow ?? '', new RegExp(`\\| 10,000 ${CLIENT_BOUND_MARK} \\|`));
  assert.match(asyncRow ?? '', /\| 1,000 x3 \|/);
  assert.match(asyncRow ?? '', /\| +9,091-11,111 \|/);
  assert.match(threadedRow ?? '', /\| 10 \(reset 10\) \|/);
  assert.ok(!(threadedRow ?? '').includes(CLIENT_BOUND_MARK));
  assert.match(balancerRow ?? '', /\| balancer +\| +10 \| +down \|/);
  assert.equal(failedText(emptyFailures()), 'none');
  assert.match(scenarioTable(cases, true).split('\n')[0] ?? '', /ab req\/s \| ab failed \|$/);
});

void test('the rps chart draws the ceiling dashed and client-bound points hollow', () => {
  const cases = [
    buildCase({ ...base, target: 'async', runs: [measured(100)], ceilingRps: 11_000 }),
    buildCase({ ...base, target: 'threaded', runs: [measured(400)], ceilingRps: 11_000 }),
  ];
  const scenario: ScenarioReport = {
    name: 'page',
    path: '/page.html',
    description: 'the page',
    client: { mode: 'tcp', reason: 'test', trials: [] },
    expectation: { status: 200, body: { kind: 'length', bytes: 2173 }, source: 'test' },
    warmup: {},
    ceilings: [{ concurrency: 10, runs: [], aggregate: null }],
    charts: { rps: 'page-rps.svg', p99: 'page-p99.svg' },
  };
  const svg = rpsChart({
    scenario,
    cases,
    targets: ['async', 'threaded'],
    concurrency: [10],
    subtitle: 's',
    threshold: 0.8,
  });
  assert.match(svg, />client-bound \(&gt;= 80% of the client&apos;s ceiling\)<\/text>/);
  assert.equal(
    (svg.match(/fill="#ffffff" stroke="[^"]+" stroke-width="1.6" stroke-dasharray="2 1.5"/g) ?? []).length,
    2,
  );
  assert.match(svg, />load client vs trivial server \(ceiling\)<\/text>/);
});

void test('the settings printed at start say which values are defaults', () => {
  const input = { argv: ['--requests', '500', '--timeout', '2s'], env: {} };
  const parsed = parseOptions(benchOptions, input);
  assert.ok(parsed.ok);
  const lines = settingsText(benchOptions, parsed.value);
  assert.ok(lines.includes('  --requests / BENCH_REQUESTS: 500'));
  assert.ok(lines.includes('  --timeout / BENCH_TIMEOUT: 2000ms'));
  assert.ok(lines.includes('  --concurrency / BENCH_CONCURRENCY: 1,5,10,15,50,100 (default)'));
  assert.ok(lines.includes('  --deadline / BENCH_DEADLINE: 5m (default)'));
  assert.equal(lines.length, Object.keys(benchOptions).length);
  assert.equal(buildBenchConfig(input).config.requests, 500);
});
