/**
 * The fixed-rate load of the policies benchmark (bench/policies-vs-haproxy.sh): `--rate` GETs a
 * second on a fixed schedule (open loop: a slow answer delays no later request), over at most
 * `--connections` keep-alive connections; a warm-up, then `--duration` measured. Each latency runs
 * from when the request was due, so time spent waiting anywhere (the proxy, a queue in front of
 * the slow upstream, or the client itself) counts: no coordinated omission. An answer is good
 * when it is 200 with `--bytes` of body; each one's X-Served-By is tallied, which gives the share
 * of the slow upstream. Bounded: rate x (warm-up + duration) requests, then at most `--drain` for
 * the last answers; what is still missing then counts as unanswered. Prints one JSON line.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { loadConfigOrExit } from '../src/config/load.js';
import { HistogramRecorder, percentile } from './lib/histogram.js';
import { dueAtMs, dueCount, scheduledCount, shareOf } from './lib/open-loop.js';
import { policyLoadSpecs } from './lib/policy-load-config.js';

const options = loadConfigOrExit(
  'policy-load: fixed-rate open-loop load, latency and who answered',
  policyLoadSpecs,
);

const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
const target = new URL(options.url);
const recorder = new HistogramRecorder();
/** Latencies per X-Served-By, to tell a queue at the slow upstream from a stall anywhere else. */
const byUpstream = new Map<string, HistogramRecorder>();
let sent = 0;
let failed = 0;
/** Requests of either phase not answered yet (the drain waits for all, so the next run starts clean). */
let outstanding = 0;
/** After the drain: late events no longer count. */
let closed = false;
/** How far behind its schedule the client sent a measured request at worst: its own lag, inside the latencies. */
let worstLagMs = 0;
let drained: (() => void) | null = null;

function settle(): void {
  outstanding--;
  if (outstanding === 0 && drained !== null) drained();
}

function one(dueAt: number, counted: boolean): void {
  if (counted) sent++;
  outstanding++;
  let done = false;
  const finish = (good: boolean, by: string | undefined): void => {
    if (done) return;
    done = true;
    settle();
    if (!counted || closed) return;
    if (!good) {
      failed++;
      return;
    }
    const us = (performance.now() - dueAt) * 1000;
    recorder.record(us);
    const name = by ?? '(none)';
    let own = byUpstream.get(name);
    if (own === undefined) byUpstream.set(name, (own = new HistogramRecorder()));
    own.record(us);
  };
  const req = http.get(
    { host: target.hostname, port: target.port, path: target.pathname + target.search, agent },
    (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () => {
        const by = res.headers['x-served-by'];
        const good = res.statusCode === 200 && (options.bytes === 0 || bytes === options.bytes);
        finish(good, Array.isArray(by) ? by[0] : by);
      });
      res.on('error', () => finish(false, undefined));
      res.on('aborted', () => finish(false, undefined));
    },
  );
  req.on('error', () => finish(false, undefined));
}

/** One phase of the schedule: request k at start + k / rate, checked on a 1 ms timer. */
function phase(ms: number, counted: boolean): Promise<void> {
  const total = scheduledCount(options.rate, ms);
  return new Promise((resolve) => {
    const start = performance.now();
    let next = 0;
    const tick = (): void => {
      const now = performance.now();
      const due = dueCount(options.rate, ms, now - start);
      while (next < due) {
        const dueAt = start + dueAtMs(options.rate, next);
        if (counted) worstLagMs = Math.max(worstLagMs, now - dueAt);
        one(dueAt, counted);
        next++;
      }
      if (next >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
}

/** Wait until every request has its answer, or `ms` passes. */
function drain(ms: number): Promise<void> {
  if (outstanding === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    drained = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

await phase(options.warmup, false);
await phase(options.duration, true);
await drain(options.drain);
closed = true;
agent.destroy();
const cpu = process.cpuUsage();
const h = recorder.toJSON();
const ms = (us: number): number | null => (Number.isNaN(us) ? null : Math.round(us) / 1000);
const servedBy: Record<string, number> = {};
const upstreams: Record<
  string,
  { count: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null }
> = {};
for (const [name, own] of [...byUpstream].sort(([a], [b]) => a.localeCompare(b))) {
  const u = own.toJSON();
  servedBy[name] = u.count;
  upstreams[name] = {
    count: u.count,
    p50Ms: ms(percentile(u, 50)),
    p99Ms: ms(percentile(u, 99)),
    maxMs: ms(u.maxUs),
  };
}
const share = shareOf(servedBy, options.slowName);
process.stdout.write(
  `${JSON.stringify({
    url: options.url,
    rate: options.rate,
    durationMs: options.duration,
    warmupMs: options.warmup,
    sent,
    ok: h.count,
    failed,
    unanswered: sent - h.count - failed,
    p50Ms: ms(percentile(h, 50)),
    p99Ms: ms(percentile(h, 99)),
    maxMs: ms(h.maxUs),
    worstLagMs: Math.round(worstLagMs * 1000) / 1000,
    slowName: options.slowName,
    slowShare: Number.isNaN(share) ? null : share,
    servedBy,
    upstreams,
    // The client's own CPU time, so the script can tell what other processes took during the run.
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  })}\n`,
  // Whatever may still hold the loop (a socket the destroy has not closed yet), the run is over.
  () => process.exit(0),
);
