/**
 * How fast is the load client itself? Each loadtest client mode runs against the trivial server
 * (c=10, one process), wrk runs against the same server for reference, the fastest correct mode
 * is chosen, and the chosen mode is measured again with every client process.
 */
import { errorMessage } from '../../src/errors.js';
import type { BenchConfig } from '../../src/config/bench-config.js';
import { CLIENT_MODE_INFO, chooseMode } from './client-modes.js';
import type { ClientPool } from './client-pool.js';
import { runWrk, type WrkResult } from './external-tools.js';
import { figuresOf } from './figures.js';
import type { Progress } from './progress.js';
import type { ClientReport, ModeTrial } from './results.js';
import type { TrivialServer } from './trivial-server-process.js';
import { CLIENT_MODES, type ClientMode } from './types.js';
import { formatInt } from '../../src/report/format.js';

/** A hello-world sized answer, as in the issue's reference measurement. */
export const TRIVIAL_BODY_BYTES = 13;
const CONCURRENCY = 10;

async function trial(
  pool: ClientPool,
  server: TrivialServer,
  config: BenchConfig,
  mode: ClientMode,
  clients: number,
  progress: Progress,
): Promise<ModeTrial> {
  // A connection per request is slow and uses up ephemeral ports: a quarter of the requests is plenty.
  const requests = Math.max(
    CONCURRENCY,
    mode === 'default' ? Math.ceil(config.ceilingRequests / 4) : config.ceilingRequests,
  );
  const eligible = CLIENT_MODE_INFO[mode].keepAlive === config.keepalive;
  const label = `client ${mode}, ${clients} process${clients === 1 ? '' : 'es'}, c=${CONCURRENCY}`;
  const bar = progress.start(label, requests);
  try {
    const raw = await pool.run(
      {
        url: `${server.url}/bytes/${TRIVIAL_BODY_BYTES}`,
        requests,
        concurrency: CONCURRENCY,
        mode,
        expect: {
          status: 200,
          body: { kind: 'length', bytes: TRIVIAL_BODY_BYTES },
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
    return {
      mode,
      clients,
      concurrency: CONCURRENCY,
      requests,
      rps: f.rps,
      ok: raw.ok,
      failed: f.failed,
      correct,
      eligible,
    };
  } catch (err) {
    bar.finish(`error: ${errorMessage(err)}`);
    return {
      mode,
      clients,
      concurrency: CONCURRENCY,
      requests,
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
