/**
 * Request totals over the last minute, for the dashboard: one bucket per second in a ring, each with
 * a request count, an error count and a latency histogram on fixed log-spaced bounds. Recording is
 * O(1) and allocation-free (the ring and its arrays are made once), so it can sit on the proxy's hot
 * path; percentiles are read from the summed histograms only when someone looks.
 *
 * Pure: the caller passes the clock, so tests drive it without timers.
 */

/** Smallest latency bound (ms) and the growth factor between bounds: ~12% error at worst. */
const MIN_MS = 0.05;
const FACTOR = 1.25;
const LOG_FACTOR = Math.log(FACTOR);
/** Bounds up to ~60 s; anything slower lands in the last bucket. */
export const LATENCY_BUCKETS = Math.ceil(Math.log(60_000 / MIN_MS) / LOG_FACTOR) + 1;

/** Upper bound (ms) of latency bucket `i`; the last bucket is unbounded. */
export function bucketUpperMs(i: number): number {
  return i >= LATENCY_BUCKETS - 1 ? Infinity : MIN_MS * FACTOR ** i;
}

/** The latency bucket a duration falls in: the first whose upper bound is at least `ms`. */
export function bucketIndex(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const i = Math.ceil(Math.log(ms / MIN_MS) / LOG_FACTOR - 1e-9);
  return i < LATENCY_BUCKETS ? i : LATENCY_BUCKETS - 1;
}

interface Slot {
  /** Which whole second (ms / 1000) this slot holds, or -1 when unused. */
  second: number;
  count: number;
  errors: number;
  maxMs: number;
  latency: Uint32Array;
}

/** One second of the chart. */
export interface SecondPoint {
  /** Start of the second, epoch ms. */
  t: number;
  requests: number;
  errors: number;
  /** Null when the second had no requests. */
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface WindowSummary {
  /** Length of the window in seconds. */
  seconds: number;
  /** Requests in the window (including the second in progress). */
  requests: number;
  errors: number;
  /** errors / requests, 0 when there were none. */
  errorRate: number;
  /** Requests in the last complete second. */
  requestsPerSecond: number;
  /** Mean requests per second over the complete seconds of the window. */
  meanRequestsPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Oldest first, the second in progress last; one point per second, zeros for idle seconds. */
  series: SecondPoint[];
}

export class RollingWindow {
  readonly seconds: number;
  private readonly slots: Slot[];
  private readonly scratch: Uint32Array;

  constructor(seconds = 60) {
    if (!Number.isInteger(seconds) || seconds < 1) throw new RangeError(`window of ${seconds} seconds`);
    this.seconds = seconds;
    this.slots = Array.from({ length: seconds }, () => ({
      second: -1,
      count: 0,
      errors: 0,
      maxMs: 0,
      latency: new Uint32Array(LATENCY_BUCKETS),
    }));
    this.scratch = new Uint32Array(LATENCY_BUCKETS);
  }

  /** Count one finished request at `nowMs` that took `latencyMs`. */
  record(nowMs: number, latencyMs: number, isError: boolean): void {
    const slot = this.slotFor(Math.floor(nowMs / 1000));
    slot.count++;
    if (isError) slot.errors++;
    if (latencyMs > slot.maxMs) slot.maxMs = latencyMs;
    slot.latency[bucketIndex(latencyMs)]!++;
  }

  /** The window ending with the second that contains `nowMs`. */
  summary(nowMs: number): WindowSummary {
    const current = Math.floor(nowMs / 1000);
    const total = this.scratch;
    total.fill(0);
    let requests = 0;
    let errors = 0;
    let maxMs = 0;
    const series: SecondPoint[] = [];
    for (let second = current - this.seconds + 1; second <= current; second++) {
      const slot = this.slots[second % this.seconds];
      if (slot === undefined || slot.second !== second || slot.count === 0) {
        series.push({ t: second * 1000, requests: 0, errors: 0, p50Ms: null, p99Ms: null });
        continue;
      }
      requests += slot.count;
      errors += slot.errors;
      if (slot.maxMs > maxMs) maxMs = slot.maxMs;
      for (let i = 0; i < LATENCY_BUCKETS; i++) total[i]! += slot.latency[i]!;
      series.push({
        t: second * 1000,
        requests: slot.count,
        errors: slot.errors,
        p50Ms: quantile(slot.latency, slot.count, 0.5, slot.maxMs),
        p99Ms: quantile(slot.latency, slot.count, 0.99, slot.maxMs),
      });
    }
    const complete = series.length - 1;
    const completeRequests = requests - (series[complete]?.requests ?? 0);
    return {
      seconds: this.seconds,
      requests,
      errors,
      errorRate: requests === 0 ? 0 : errors / requests,
      requestsPerSecond: series[complete - 1]?.requests ?? 0,
      meanRequestsPerSecond: complete === 0 ? 0 : completeRequests / complete,
      p50Ms: quantile(total, requests, 0.5, maxMs),
      p99Ms: quantile(total, requests, 0.99, maxMs),
      series,
    };
  }

  private slotFor(second: number): Slot {
    const slot = this.slots[second % this.seconds]!;
    if (slot.second !== second) {
      slot.second = second;
      slot.count = 0;
      slot.errors = 0;
      slot.maxMs = 0;
      slot.latency.fill(0);
    }
    return slot;
  }
}

/**
 * The q-quantile of a histogram, interpolated linearly inside the bucket it falls in and never above
 * the largest value seen (which also stands in for the unbounded last bucket).
 */
export function quantile(counts: Uint32Array, total: number, q: number, maxMs: number): number | null {
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n === 0) continue;
    if (seen + n >= rank) {
      const lower = i === 0 ? 0 : bucketUpperMs(i - 1);
      const upper = Math.min(bucketUpperMs(i), maxMs);
      if (upper <= lower) return maxMs;
      return lower + ((upper - lower) * (rank - seen)) / n;
    }
    seen += n;
  }
  return maxMs;
}
