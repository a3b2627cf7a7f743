/**
 * loadtest's three HTTP clients, and what each one checks by itself. The benchmark checks every
 * response on the wire in all three (status and body length, see wire-checker.ts); this table says
 * what loadtest would have caught on its own, for the report. Pure.
 */
import type { LoadTestOptions } from 'loadtest';
import type { ClientMode } from './types.js';

export interface ClientModeInfo {
  mode: ClientMode;
  /** The loadtest option that selects it. */
  option: string;
  keepAlive: boolean;
  /** What loadtest's own counters catch in this mode. */
  loadtestChecks: string;
}

export const CLIENT_MODE_INFO: Record<ClientMode, ClientModeInfo> = {
  default: {
    mode: 'default',
    option: '(none)',
    keepAlive: false,
    loadtestChecks:
      'Node http client, a new connection per request; counts connection errors, and status >= 400 only as a connection error ("-1"); never the body length',
  },
  keepalive: {
    mode: 'keepalive',
    option: 'agentKeepAlive: true',
    keepAlive: true,
    loadtestChecks:
      'Node http client through agentkeepalive; counts connection errors, and status >= 400 only as a connection error ("-1"); never the body length',
  },
  tcp: {
    mode: 'tcp',
    option: 'tcp: true',
    keepAlive: true,
    loadtestChecks:
      'raw sockets and its own parser: reads Content-Length bytes but never counts a bad status (a 404 is a success), retries a dropped request silently, has no timeout and no per-request hook, and throws (crashing the client process) on a chunked body',
  },
};

export function loadtestOptions(
  mode: ClientMode,
  url: string,
  requests: number,
  concurrency: number,
  deadlineMs: number,
): LoadTestOptions {
  const base: LoadTestOptions = {
    url,
    concurrency,
    maxRequests: requests,
    maxSeconds: deadlineMs / 1000,
    quiet: true,
  };
  if (mode === 'keepalive') return { ...base, agentKeepAlive: true };
  if (mode === 'tcp') return { ...base, tcp: true };
  return base;
}

/** Modes compatible with the keep-alive setting: only `default` closes connections. */
export function modesFor(keepAlive: boolean): ClientMode[] {
  return (Object.keys(CLIENT_MODE_INFO) as ClientMode[]).filter(
    (m) => CLIENT_MODE_INFO[m].keepAlive === keepAlive,
  );
}

/** Split a case over client processes: concurrency as evenly as possible, requests in proportion. */
export function splitLoad(
  requests: number,
  concurrency: number,
  clients: number,
): { requests: number; concurrency: number }[] {
  const used = Math.max(1, Math.min(clients, concurrency, requests));
  const shares: { requests: number; concurrency: number }[] = [];
  let requestsLeft = requests;
  for (let i = 0; i < used; i++) {
    const c = Math.floor(concurrency / used) + (i < concurrency % used ? 1 : 0);
    const r = i === used - 1 ? requestsLeft : Math.round((requests * c) / concurrency);
    shares.push({ requests: r, concurrency: c });
    requestsLeft -= r;
  }
  return shares;
}

/** The trial fields the choice looks at (see results.ts ModeTrial). */
export interface TrialSummary {
  mode: ClientMode;
  rps: number;
  correct: boolean;
  eligible: boolean;
}

/**
 * The mode to benchmark with: the one forced with --client-mode, else the fastest mode that was
 * correct (every response checked good) and fits the keep-alive setting.
 */
export function chooseMode(
  trials: readonly TrialSummary[],
  forced: ClientMode | 'auto',
  keepAlive: boolean,
): { mode: ClientMode; reason: string } {
  if (forced !== 'auto') return { mode: forced, reason: 'forced with --client-mode' };
  const best = trials
    .filter((t) => t.correct && t.eligible && Number.isFinite(t.rps))
    .sort((a, b) => b.rps - a.rps)[0];
  if (best !== undefined) {
    const others = trials.filter((t) => t.eligible && t.mode !== best.mode).length;
    return {
      mode: best.mode,
      reason:
        others > 0
          ? 'the fastest correct eligible mode measured'
          : 'the only mode that fits the keep-alive setting',
    };
  }
  const fallback: ClientMode = keepAlive ? 'keepalive' : 'default';
  return { mode: fallback, reason: `no eligible mode measured correct; fell back to ${fallback}` };
}
