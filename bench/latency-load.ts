/**
 * A steady, light, open-loop load (bench/latency-vs-haproxy.sh): `--rate` GETs a second on a fixed
 * schedule over at most `--connections` keep-alive connections, each latency measured from when
 * the request was due (so a stall delays every request behind it, and counts: no coordinated
 * omission). Prints one JSON line: the histogram summary, failures, and the worst
 * `nodejs_event_loop_delay_max_seconds` read from `--metrics-url` once a second.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { loadConfigOrExit } from '../src/config/load.js';
import { HistogramRecorder, percentile } from './lib/histogram.js';
import { latencyLoadSpecs } from './lib/latency-config.js';

const options = loadConfigOrExit(
  'latency-load: steady open-loop load with latency percentiles',
  latencyLoadSpecs,
);

const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
const target = new URL(options.url);
let measuring = false;
const recorder = new HistogramRecorder();
let failed = 0;
let sent = 0;
let worstLoopDelayS = 0;

function one(dueAt: number): void {
  const counted = measuring;
  if (counted) sent++;
  const req = http.get(
    { host: target.hostname, port: target.port, path: target.pathname + target.search, agent },
    (res) => {
      res.resume();
      res.on('end', () => {
        if (!counted) return;
        if (res.statusCode === 200) recorder.record((performance.now() - dueAt) * 1000);
        else failed++;
      });
    },
  );
  req.on('error', () => {
    if (counted) failed++;
  });
}

async function readLoopDelay(): Promise<void> {
  if (options.metricsUrl === '') return;
  try {
    const text = await (await fetch(options.metricsUrl)).text();
    const m = /^nodejs_event_loop_delay_max_seconds\s+(\S+)$/m.exec(text);
    if (m !== null) worstLoopDelayS = Math.max(worstLoopDelayS, Number(m[1]));
  } catch {
    // a missed reading is one second fewer in the maximum, not a failed run
  }
}

/** Fire requests on schedule for `ms`; the schedule runs on a 1 ms timer, catching up if late. */
function run(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const start = performance.now();
    const interval = 1000 / options.rate;
    let next = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      while (start + next * interval <= now && next * interval < ms) {
        one(start + next * interval);
        next++;
      }
      if (next * interval >= ms) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
}

await run(options.warmup);
measuring = true;
const scrape = setInterval(() => void readLoopDelay(), 1000);
await readLoopDelay();
await run(options.duration);
clearInterval(scrape);
// Let the last answers arrive.
await new Promise((resolve) => setTimeout(resolve, 1000));
await readLoopDelay();
agent.destroy();
const h = recorder.toJSON();
process.stdout.write(
  `${JSON.stringify({
    url: options.url,
    rate: options.rate,
    durationMs: options.duration,
    sent,
    ok: h.count,
    failed,
    p50Ms: percentile(h, 50) / 1000,
    p99Ms: percentile(h, 99) / 1000,
    maxMs: h.maxUs / 1000,
    worstLoopDelayMs: options.metricsUrl === '' ? null : worstLoopDelayS * 1000,
  })}\n`,
);
