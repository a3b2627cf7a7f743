/** The shapes the benchmark's parts exchange and results.json stores. */
import type { Histogram } from './histogram.js';

/** Why a request counts as failed. */
export type FailureReason = 'status' | 'bytes' | 'reset' | 'connect' | 'timeout' | 'protocol';
export const FAILURE_REASONS: readonly FailureReason[] = [
  'status',
  'bytes',
  'reset',
  'connect',
  'timeout',
  'protocol',
];

export const FAILURE_MEANING: Record<FailureReason, string> = {
  status: 'answered with a status other than 200',
  bytes: 'status 200 but the wrong body (length, or shape for JSON)',
  reset: 'connection reset or closed before the whole response arrived',
  connect: 'connection refused',
  timeout: 'no complete response within the timeout (or the run deadline)',
  protocol: 'bytes that are not an HTTP/1.x response',
};

/** loadtest clients: `default` opens a connection per request; the other two keep connections alive. */
export type ClientMode = 'default' | 'keepalive' | 'tcp';
export const CLIENT_MODES: readonly ClientMode[] = ['default', 'keepalive', 'tcp'];

/** What a response body must be (plain data: it travels to the client processes). */
export type BodyCheck =
  /** Exactly this many bytes (a file's size on disk). */
  | { kind: 'length'; bytes: number }
  /** A JSON object with these keys and value types (`typeof`), for bodies whose length varies. */
  | { kind: 'json-shape'; fields: Record<string, string> }
  /** Nothing known: only the status is checked. */
  | { kind: 'none' };

/** What every response of a case must be. */
export interface Expectation {
  status: 200;
  body: BodyCheck;
  /** Where the body check came from: a file's size, or the first warm-up response. */
  source: string;
}

export function emptyFailures(): Record<FailureReason, number> {
  return { status: 0, bytes: 0, reset: 0, connect: 0, timeout: 0, protocol: 0 };
}

/** loadtest's own account of a run, kept beside ours as a cross-check. */
export interface LoadtestSummary {
  agent: string;
  totalRequests: number;
  totalErrors: number;
  errorCodes: Record<string, number>;
  elapsedSeconds: number;
  effectiveRps: number;
}

/** What one or more client processes observed in one measured run (merged by adding). */
export interface RawRun {
  /** Epoch milliseconds (fractional) from the processes' shared clock. */
  startedAtMs: number;
  endedAtMs: number;
  requested: number;
  concurrency: number;
  clients: number;
  ok: number;
  failed: Record<FailureReason, number>;
  /** Every status code seen, as counts. */
  statusCodes: Record<string, number>;
  /** Bytes read from the sockets (heads + bodies), as ab's "Total transferred". */
  wireBytes: number;
  /** Body bytes only, as ab's "HTML transferred". */
  bodyBytes: number;
  /** Latency of every answered request, from sending to the last body byte. */
  latency: Histogram;
  loadtest: LoadtestSummary[];
}

/** ApacheBench's figures plus latency percentiles, for one run. */
export interface Figures {
  timeTakenS: number;
  complete: number;
  failed: number;
  failedBy: Record<FailureReason, number>;
  totalBytes: number;
  bodyBytes: number;
  rps: number;
  /** ab's "Time per request (mean)": concurrency × time / complete. */
  timePerRequestMs: number;
  /** ab's "(mean, across all concurrent requests)": time / complete. */
  timePerRequestAllMs: number;
  /** KiB received per second, as ab's "Transfer rate". */
  transferKBps: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
}

/** Median and extremes over the repeats. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median; 0 for a single run. */
  relative: number;
}

export const SPREAD_FIGURES = [
  'timeTakenS',
  'rps',
  'timePerRequestMs',
  'timePerRequestAllMs',
  'transferKBps',
  'totalBytes',
  'mean',
  'p50',
  'p90',
  'p99',
  'max',
] as const;
export type SpreadFigure = (typeof SPREAD_FIGURES)[number];

export interface Aggregate {
  runs: number;
  /** Requests per run and failures summed over all runs. */
  complete: number;
  failed: number;
  failedBy: Record<FailureReason, number>;
  figures: Record<SpreadFigure, Spread>;
}
