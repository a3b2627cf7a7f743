import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, TimelineRecorder } from '../../src/demo/timeline.js';
import { onlineToRotation, outOfRotation } from '../../src/demo/rotation.js';
import { buildSummary, type DemoSettings } from '../../src/demo/summary.js';
import { formatPool, formatSummary, formatTimelineLine } from '../../src/demo/format-text.js';
import type { ActionRecord, PoolSample, RequestOutcome } from '../../src/demo/types.js';

const NAMES = ['b1', 'b2', 'b3'];

function sample(atMs: number, inRotation: string[], names = NAMES): PoolSample {
  return {
    atMs,
    upstreams: names.map((name) => ({
      name,
      inRotation: inRotation.includes(name),
      state: inRotation.includes(name) ? 'healthy' : 'down',
      pm2Status: 'online',
      served: 0,
    })),
  };
}

const ok = (atMs: number, latencyMs: number, servedBy: string): RequestOutcome => ({
  atMs,
  ok: true,
  latencyMs,
  servedBy,
  error: null,
});

const action = (over: Partial<ActionRecord>): ActionRecord => ({
  atMs: 1000,
  action: 'restart',
  app: 'b2',
  startedAtMs: 1003,
  finishedAtMs: 1250,
  ok: true,
  detail: 'restarted',
  pidBefore: 42,
  ...over,
});

const settings: DemoSettings = {
  url: 'http://127.0.0.1:1/page.html',
  durationMs: 3000,
  rate: 10,
  concurrency: 2,
  retries: true,
  schedule: [{ atMs: 1000, action: 'restart', app: 'b2' }],
  statusIntervalMs: 100,
  portOffset: 0,
};

void test('percentile is the nearest rank, and null for no values', () => {
  assert.equal(percentile([], 99), null);
  assert.equal(percentile([5], 99), 5);
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(hundred, 99), 99);
  assert.equal(percentile(hundred, 50), 50);
  assert.equal(percentile([1, 2, 3, 1000], 99), 1000);
});

void test('requests are counted in the second their answer came, with failures, p99 and backends', () => {
  const rec = new TimelineRecorder();
  rec.addSent(5);
  rec.addOutcome(ok(10, 1, 'b1'));
  rec.addOutcome(ok(999, 3, 'b2'));
  rec.addOutcome(ok(1000, 7, 'b1'));
  rec.addOutcome({ atMs: 1500, ok: false, latencyMs: 2, servedBy: 'balancer', error: 'Status code 502' });
  rec.addOutcome({
    atMs: 2100,
    ok: false,
    latencyMs: null,
    servedBy: null,
    error: 'Connection error: reset',
  });
  const rows = rec.rows();
  assert.deepEqual(
    rows.map((r) => [r.second, r.requests, r.failures, r.p99Ms]),
    [
      [0, 2, 0, 3],
      [1, 2, 1, 7], // the failed answer's latency is not in p99
      [2, 1, 1, null],
    ],
  );
  assert.deepEqual(rows[1]?.servedBy, { b1: 1 }, 'a failed answer counts for no backend');
  const totals = rec.totals();
  assert.equal(totals.sent, 5);
  assert.equal(totals.ok, 3);
  assert.equal(totals.failed, 2);
  assert.deepEqual(totals.errors, { 'Status code 502': 1, 'Connection error: reset': 1 });
  assert.deepEqual(totals.servedBy, { b1: 2, b2: 1 });
  assert.equal(totals.maxMs, 7);
});

void test('a request sent that never reported back counts as failed', () => {
  const rec = new TimelineRecorder();
  rec.addSent(3);
  rec.addOutcome(ok(10, 1, 'b1'));
  rec.addOutcome(ok(20, 1, 'b2'));
  const totals = rec.totals();
  assert.equal(totals.failed, 1);
  assert.deepEqual(totals.errors, { 'no outcome reported': 1 });
});

