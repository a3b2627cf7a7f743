/** One loadtest run with every response checked on the wire; what a client process does per run. */
import { loadTest } from 'loadtest';
import { loadtestOptions } from './client-modes.js';
import type { LoadtestSummary, RawRun } from './types.js';
import { WireChecker, nowEpochMs } from './wire-checker.js';
import type { RunRequest } from './worker-protocol.js';

export type CheckedRunSpec = Omit<RunRequest, 'type' | 'id'>;

export async function checkedRun(spec: CheckedRunSpec, onOutcome?: (done: number) => void): Promise<RawRun> {
  const checker = new WireChecker({
    expect: spec.expect,
    limit: spec.requests,
    timeoutMs: spec.timeoutMs,
    ...(onOutcome ? { onOutcome } : {}),
  });
  checker.start();
  const startedAtMs = nowEpochMs();
  try {
    const result = await loadTest(
      loadtestOptions(spec.mode, spec.url, spec.requests, spec.concurrency, spec.deadlineMs),
    );
    const endedAtMs = nowEpochMs();
    const summary: LoadtestSummary = {
      agent: result.agent,
      totalRequests: result.totalRequests,
      totalErrors: result.totalErrors,
      errorCodes: result.errorCodes,
      elapsedSeconds: result.elapsedSeconds,
      effectiveRps: result.effectiveRps,
    };
    return { ...checker.result(startedAtMs, endedAtMs, spec.concurrency), loadtest: [summary] };
  } finally {
    checker.stop();
  }
}
