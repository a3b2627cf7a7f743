import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregate, figuresOf, median, spreadOf } from '../../bench/lib/figures.js';
import { histogramOf } from '../../bench/lib/histogram.js';
import { mergeRawRuns } from '../../bench/lib/merge-runs.js';
import { emptyFailures } from '../../bench/lib/types.js';
import { rawRun } from '../helpers/raw-run.js';

void test("ApacheBench's figures come out of the raw counts as ab computes them", () => {
  const f = figuresOf(rawRun());
  assert.equal(f.timeTakenS, 2);
  assert.equal(f.complete, 1000);
  assert.equal(f.failed, 0);
  assert.equal(f.rps, 500);
  assert.equal(f.timePerRequestMs, 20); // concurrency x time / complete
  assert.equal(f.timePerRequestAllMs, 2); // time / complete
  assert.equal(f.transferKBps, 1000); // 2,048,000 bytes / 1024 / 2 s
  assert.equal(f.totalBytes, 2_048_000);
  assert.equal(f.latencyMs.p50, 5.99);
  assert.equal(f.latencyMs.max, 10.99);
});

void test('failed requests count as complete, as ab counts them, and are broken down by reason', () => {
  const f = figuresOf(rawRun({ ok: 900, failed: { ...emptyFailures(), status: 60, reset: 40 } }));
  assert.equal(f.complete, 1000);
  assert.equal(f.failed, 100);
  assert.deepEqual(f.failedBy, { ...emptyFailures(), status: 60, reset: 40 });
});

void test('runs of several client processes merge: counts add, the run spans them all, histograms merge', () => {
  const a = rawRun({
    startedAtMs: 1000,
    endedAtMs: 2000,
    ok: 500,
    concurrency: 5,
    statusCodes: { '200': 500 },
    latency: histogramOf([100, 200]),
  });
  const b = rawRun({
    startedAtMs: 1001,
    endedAtMs: 2500,
    ok: 498,
    concurrency: 5,
    failed: { ...emptyFailures(), timeout: 2 },
    statusCodes: { '200': 498, '503': 1 },
    latency: histogramOf([300]),
  });
  const m = mergeRawRuns([a, b]);
  assert.equal(m.startedAtMs, 1000);
  assert.equal(m.endedAtMs, 2500);
  assert.equal(m.ok, 998);
  assert.equal(m.failed.timeout, 2);
  assert.equal(m.concurrency, 10);
  assert.equal(m.clients, 2);
  assert.deepEqual(m.statusCodes, { '200': 998, '503': 1 });
  assert.equal(m.latency.count, 3);
  assert.equal(m.wireBytes, 4_096_000);
  assert.equal(mergeRawRuns([]).ok, 0);
});

void test('median and spread over repeats', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.deepEqual(spreadOf([100, 90, 120]), { median: 100, min: 90, max: 120, relative: 0.3 });
  assert.deepEqual(spreadOf([50]), { median: 50, min: 50, max: 50, relative: 0 });
});

void test('aggregating repeats takes medians of figures and sums of requests and failures', () => {
  const runs = [
    figuresOf(rawRun({ endedAtMs: 3000 })),
    figuresOf(rawRun({ endedAtMs: 2000, ok: 990, failed: { ...emptyFailures(), bytes: 10 } })),
    figuresOf(rawRun({ endedAtMs: 5000 })),
  ];
  const a = aggregate(runs);
  assert.equal(a.runs, 3);
  assert.equal(a.complete, 3000);
  assert.equal(a.failed, 10);
  assert.equal(a.failedBy.bytes, 10);
  assert.equal(a.figures.rps.median, 500);
  assert.equal(a.figures.rps.min, 250);
  assert.equal(a.figures.rps.max, 1000);
  assert.equal(a.figures.timeTakenS.median, 2);
  assert.equal(a.figures.p99.median, runs[0]?.latencyMs.p99);
});