void test('each second shows the pool at its last reading, its changes and its actions', () => {
  const rec = new TimelineRecorder();
  rec.addSample(sample(100, NAMES));
  rec.addSample(sample(1100, ['b1', 'b3'])); // b2 leaves
  rec.addSample({ atMs: 1200, upstreams: null, error: 'ECONNREFUSED' });
  rec.addSample(sample(2300, NAMES)); // b2 back
  rec.addAction(action({}));
  rec.addPm2Event({ atMs: 1900, app: 'b2', event: 'online' });
  rec.addOutcome(ok(2500, 1, 'b1'));
  const rows = rec.rows(3);
  assert.deepEqual(rows[0]?.inRotation, NAMES);
  assert.deepEqual(rows[1]?.inRotation, ['b1', 'b3']);
  assert.deepEqual(rows[1]?.poolChanges, [{ atMs: 1100, app: 'b2', change: 'left' }]);
  assert.deepEqual(rows[2]?.poolChanges, [{ atMs: 2300, app: 'b2', change: 'joined' }]);
  assert.equal(rows[1]?.actions.length, 1);
  assert.equal(rows[1]?.pm2Events.length, 1);
  assert.equal(rows[0]?.actions.length, 0);

  const line = formatTimelineLine(rows[1] ?? assert.fail('no row 1'));
  assert.match(
    line,
    /^ {2}1s +0 +0 +- +2\/3 b1 -- b3 \| >> restart b2 \(restarted, took 247 ms\) \+1\.00s; b2 left rotation \+1\.10s; pm2: b2 online \+1\.90s$/,
  );
  assert.equal(formatPool({ inRotation: null, known: NAMES }), 'status not readable');
});

void test('out-of-rotation intervals come from the readings; a missing upstream is out, an open one counts to the end', () => {
  const samples = [
    sample(0, NAMES),
    sample(100, ['b1', 'b3']),
    { atMs: 150, upstreams: null },
    sample(400, NAMES),
    sample(500, ['b1', 'b2'], ['b1', 'b2']), // b3 dropped from the membership
    sample(900, ['b1', 'b2'], ['b1', 'b2']),
  ];
  const out = outOfRotation(samples);
  assert.deepEqual(
    out.map((o) => [o.app, o.totalMs, o.intervals]),
    [
      ['b1', 0, []],
      ['b2', 300, [{ fromMs: 100, toMs: 400 }]],
      ['b3', 400, [{ fromMs: 500, toMs: null }]],
    ],
  );
});

void test('PM2 online to rotation is the wait until the first reading with the app back in rotation', () => {
  const samples = [
    sample(0, NAMES),
    sample(100, ['b1', 'b3']),
    sample(600, ['b1', 'b3']),
    sample(800, NAMES),
  ];
  const result = onlineToRotation(
    [
      { atMs: 500, app: 'b2', event: 'online' },
      { atMs: 90, app: 'b2', event: 'exit' }, // not an online event
      { atMs: 700, app: 'balancer', event: 'online' }, // not in the pool
      { atMs: 900, app: 'b3', event: 'online' }, // no reading after it
    ],
    samples,
  );
  assert.deepEqual(result, [
    { app: 'b2', onlineAtMs: 500, backAtMs: 800, delayMs: 300 },
    { app: 'b3', onlineAtMs: 900, backAtMs: null, delayMs: null },
  ]);
});

void test('the summary passes only with zero failures and every planned action done', () => {
  const rec = new TimelineRecorder();
  rec.addSent(2);
  rec.addOutcome(ok(10, 1, 'b1'));
  rec.addOutcome(ok(20, 2, 'b2'));
  rec.addSample(sample(0, NAMES));
  const input = {
    startedAt: new Date(0),
    settings,
    planned: 2,
    totals: rec.totals(),
    actions: [action({})],
    samples: rec.poolSamples(),
    pm2Events: [],
    appsBefore: [{ name: 'b2', restarts: 0, pid: 10 }],
    appsAfter: [{ name: 'b2', restarts: 1, pid: 11 }],
  };
  const good = buildSummary(input);
  assert.equal(good.passed, true, good.problems.join('; '));
  assert.deepEqual(good.perBackend, [
    { app: 'b1', served: 1, share: 0.5 },
    { app: 'b2', served: 1, share: 0.5 },
  ]);
  assert.deepEqual(good.restarts, [{ app: 'b2', before: 0, after: 1, pidBefore: 10, pidAfter: 11 }]);
  assert.match(formatSummary(good), /PASS: 2 requests, zero failed, every action happened\.$/);

  const failedAction = buildSummary({ ...input, actions: [action({ ok: false, detail: 'app not found' })] });
  assert.equal(failedAction.passed, false);
  assert.deepEqual(failedAction.problems, ['1s:restart:b2 did not happen: app not found']);

  const cutShort = buildSummary({ ...input, planned: 5 });
  assert.deepEqual(cutShort.problems, ['only 2 of the 5 planned requests were sent']);

  const inEndOrder = buildSummary({
    ...input,
    actions: [action({ app: 'b3', startedAtMs: 2000 }), action({ startedAtMs: 1003 })],
  });
  assert.deepEqual(
    inEndOrder.actions.map((a) => a.app),
    ['b2', 'b3'],
    'listed in the order they started',
  );

  const missing = buildSummary({ ...input, actions: [] });
  assert.deepEqual(missing.problems, ['1s:restart:b2 never ran (the load ended first)']);

  rec.addSent(1);
  rec.addOutcome({ atMs: 30, ok: false, latencyMs: 1, servedBy: null, error: 'Status code 503' });
  const failedRequest = buildSummary({ ...input, totals: rec.totals() });
  assert.equal(failedRequest.passed, false);
  assert.deepEqual(failedRequest.problems, ['1 of 3 requests failed (1x Status code 503)']);
  assert.match(formatSummary(failedRequest), /FAIL: 1 of 3 requests failed/);
});

