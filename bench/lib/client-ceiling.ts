/**
 * How fast is the load client itself? Each loadtest client mode runs against the trivial server
 * (c=10, one process, hello-world answers), wrk runs against the same server for reference, and
 * the chosen mode is measured again with every client process. Which mode is fastest depends on
 * the body size (loadtest's TCP client re-copies a body on every packet, its HTTP client turns
 * every body into a string), so each scenario also tries the eligible modes with its own body
 * size and uses the fastest correct one.
 */
import { errorMessage } from '../../src/errors.js';
import type { BenchConfig } from './bench-config.js';
import { CLIENT_MODE_INFO, chooseMode } from './client-modes.js';
import type { ClientPool } from './client-pool.js';
import { runWrk, type WrkResult } from './external-tools.js';
import { figuresOf } from './figures.js';
import type { Progress } from './progress.js';
import type { ClientReport, ModeTrial, ScenarioClient } from './results.js';
import type { TrivialServer } from './trivial-server-process.js';
import { CLIENT_MODES, type ClientMode } from './types.js';
import { formatInt } from '../../src/report/format.js';

/** A hello-world sized answer, as in the issue's reference measurement. */
export const TRIVIAL_BODY_BYTES = 13;
const CONCURRENCY = 10;

/** Bytes a mode trial may move: enough for a steady rate, bounded for 1 MiB bodies. */
const TRIAL_BYTES = 256 * 1024 * 1024;

/** Requests for one trial: --ceiling-requests, fewer for big bodies and for a connection per request. */
export function trialRequests(ceilingRequests: number, bodyBytes: number, mode: ClientMode): number {
  // A connection per request is slow and uses up ephemeral ports: a quarter is plenty.
  const wanted = mode === 'default' ? Math.ceil(ceilingRequests / 4) : ceilingRequests;
  const byBytes = Math.floor(TRIAL_BYTES / Math.max(1, bodyBytes));
  return Math.max(CONCURRENCY, Math.min(wanted, Math.max(200, byBytes)));
}

async function trial(
  pool: ClientPool,
  server: TrivialServer,
  config: BenchConfig,
  mode: ClientMode,
  clients: number,
  progress: Progress,
  bodyBytes = TRIVIAL_BODY_BYTES,
  labelPrefix = 'client',
): Promise<ModeTrial> {
  const requests = trialRequests(config.ceilingRequests, bodyBytes, mode);
  const eligible = CLIENT_MODE_INFO[mode].keepAlive === config.keepalive;
  const label = `${labelPrefix} ${mode}, ${clients} process${clients === 1 ? '' : 'es'}, c=${CONCURRENCY}`;
  const bar = progress.start(label, requests);
  const setup = { mode, clients, concurrency: CONCURRENCY, bodyBytes, requests };
  try {
    const raw = await pool.run(
      {
        url: `${server.url}/bytes/${bodyBytes}`,
        requests,
        concurrency: CONCURRENCY,
        mode,
        expect: {
          status: 200,
          body: { kind: 'length', bytes: bodyBytes },
          source: 'trivial server',
        },
        timeoutMs: config.timeoutMs,
        deadlineMs: config.deadlineMs,
      },
      (done) => bar.update(done),
      clients,
    );
    const f = figuresOf(raw);
    const correct = f.failed === 0 && raw.ok === requests;
    bar.finish(`${formatInt(f.rps)} req/s${correct ? '' : `, ${f.failed} failed`}`);
    return { ...setup, rps: f.rps, ok: raw.ok, failed: f.failed, correct, eligible };
  } catch (err) {
    bar.finish(`error: ${errorMessage(err)}`);
    // A trial that could not run counts every request as failed.
    return {
      ...setup,
      rps: Number.NaN,
      ok: 0,
      failed: requests,
      correct: false,
      eligible,
      error: errorMessage(err),
    };
  }
}

export async function measureClient(
  pool: ClientPool,
  server: TrivialServer,
  config: BenchConfig,
  progress: Progress,
): Promise<ClientReport> {
  let wrk: WrkResult | null = null;
  let wrkSkipped: string | null = null;
  if (config.wrkDurationMs > 0) {
    progress.line(`wrk -t1 -c10 against the trivial server for ${config.wrkDurationMs / 1000}s...`);
    const outcome = await runWrk(`${server.url}/bytes/${TRIVIAL_BODY_BYTES}`, config.wrkDurationMs);
    if (outcome.ok) {
      wrk = outcome.result;
      progress.line(`wrk: ${formatInt(wrk.rps)} req/s`);
    } else {
      wrkSkipped = outcome.reason;
      progress.line(`wrk skipped: ${outcome.reason}`);
    }
  } else {
    wrkSkipped = 'wrk skipped (--wrk-duration 0)';
  }
  const trials: ModeTrial[] = [];
  for (const mode of CLIENT_MODES) trials.push(await trial(pool, server, config, mode, 1, progress));
  const forced = config.clientMode === 'auto' ? 'auto' : config.clientMode;
  const chosen = chooseMode(trials, forced, config.keepalive);
  let ceilingRps = trials.find((t) => t.mode === chosen.mode && t.clients === 1)?.rps ?? Number.NaN;
  if (config.clients > 1) {
    const wide = await trial(pool, server, config, chosen.mode, config.clients, progress);
    trials.push(wide);
    ceilingRps = wide.rps;
  }
  return {
    trivialBodyBytes: TRIVIAL_BODY_BYTES,
    wrk,
    wrkSkipped,
    trials,
    chosenMode: chosen.mode,
    reason: chosen.reason,
    clients: config.clients,
    ceilingRps,
  };
}

/** The mode for one scenario: forced, or the fastest correct eligible one at its body size. */
export async function chooseScenarioMode(
  pool: ClientPool,
  server: TrivialServer,
  config: BenchConfig,
  bodyBytes: number,
  scenario: string,
  progress: Progress,
): Promise<ScenarioClient> {
  if (config.clientMode !== 'auto') {
    return { mode: config.clientMode, reason: 'forced with --client-mode', trials: [] };
  }
  const eligible = CLIENT_MODES.filter((m) => CLIENT_MODE_INFO[m].keepAlive === config.keepalive);
  if (eligible.length === 1 && eligible[0] !== undefined) {
    return { mode: eligible[0], reason: 'the only mode that fits the keep-alive setting', trials: [] };
  }
  const trials: ModeTrial[] = [];
  for (const mode of eligible) {
    trials.push(
      await trial(pool, server, config, mode, config.clients, progress, bodyBytes, `${scenario} client`),
    );
  }
  const chosen = chooseMode(trials, 'auto', config.keepalive);
  return { mode: chosen.mode, reason: `${chosen.reason} with ${formatInt(bodyBytes)}-byte bodies`, trials };
}
