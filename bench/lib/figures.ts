/** From what the clients observed to ApacheBench's figures, and across repeats to median and spread. Pure. */
import { meanUs, percentile } from './histogram.js';
import {
  FAILURE_REASONS,
  SPREAD_FIGURES,
  emptyFailures,
  type Aggregate,
  type Figures,
  type RawRun,
  type Spread,
  type SpreadFigure,
} from './types.js';

export function figuresOf(run: RawRun): Figures {
  const failed = FAILURE_REASONS.reduce((sum, r) => sum + run.failed[r], 0);
  const complete = run.ok + failed;
  const timeTakenS = Math.max(0, run.endedAtMs - run.startedAtMs) / 1000;
  const perSecond = (n: number) => (timeTakenS > 0 ? n / timeTakenS : Number.NaN);
  const ms = (us: number) => us / 1000;
  return {
    timeTakenS,
    complete,
    failed,
    failedBy: { ...run.failed },
    totalBytes: run.wireBytes,
    bodyBytes: run.bodyBytes,
    rps: perSecond(complete),
    timePerRequestMs: complete > 0 ? (run.concurrency * timeTakenS * 1000) / complete : Number.NaN,
    timePerRequestAllMs: complete > 0 ? (timeTakenS * 1000) / complete : Number.NaN,
    transferKBps: perSecond(run.wireBytes / 1024),
    latencyMs: {
      mean: ms(meanUs(run.latency)),
      p50: ms(percentile(run.latency, 50)),
      p90: ms(percentile(run.latency, 90)),
      p99: ms(percentile(run.latency, 99)),
      max: ms(percentile(run.latency, 100)),
    },
  };
}

/** The median of the values (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function spreadOf(values: readonly number[]): Spread {
  const finite = values.filter((v) => !Number.isNaN(v));
  const med = median(finite);
  if (finite.length === 0)
    return { median: Number.NaN, min: Number.NaN, max: Number.NaN, relative: Number.NaN };
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  return { median: med, min, max, relative: med !== 0 ? (max - min) / Math.abs(med) : 0 };
}

function pick(f: Figures, key: SpreadFigure): number {
  switch (key) {
    case 'mean':
    case 'p50':
    case 'p90':
    case 'p99':
    case 'max':
      return f.latencyMs[key];
    default:
      return f[key];
  }
}

/** Median and spread of each figure over the repeats; request and failure counts summed. */
export function aggregate(runs: readonly Figures[]): Aggregate {
  const failedBy = emptyFailures();
  for (const f of runs) for (const r of FAILURE_REASONS) failedBy[r] += f.failedBy[r];
  const figures = {} as Record<SpreadFigure, Spread>;
  for (const key of SPREAD_FIGURES) figures[key] = spreadOf(runs.map((f) => pick(f, key)));
  return {
    runs: runs.length,
    complete: runs.reduce((s, f) => s + f.complete, 0),
    failed: runs.reduce((s, f) => s + f.failed, 0),
    failedBy,
    figures,
  };
}