void test('an action shows as running in its second until it ends, then as ended in the second it ended', () => {
  const rec = new TimelineRecorder();
  const entry = { atMs: 1000, action: 'restart' as const, app: 'b2' };
  rec.addActionStart({ ...entry, startedAtMs: 1002 });
  const live = rec.row(1);
  assert.deepEqual(live.actionsRunning, [{ ...entry, startedAtMs: 1002 }]);
  assert.match(formatTimelineLine(live, true), />> restart b2 \(running\) \+1\.00s$/);

  rec.addAction(action({ startedAtMs: 1002, finishedAtMs: 2400 }));
  assert.deepEqual(rec.row(1).actionsRunning, []);
  assert.equal(rec.row(1).actions.length, 1);
  const ended = rec.row(2);
  assert.equal(ended.actionsEnded.length, 1);
  assert.match(formatTimelineLine(ended, true), /restart b2 done: restarted, took 1.40 s \+2\.40s$/);
  assert.match(formatTimelineLine(ended), /\| restart b2 done \+2\.40s$/, 'the report marks the end only');
});

void test("PM2's repeated event for an app is kept once; the same event after another is kept", () => {
  const rec = new TimelineRecorder();
  for (const [atMs, app, event] of [
    [10, 'b1', 'exit'],
    [12, 'b2', 'exit'],
    [15, 'b1', 'exit'],
    [20, 'b1', 'online'],
    [30, 'b1', 'exit'],
  ] as const) {
    rec.addPm2Event({ atMs, app, event });
  }
  assert.deepEqual(
    rec.pm2Events().map((e) => `${e.app}:${e.event}@${e.atMs}`),
    ['b1:exit@10', 'b2:exit@12', 'b1:online@20', 'b1:exit@30'],
  );
});

void test('requests in flight on a SIGKILLed balancer worker are counted apart; any other failure still fails the run', () => {
  const kill = action({
    atMs: 1000,
    action: 'kill',
    app: 'balancer-worker',
    startedAtMs: 1000,
    finishedAtMs: 1500,
    detail: 'worker 3 (pid 42) killed with SIGKILL',
    pidBefore: null,
  });
  const run = (outcomes: RequestOutcome[], concurrency = settings.concurrency) => {
    const rec = new TimelineRecorder();
    rec.addSent(outcomes.length);
    for (const o of outcomes) rec.addOutcome(o);
    return buildSummary({
      startedAt: new Date(0),
      settings: { ...settings, concurrency, schedule: [kill] },
      planned: outcomes.length,
      totals: rec.totals(),
      actions: [kill],
      samples: [],
      pm2Events: [],
      appsBefore: [],
      appsAfter: [],
      failures: rec.failures(),
    });
  };
  const broken = (atMs: number, error = 'Connection error: read ECONNRESET'): RequestOutcome => ({
    atMs,
    ok: false,
    latencyMs: null,
    servedBy: null,
    error,
  });

  const onWorker = run([ok(900, 1, 'b1'), broken(1010), broken(1020, 'Connection error: socket hang up')]);
  assert.equal(onWorker.requests.onKilledWorker, 2);
  assert.equal(onWorker.passed, true, onWorker.problems.join('; '));
  assert.match(
    formatSummary(onWorker),
    /PASS: 3 requests; the only 2 failed were in flight on the SIGKILLed balancer worker/,
  );

  const outside = run([broken(1010), broken(2000)]);
  assert.equal(
    outside.requests.onKilledWorker,
    1,
    'a failure after the replacement is ready is not the kill',
  );
  assert.equal(outside.passed, false);
  assert.match(
    outside.problems[0] ?? '',
    /2 of 2 requests failed .*1 of them in flight on a killed balancer worker/,
  );

  assert.equal(run([broken(1010, 'Status code 502')]).passed, false, 'a 502 is not a dropped connection');
  assert.equal(
    run([broken(1010), broken(1011), broken(1012)], 2).passed,
    false,
    'no more than the concurrency',
  );
});
