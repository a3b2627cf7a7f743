/**
 * The demo's load: loadtest at a fixed pace, bounded in count (rate x duration) and in time (a
 * deadline after which whatever is still open is aborted and counted as failed). loadtest's rate
 * mode makes a client per request as needed, so one keep-alive agent shared by every request holds
 * the number in flight to `concurrency`; a request waiting for a socket is timed from when it was
 * due, so a slow balancer shows as latency instead of as a lower rate.
 */
import http from 'node:http';
import net from 'node:net';
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
  /** loadtest's own totals, or null when the run was aborted (by the deadline or `abort`). */
  done: Promise<LoadTestResult | null>;
  /** loadtest itself has finished (after an abort, once it has given up asking for requests). */
  settled: Promise<void>;
  /** Stop now: every request sent and not answered is reported as failed with `reason`, no more are sent. */
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
  let sent = 0;
  let reported = 0;
  let abortReason: string | null = null;
  let aborted: (value: null) => void = () => undefined;
  const abortedRun = new Promise<null>((resolve) => (aborted = resolve));

  /**
   * Every request sent and not answered yet gets one outcome now, failed with `reason`; whatever
   * loadtest reports afterwards is dropped, so each request is counted exactly once.
   */
  const abort = (reason: string): void => {
    if (abortReason !== null) return;
    abortReason = reason;
    const atMs = clock();
    for (; reported < sent; reported++) {
      sink.outcome({ atMs, ok: false, latencyMs: null, servedBy: null, error: reason });
    }
    for (const req of open) req.destroy(new Error(reason));
    agent.destroy();
    aborted(null);
  };

  /** After an abort loadtest's timer still asks for requests: each gets a socket that never connects. */
  const unsent = (): net.Socket => {
    const socket = new net.Socket();
    process.nextTick(() => socket.destroy(new Error(abortReason ?? 'aborted')));
    return socket;
  };

  const run = loadTest({
    url: settings.url,
    requestsPerSecond: settings.rate,
    maxRequests: plannedRequests(settings),
    quiet: true,
    requestGenerator: (_options, params, request, callback) => {
      if (abortReason !== null) {
        // No agent at all (agent: false would make a fresh one that connects): only createConnection.
        return request({ ...params, agent: undefined, createConnection: unsent }, callback);
      }
      sent++;
      sink.sent();
      const req = request({ ...params, agent }, callback);
      open.add(req);
      req.once('close', () => open.delete(req));
      // Timed here rather than by loadtest's `timeout`, which reports the request and then reports it
      // again when the socket finally closes, ending the run early.
      req.setTimeout(settings.requestTimeoutMs, () => {
        req.destroy(new Error(`no answer within ${settings.requestTimeoutMs} ms`));
      });
      return req;
    },
    statusCallback: (error, result) => {
      if (abortReason !== null) return;
      reported++;
      sink.outcome(toOutcome(clock(), error, result));
    },
  });

  // The whole run is bounded: everything should be answered one request timeout after the last send.
  const deadlineMs = settings.durationMs + settings.requestTimeoutMs + 2000;
  const timer = setTimeout(
    () => abort(`aborted: the load was still running ${deadlineMs} ms after it started`),
    deadlineMs,
  );
  const done = Promise.race([run, abortedRun]).finally(() => {
    clearTimeout(timer);
    agent.destroy();
  });
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  return { done, settled, abort };
}
