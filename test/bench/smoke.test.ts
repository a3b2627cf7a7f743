/**
 * `bench:all` end to end with small numbers, against servers this test starts on ephemeral ports
 * (never PM2): every field is in results.json, the counts add up, a missing path is 100% failed, a
 * killed target is reported down, and report.md and the SVG charts are written. No figure is
 * asserted as a timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, runNode, startNode } from '../helpers/processes.js';
import type { BenchResults, CaseResult } from '../../bench/lib/results.js';
import { FAILURE_REASONS, SPREAD_FIGURES, type Figures } from '../../bench/lib/types.js';

const BENCH = path.join(ROOT, 'dist', 'bench', 'bench-all.js');
const SMALL = [
  '--requests',
  '40',
  '--warmup',
  '10',
  '--ceiling-requests',
  '200',
  '--wrk-duration',
  '0',
  '--log-level',
  'warn',
];

async function readResults(dir: string): Promise<BenchResults> {
  return JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as BenchResults;
}

function assertFigures(f: Figures, requests: number, what: string): void {
  for (const key of [
    'timeTakenS',
    'rps',
    'timePerRequestMs',
    'timePerRequestAllMs',
    'transferKBps',
    'totalBytes',
    'bodyBytes',
  ] as const) {
    assert.equal(typeof f[key], 'number', `${what}: ${key}`);
    assert.ok(f[key] >= 0, `${what}: ${key} = ${f[key]}`);
  }
  for (const key of ['mean', 'p50', 'p90', 'p99', 'max'] as const) {
    assert.equal(typeof f.latencyMs[key], 'number', `${what}: latency ${key}`);
  }
  assert.ok(
    f.latencyMs.p50 <= f.latencyMs.p90 &&
      f.latencyMs.p90 <= f.latencyMs.p99 &&
      f.latencyMs.p99 <= f.latencyMs.max,
    what,
  );
  assert.equal(f.complete, requests, `${what}: complete`);
  assert.equal(
    f.failed,
    FAILURE_REASONS.reduce((s, r) => s + f.failedBy[r], 0),
    `${what}: failed adds up`,
  );
}

void test('bench:all measures the targets it is given, checks every response and reports a killed target as down', async (t) => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'bench-smoke-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  const a = await startNode('backend', ['--port', '0', '--name', 'a']);
  t.after(() => a.stop());
  const b = await startNode('threaded', ['--port', '0', '--name', 'b']);
  t.after(() => b.stop());
  const dead = await startNode('backend', ['--port', '0', '--name', 'dead']);
  await dead.stop('SIGKILL');

  const ran = await runNode(
    BENCH,
    [
      ...SMALL,
      '--targets',
      'a,b,dead',
      '--target-url',
      `a=http://127.0.0.1:${a.port}`,
      '--target-url',
      `b=http://127.0.0.1:${b.port}`,
      '--target-url',
      `dead=http://127.0.0.1:${dead.port}`,
      '--concurrency',
      '1,4',
      '--repeat',
      '2',
      '--out',
      out,
    ],
    {},
    180_000,
  );
  assert.equal(ran.code, 0, `${ran.stdout}\n${ran.stderr}`);
  assert.match(ran.stdout, /--requests \/ BENCH_REQUESTS: 40/, 'settings are printed at start');
  assert.match(ran.stdout, /--keepalive \/ BENCH_KEEPALIVE: true \(default\)/);

  const results = await readResults(out);
  assert.equal(results.schema, 'supervised-balancer/bench-all@1');
  assert.equal(results.settings.requests, 40);
  assert.deepEqual(results.settings.concurrency, [1, 4]);
  for (const key of ['cpuModel', 'cores', 'memoryBytes', 'node', 'platform'] as const) {
    assert.ok(results.machine[key], `machine.${key}`);
  }
  assert.ok(results.machine.packages.loadtest?.startsWith('8.'));
  assert.match(results.machine.git?.commit ?? '', /^[0-9a-f]{40}$/);
  assert.deepEqual(
    results.targets.map((x) => [x.name, x.up]),
    [
      ['a', true],
      ['b', true],
      ['dead', false],
    ],
  );
  assert.deepEqual(results.fleetStartedByUs, []);

  // The client was measured in every mode against the trivial server, and one mode chosen.
  assert.deepEqual(
    results.client.trials.map((x) => x.mode),
    ['default', 'keepalive', 'tcp'],
  );
  for (const trial of results.client.trials)
    assert.ok(trial.correct, `${trial.mode}: ${JSON.stringify(trial)}`);
  assert.ok(['keepalive', 'tcp'].includes(results.client.chosenMode));
  assert.ok(results.client.ceilingRps > 0);

  const size = (await stat(path.join(ROOT, 'public', 'page.html'))).size;
  const [scenario] = results.scenarios;
  assert.equal(scenario?.name, 'page');
  assert.deepEqual(scenario?.expectation.body, { kind: 'length', bytes: size });
  assert.deepEqual(
    scenario?.ceilings.map((c) => [c.concurrency, c.runs.length]),
    [
      [1, 2],
      [4, 2],
    ],
  );
  assert.deepEqual(Object.keys(scenario?.warmup ?? {}).sort(), ['a', 'b']);
  // The scenario chose its client mode against the trivial server with the page's body size.
  assert.deepEqual(
    scenario?.client.trials.map((x) => [x.mode, x.bodyBytes]),
    [
      ['keepalive', size],
      ['tcp', size],
    ],
  );
  assert.ok(['keepalive', 'tcp'].includes(scenario?.client.mode ?? ''));

  const byKey = (target: string, c: number): CaseResult | undefined =>
    results.cases.find((x) => x.target === target && x.concurrency === c);
  for (const target of ['a', 'b']) {
    for (const c of [1, 4]) {
      const found = byKey(target, c);
      assert.equal(found?.status, 'measured', `${target} c=${c}`);
      assert.equal(found?.runs.length, 2);
      for (const run of found?.runs ?? []) {
        assertFigures(run.figures, 40, `${target} c=${c}`);
        assert.equal(run.figures.failed, 0, `${target} c=${c}: ${JSON.stringify(run.figures.failedBy)}`);
        assert.equal(run.raw.ok, 40);
        assert.equal(run.raw.bodyBytes, 40 * size, 'every body had the file size');
        assert.ok(run.figures.totalBytes > run.raw.bodyBytes, 'heads are counted in the total');
        assert.equal(run.raw.latency.count, 40);
        assert.equal(run.raw.concurrency, c);
        assert.deepEqual(run.raw.statusCodes, { '200': 40 });
        assert.ok(run.raw.loadtest.length >= 1);
      }
      assert.equal(found?.aggregate?.runs, 2);
      assert.equal(found?.aggregate?.complete, 80);
      for (const key of SPREAD_FIGURES)
        assert.equal(typeof found?.aggregate?.figures[key].median, 'number', key);
      assert.equal(typeof found?.clientBound, 'boolean');
      assert.equal(typeof found?.ceilingRps, 'number');
    }
  }
  for (const c of [1, 4]) {
    const down = byKey('dead', c);
    assert.equal(down?.status, 'down');
    assert.deepEqual(down?.runs, []);
  }
  const verdicts = results.conclusion[0];
  assert.deepEqual(
    verdicts?.verdicts.map((v) => v.concurrency),
    [1, 4],
  );
  assert.ok(verdicts?.notes.some((n) => /dead was down/.test(n)));

  const report = await readFile(path.join(out, 'report.md'), 'utf8');
  assert.match(report, /^# Benchmark: a, b, dead/);
  assert.match(report, /\| dead +\| http:\/\/127\.0\.0\.1:\d+ \| \*\*DOWN\*\*/);
  assert.match(report, /## page: `\/page\.html`/);
  assert.match(report, /!\[requests per second\]\(page-rps\.svg\)/);
  for (const chart of ['page-rps.svg', 'page-p99.svg']) {
    const svg = await readFile(path.join(out, chart), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, chart);
    assert.match(svg, />dead \(down\)<\/text>/, chart);
  }
});

