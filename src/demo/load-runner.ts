/**
 * The demo's load: loadtest at a fixed pace, bounded in count (rate x duration) and in time (a
 * deadline after which whatever is still open is aborted and counted as failed). loadtest's rate
 * mode makes a client per request as needed, so one keep-alive agent shared by every request holds
 * the number in flight to `concurrency`; a request waiting for a socket is timed from when it was
 * due, so a slow balancer shows as latency instead of as a lower rate.
 */
import http from 'node:http';
import { loadTest, type LoadTestRequestResult, type LoadTestResult } from 'loadtest';
import type { RequestOutcome } from './types.js';

export interface LoadSettings {
  url: string;
  rate: number;
  concurrency: number;
  durationMs: number;
  requestTimeoutMs: number;
}

export interface LoadSink {
  /** A request left. */
  sent(): void;
  /** A request finished, well or not. */
  outcome(outcome: RequestOutcome): void;
}

/** How many requests a run sends: the rate held for the whole duration. */
export function plannedRequests(settings: Pick<LoadSettings, 'rate' | 'durationMs'>): number {
  return Math.max(1, Math.round((settings.rate * settings.durationMs) / 1000));
}

export interface LoadRun {
  /** loadtest's own totals, or null when the deadline cut the run short. */
  done: Promise<LoadTestResult | null>;
  /** Abort every open request now (each is then reported as failed). */
  abort(reason: string): void;
}

/** A single header value as a string, or null. */
function headerText(value: string | string[] | undefined): string | null {
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

/** Only a complete 200 answer is a success: the demo asks for a file that exists. */
function toOutcome(
  atMs: number,
  error: string | null,
  result: LoadTestRequestResult | undefined,
): RequestOutcome {
  const failure =
    error ?? (result !== undefined && result.statusCode !== 200 ? `Status code ${result.statusCode}` : null);
  return {
    atMs,
    ok: failure === null && result !== undefined,
    latencyMs: result?.requestElapsed ?? null,
    servedBy: headerText(result?.headers['x-served-by']),
    error: failure ?? (result === undefined ? 'no answer' : null),
  };
}

/** `clock()` gives milliseconds since the load started, the demo's one time axis. */
export function runLoad(settings: LoadSettings, clock: () => number, sink: LoadSink): LoadRun {
  const agent = new http.Agent({ keepAlive: true, maxSockets: settings.concurrency });
  const open = new Set<http.ClientRequest>();
  let abortReason: string | null = null;

  const abort = (reason: string): void => {
    abortReason ??= reason;
    for (const req of open) req.destroy(new Error(reason));
    agent.destroy();
  };

  const run = loadTest({
    url: settings.url,
    requestsPerSecond: settings.rate,
    maxRequests: plannedRequests(settings),
    quiet: true,
    requestGenerator: (_options, params, request, callback) => {
      sink.sent();
      const req = request({ ...params, agent }, callback);
      open.add(req);
      req.once('close', () => open.delete(req));
      // Timed here rather than by loadtest's `timeout`, which reports the request and then reports it
      // again when the socket finally closes, ending the run early.
      req.setTimeout(settings.requestTimeoutMs, () => {
        req.destroy(new Error(`no answer within ${settings.requestTimeoutMs} ms`));
      });
      if (abortReason !== null) req.destroy(new Error(abortReason));
      return req;
    },
    statusCallback: (error, result) => sink.outcome(toOutcome(clock(), error, result)),
  });

  // The whole run is bounded: everything should be answered one request timeout after the last send.
  const deadlineMs = settings.durationMs + settings.requestTimeoutMs + 2000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<null>((resolve) => {
    timer = setTimeout(() => {
      abort(`aborted: the load was still running ${deadlineMs} ms after it started`);
      resolve(null);
    }, deadlineMs);
  });
  const done = Promise.race([run, deadline]).finally(() => {
    clearTimeout(timer);
    agent.destroy();
  });
  return { done, abort };
}
