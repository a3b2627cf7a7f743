import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HistogramRecorder,
  bucketOf,
  emptyHistogram,
  histogramOf,
  meanUs,
  mergeHistograms,
  percentile,
} from '../../bench/lib/histogram.js';

void test('buckets keep three significant digits, exact below a millisecond', () => {
  assert.equal(bucketOf(0), 0);
  assert.equal(bucketOf(999.7), 999);
  assert.equal(bucketOf(1234), 1230);
  assert.equal(bucketOf(98_765), 98_700);
  assert.equal(bucketOf(1_234_567), 1_230_000);
  for (const v of [1001, 5555, 77_777, 2_000_001]) {
    assert.ok(bucketOf(v) <= v && (v - bucketOf(v)) / v < 0.01, `${v} -> ${bucketOf(v)}`);
  }
});

void test('percentiles follow the nearest-rank rule on exact values', () => {
  const h = histogramOf(Array.from({ length: 100 }, (_, i) => i + 1)); // 1..100 µs
  assert.equal(percentile(h, 50), 50);
  assert.equal(percentile(h, 90), 90);
  assert.equal(percentile(h, 99), 99);
  assert.equal(percentile(h, 100), 100);
  assert.equal(percentile(h, 0.5), 1);
  assert.equal(meanUs(h), 50.5);
  assert.ok(Number.isNaN(percentile(emptyHistogram(), 50)));
});

void test('percentiles of large values stay within 1% and never exceed the exact max', () => {
  const values = Array.from({ length: 1000 }, (_, i) => 10_000 + i * 137);
  const h = histogramOf(values);
  const sorted = [...values].sort((a, b) => a - b);
  for (const p of [50, 90, 99]) {
    const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1] ?? 0;
    const got = percentile(h, p);
    assert.ok(Math.abs(got - exact) / exact < 0.01, `p${p}: ${got} vs ${exact}`);
  }
  assert.equal(percentile(h, 100), Math.max(...values));
  assert.equal(h.minUs, 10_000);
});

void test('merging histograms equals the histogram of all values together', () => {
  const a = [5, 17, 250, 1999, 45_000];
  const b = [3, 17, 880, 1_500_000];
  const c: number[] = [];
  const merged = mergeHistograms([histogramOf(a), histogramOf(b), histogramOf(c)]);
  assert.deepEqual(merged, histogramOf([...a, ...b]));
  assert.equal(merged.count, 9);
  assert.equal(merged.minUs, 3);
  assert.equal(merged.maxUs, 1_500_000);
  assert.deepEqual(mergeHistograms([]), emptyHistogram());
});

void test('a merged median is not the average of the medians', () => {
  // One fast process (100 µs x 90) and one slow one (10 ms x 10): the true median is fast.
  const fast = histogramOf(new Array<number>(90).fill(100));
  const slow = histogramOf(new Array<number>(10).fill(10_000));
  const merged = mergeHistograms([fast, slow]);
  assert.equal(percentile(merged, 50), 100);
  assert.equal(percentile(merged, 95), 10_000);
  assert.notEqual(percentile(merged, 50), (percentile(fast, 50) + percentile(slow, 50)) / 2);
});

void test('the recorder serialises buckets in ascending order with exact sum and extremes', () => {
  const r = new HistogramRecorder();
  for (const v of [3000.4, 2.5, 2.2, 70]) r.record(v);
  const h = r.toJSON();
  assert.deepEqual(Object.keys(h.buckets), ['2', '70', '3000']);
  assert.equal(h.buckets['2'], 2);
  assert.equal(h.count, 4);
  assert.ok(Math.abs(h.sumUs - 3075.1) < 1e-9);
  assert.equal(h.minUs, 2.2);
  assert.equal(h.maxUs, 3000.4);
});