void test('bench:all pointed at a missing path reports every request as failed', async (t) => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'bench-smoke-404-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  const a = await startNode('backend', ['--port', '0', '--name', 'a']);
  t.after(() => a.stop());
  const ran = await runNode(
    BENCH,
    [
      ...SMALL,
      '--path',
      '/no-such-page.html',
      '--targets',
      'a',
      '--target-url',
      `a=http://127.0.0.1:${a.port}`,
      '--concurrency',
      '2',
      '--repeat',
      '1',
      '--client-mode',
      'keepalive',
      '--out',
      out,
    ],
    {},
    120_000,
  );
  assert.equal(ran.code, 0, `${ran.stdout}\n${ran.stderr}`);
  const results = await readResults(out);
  assert.equal(results.client.chosenMode, 'keepalive');
  assert.equal(results.scenarios[0]?.name, 'custom');
  assert.deepEqual(results.scenarios[0]?.warmup.a, { requests: 10, ok: 0, failed: 10 });
  const [only] = results.cases;
  assert.equal(only?.status, 'measured');
  assert.equal(only?.aggregate?.complete, 40);
  assert.equal(only?.aggregate?.failed, 40);
  assert.equal(only?.aggregate?.failedBy.status, 40);
  assert.equal(only?.runs[0]?.raw.ok, 0);
  assert.deepEqual(only?.runs[0]?.raw.statusCodes, { '404': 40 });
  assert.equal(results.conclusion[0]?.verdicts[0]?.kind, 'none');
  const report = await readFile(path.join(out, 'report.md'), 'utf8');
  assert.match(report, /\| a +\| +2 \|.*\| 40 \(status 40\) \|/);
});
