import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LATENCY_BUCKETS,
  RollingWindow,
  bucketIndex,
  bucketUpperMs,
  quantile,
} from '../../src/metrics/rolling-window.js';

const T0 = 1_700_000_000_000; // a whole second, so T0 + k*1000 starts second k

void test('a latency lands in the first bucket whose upper bound holds it', () => {
  for (const ms of [0, 0.01, 0.05, 0.3, 1, 1.7, 12, 250, 999, 4000, 59_000]) {
    const i = bucketIndex(ms);
    assert.ok(ms <= bucketUpperMs(i), `${ms} <= upper(${i})`);
    if (i > 0) assert.ok(ms > bucketUpperMs(i - 1), `${ms} > upper(${i - 1})`);
  }
  assert.equal(bucketIndex(10 * 60_000), LATENCY_BUCKETS - 1);
  assert.equal(bucketUpperMs(LATENCY_BUCKETS - 1), Infinity);
});

void test('quantiles of a histogram stay within about one bucket of the exact value', () => {
  const counts = new Uint32Array(LATENCY_BUCKETS);
  const values = Array.from({ length: 1000 }, (_, i) => 1 + i / 10); // 1.0 .. 100.9 ms
  for (const v of values) counts[bucketIndex(v)]!++;
  const p50 = quantile(counts, values.length, 0.5, 100.9);
  const p99 = quantile(counts, values.length, 0.99, 100.9);
  assert.ok(p50 !== null && Math.abs(p50 - 50.9) / 50.9 < 0.13, `p50 ${p50}`);
  assert.ok(p99 !== null && Math.abs(p99 - 99.9) / 99.9 < 0.13, `p99 ${p99}`);
  assert.equal(quantile(counts, 0, 0.5, 0), null);
});

void test('a quantile never reports more than the slowest request seen', () => {
  const counts = new Uint32Array(LATENCY_BUCKETS);
  counts[bucketIndex(3)] = 10; // ten requests of exactly 3 ms
  for (const q of [0.5, 0.99, 1]) {
    const v = quantile(counts, 10, q, 3);
    assert.ok(v !== null && v <= 3 && v > bucketUpperMs(bucketIndex(3) - 1), `q${q} = ${v}`);
  }
  assert.equal(quantile(counts, 10, 1, 3), 3);
  const slow = new Uint32Array(LATENCY_BUCKETS);
  slow[LATENCY_BUCKETS - 1] = 1; // beyond the last bound: the maximum closes the bucket
  const beyond = quantile(slow, 1, 0.99, 120_000);
  assert.ok(beyond !== null && beyond > bucketUpperMs(LATENCY_BUCKETS - 2) && beyond <= 120_000, `${beyond}`);
});

void test('an empty window reports zeros and no percentiles', () => {
  const w = new RollingWindow(60);
  const s = w.summary(T0);
  assert.equal(s.requests, 0);
  assert.equal(s.errorRate, 0);
  assert.equal(s.requestsPerSecond, 0);
  assert.equal(s.p50Ms, null);
  assert.equal(s.p99Ms, null);
  assert.equal(s.series.length, 60);
  assert.equal(s.series.at(-1)?.t, T0);
  assert.equal(s.series[0]?.t, T0 - 59_000);
});

void test('requests per second is the last complete second; totals span the whole window', () => {
  const w = new RollingWindow(60);
  for (let i = 0; i < 7; i++) w.record(T0 + 100, 2, false);
  for (let i = 0; i < 5; i++) w.record(T0 + 1_500, 4, i < 2);
  for (let i = 0; i < 3; i++) w.record(T0 + 2_010, 8, false);
  const s = w.summary(T0 + 2_500);
  assert.equal(s.requestsPerSecond, 5);
  assert.equal(s.requests, 15);
  assert.equal(s.errors, 2);
  assert.equal(s.errorRate, 2 / 15);
  assert.equal(s.meanRequestsPerSecond, 12 / 59);
  assert.deepEqual(
    s.series.slice(-3).map((p) => [p.requests, p.errors]),
    [
      [7, 0],
      [5, 2],
      [3, 0],
    ],
  );
  assert.equal(s.series.at(-4)?.p50Ms, null);
});

void test('p50 and p99 over the window follow the recorded latencies', () => {
  const w = new RollingWindow(60);
  for (let i = 0; i < 98; i++) w.record(T0 + i * 10, 1, false);
  w.record(T0 + 5_000, 200, false);
  w.record(T0 + 5_001, 200, false);
  const s = w.summary(T0 + 6_000);
  const one = bucketIndex(1);
  assert.ok(
    s.p50Ms !== null && s.p50Ms > bucketUpperMs(one - 1) && s.p50Ms <= bucketUpperMs(one),
    `p50 ${s.p50Ms}`,
  );
  assert.ok(s.p99Ms !== null && s.p99Ms > 160 && s.p99Ms <= 200, `p99 ${s.p99Ms}`);
});

void test('seconds older than the window are forgotten, even when their slot is not reused', () => {
  const w = new RollingWindow(10);
  w.record(T0, 1, true);
  w.record(T0 + 3_000, 1, false);
  assert.equal(w.summary(T0 + 9_999).requests, 2);
  assert.equal(w.summary(T0 + 10_000).requests, 1);
  assert.equal(w.summary(T0 + 10_000).errors, 0);
  // The slot of T0 is reused by T0 + 10 s and starts from zero.
  w.record(T0 + 10_500, 1, false);
  const s = w.summary(T0 + 10_600);
  assert.equal(s.requests, 2);
  assert.equal(s.series.at(-1)?.requests, 1);
  assert.equal(w.summary(T0 + 100_000).requests, 0);
});

void test('a window must be at least one second long', () => {
  assert.throws(() => new RollingWindow(0), RangeError);
  assert.throws(() => new RollingWindow(1.5), RangeError);
});
