/** Merge what several client processes observed during one run: counts add, histograms merge. Pure. */
import { emptyHistogram, mergeHistograms } from './histogram.js';
import { FAILURE_REASONS, emptyFailures, type RawRun } from './types.js';

export function mergeRawRuns(parts: readonly RawRun[]): RawRun {
  if (parts.length === 0) {
    return {
      startedAtMs: 0,
      endedAtMs: 0,
      requested: 0,
      concurrency: 0,
      clients: 0,
      ok: 0,
      failed: emptyFailures(),
      statusCodes: {},
      wireBytes: 0,
      bodyBytes: 0,
      latency: emptyHistogram(),
      loadtest: [],
    };
  }
  const failed = emptyFailures();
  const statusCodes: Record<string, number> = {};
  for (const p of parts) {
    for (const r of FAILURE_REASONS) failed[r] += p.failed[r];
    for (const [code, n] of Object.entries(p.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  }
  return {
    // The run lasts from the first process starting to the last one finishing.
    startedAtMs: Math.min(...parts.map((p) => p.startedAtMs)),
    endedAtMs: Math.max(...parts.map((p) => p.endedAtMs)),
    requested: parts.reduce((s, p) => s + p.requested, 0),
    concurrency: parts.reduce((s, p) => s + p.concurrency, 0),
    clients: parts.reduce((s, p) => s + p.clients, 0),
    ok: parts.reduce((s, p) => s + p.ok, 0),
    failed,
    statusCodes,
    wireBytes: parts.reduce((s, p) => s + p.wireBytes, 0),
    bodyBytes: parts.reduce((s, p) => s + p.bodyBytes, 0),
    latency: mergeHistograms(parts.map((p) => p.latency)),
    loadtest: parts.flatMap((p) => p.loadtest),
  };
}
