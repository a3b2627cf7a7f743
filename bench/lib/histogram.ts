/**
 * A mergeable latency histogram in microseconds. Buckets keep three significant digits (exact
 * below 1 ms, 10 µs wide from 1 ms, 100 µs from 10 ms...), so every percentile is within 1% of
 * the true value, and histograms from several client processes or repeats merge exactly by adding
 * counts: percentiles are computed from merged raw counts, never by averaging averages. Pure.
 */

/** The serialisable form (sent between processes, stored in results.json). */
export interface Histogram {
  /** Bucket lower edge in µs → number of samples. */
  buckets: Record<string, number>;
  count: number;
  /** Exact sum, for the mean. */
  sumUs: number;
  /** Exact extremes (0 when empty). */
  minUs: number;
  maxUs: number;
}

export function emptyHistogram(): Histogram {
  return { buckets: {}, count: 0, sumUs: 0, minUs: 0, maxUs: 0 };
}

/** The bucket a value falls in: its lower edge, keeping three significant digits. */
export function bucketOf(us: number): number {
  const v = Math.max(0, Math.floor(us));
  if (v < 1000) return v;
  const unit = 10 ** (Math.floor(Math.log10(v)) - 2);
  return Math.floor(v / unit) * unit;
}

/** Hot-path recorder: a Map instead of an object, converted once at the end. */
export class HistogramRecorder {
  private readonly counts = new Map<number, number>();
  private count = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;

  record(us: number): void {
    const v = Math.max(0, us);
    const key = bucketOf(v);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  toJSON(): Histogram {
    const buckets: Record<string, number> = {};
    for (const key of [...this.counts.keys()].sort((a, b) => a - b))
      buckets[String(key)] = this.counts.get(key) ?? 0;
    return {
      buckets,
      count: this.count,
      sumUs: this.sum,
      minUs: this.count === 0 ? 0 : this.min,
      maxUs: this.max,
    };
  }
}

export function histogramOf(values: readonly number[]): Histogram {
  const recorder = new HistogramRecorder();
  for (const v of values) recorder.record(v);
  return recorder.toJSON();
}

/** Add counts bucket by bucket. */
export function mergeHistograms(histograms: readonly Histogram[]): Histogram {
  const counts = new Map<number, number>();
  let count = 0;
  let sumUs = 0;
  let minUs = Number.POSITIVE_INFINITY;
  let maxUs = 0;
  for (const h of histograms) {
    if (h.count === 0) continue;
    for (const [key, n] of Object.entries(h.buckets))
      counts.set(Number(key), (counts.get(Number(key)) ?? 0) + n);
    count += h.count;
    sumUs += h.sumUs;
    minUs = Math.min(minUs, h.minUs);
    maxUs = Math.max(maxUs, h.maxUs);
  }
  const buckets: Record<string, number> = {};
  for (const key of [...counts.keys()].sort((a, b) => a - b)) buckets[String(key)] = counts.get(key) ?? 0;
  return { buckets, count, sumUs, minUs: count === 0 ? 0 : minUs, maxUs };
}

/**
 * The p-th percentile (0 < p <= 100) by nearest rank: the smallest recorded value such that at
 * least p% of samples are at or below it. Reported as its bucket's lower edge, kept within the
 * exact min and max; p = 100 is the exact max. NaN for an empty histogram.
 */
export function percentile(h: Histogram, p: number): number {
  if (h.count === 0) return Number.NaN;
  if (p >= 100) return h.maxUs;
  const rank = Math.max(1, Math.ceil((p / 100) * h.count));
  let seen = 0;
  const keys = Object.keys(h.buckets)
    .map(Number)
    .sort((a, b) => a - b);
  for (const key of keys) {
    seen += h.buckets[String(key)] ?? 0;
    if (seen >= rank) return Math.min(h.maxUs, Math.max(h.minUs, key));
  }
  return h.maxUs;
}

export function meanUs(h: Histogram): number {
  return h.count === 0 ? Number.NaN : h.sumUs / h.count;
}
