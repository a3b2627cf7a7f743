/**
 * `npm run bench:hosts`: the multi-host figures, on real hosts (network namespaces, an etcd cluster
 * over them, a PM2 daemon per host, the balancer in the root namespace on etcd discovery):
 *
 * 1. from a backend going online on a host (PM2's `online` on that host's bus) to the first request
 *    the balancer proxied to it, under a steady load; --tries times (default 20);
 * 2. from a host's link going down to none of its members being in rotation; --tries times;
 * 3. the balancer's requests/s (wrk) with its upstreams across namespaces and on loopback.
 *
 * Results: bench/results/hosts-<timestamp>/results.json and report.md. Run alone on the machine.
 * SIGINT or SIGTERM removes the test hosts before exiting (130 or 143).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startInProcessBalancer } from '../src/balancer/in-process-balancer.js';
import type { LoadBalancer } from '../src/balancer/load-balancer.js';
import { PROJECT_ROOT, RESULTS_DIR } from '../src/config/common.js';
import { processEnv } from '../src/config/process-input.js';
import { errorMessage } from '../src/errors.js';
import { etcdBalancerArgs, LAN_HEALTH } from '../src/hosts/balancer-args.js';
import { spawnBalancer } from '../src/hosts/balancer-process.js';
import { Lab } from '../src/hosts/lab.js';
import { stopChild } from '../src/hosts/stop-child.js';
import { hostsSupportProblems } from '../src/hosts/support.js';
import { createLogger } from '../src/logger.js';
import { freePort } from '../src/net/free-port.js';
import { Pm2Client } from '../src/supervisor/pm2-client.js';
import { loadConfigOrExit } from '../src/config/load.js';
import { durationParser, intParser, type OptionSpec } from '../src/config/options.js';
import { runWrk } from './lib/external-tools.js';
import {
  renderHostsBenchMarkdown,
  throughputRatio,
  triesFigure,
  type HostsBenchResults,
  type ThroughputRound,
  type Tries,
} from './lib/hosts-figures.js';

const options = loadConfigOrExit('npm run bench:hosts -- [options]: the multi-host figures', {
  tries: {
    flag: 'tries',
    description: 'Tries of each timed figure (online -> first request, link down -> out of rotation)',
    default: 20,
    parse: intParser(1, 1000),
  },
  rounds: {
    flag: 'rounds',
    description: 'wrk rounds per kind of upstream (namespaces, loopback)',
    default: 3,
    parse: intParser(1, 100),
  },
  roundMs: {
    flag: 'round',
    description: 'How long each wrk round runs',
    default: 5000,
    parse: durationParser(1000, 600_000),
  },
} satisfies Record<string, OptionSpec<number>>);
const { tries: TRIES, rounds: ROUNDS, roundMs: ROUND_MS } = options;

/** Whatever this run started outside the lab (backends and balancers on loopback), for a signal. */
const started = new Set<ChildProcess>();

const say = (line: string) => process.stdout.write(`${line}\n`);
const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = 20_000, stepMs = 2): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await pause(stepMs);
  }
  return performance.now();
}

/** A balancer in this process on the lab's etcd, with the multi-host demo's settings. */
function startEtcdBalancer(lab: Lab) {
  const logger = createLogger({ name: 'bench-lb', level: 'warn', format: 'text', color: false });
  return startInProcessBalancer({
    args: [...etcdBalancerArgs(lab), '--log-level', 'warn'],
    discoveryKind: 'etcd',
    logger,
  });
}

/** Keep-alive GETs from `concurrency` loops; calls `onServed` with each answer's X-Served-By. */
function steadyLoad(url: string, concurrency: number, onServed: (by: string) => void) {
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        if (res.status === 200) onServed(res.headers.get('x-served-by') ?? '');
      } catch {
        // counted by nobody: this load only finds first answers
      }
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, loop));
  return async () => {
    stopped = true;
    await done;
  };
}

async function onlineToFirstRequest(lab: Lab, lb: LoadBalancer, url: string): Promise<number[]> {
  const host = lab.host('h1');
  const app = host.backends[0]?.name ?? '';
  const servedBy = `h1-${app}`;
  const id = lab.upstreamIds('h1')[0] ?? '';
  const pm2 = await Pm2Client.connect({ pm2Home: host.fleet.home, launchDaemon: false, timeoutMs: 30_000 });
  let onlineAt: number | null = null;
  let firstAt: number | null = null;
  const bus = await pm2.launchBus();
  bus.onProcessEvent((e) => {
    if (e.name === app && e.event === 'online') onlineAt = performance.now();
  });
  const stop = steadyLoad(url, 4, (by) => {
    if (by === servedBy && onlineAt !== null && firstAt === null) firstAt = performance.now();
  });
  const out: number[] = [];
  try {
    for (let i = 0; i < TRIES; i++) {
      await pm2.stop(app);
      await until('the backend gone from the pool', () => lb.pool.get(id) === undefined);
      await pause(300);
      onlineAt = null;
      firstAt = null;
      await pm2.restart(app);
      await until('its first proxied request', () => firstAt !== null, 20_000);
      const ms = (firstAt ?? 0) - (onlineAt ?? 0);
      out.push(ms);
      say(`  online -> first request, try ${i + 1}: ${ms.toFixed(0)} ms`);
    }
  } finally {
    await stop();
    await pm2.disconnect();
  }
  return out;
}

async function linkDownToOut(lab: Lab, lb: LoadBalancer, url: string): Promise<number[]> {
  const ids = lab.upstreamIds('h3');
  const inRotation = (id: string) => lb.pool.get(id)?.available === true;
  const stop = steadyLoad(url, 4, () => undefined);
  const out: number[] = [];
  try {
    for (let i = 0; i < TRIES; i++) {
      await until('h3 in rotation', () => ids.every(inRotation), 30_000, 20);
      // Let connection attempts from the last outage settle, so none of them times out in this one.
      await pause(1500);
      const downAt = performance.now();
      await lab.network.linkDown('h3');
      const outAt = await until('h3 out of rotation', () => ids.every((id) => !inRotation(id)), 20_000, 1);
      await lab.network.linkUp('h3');
      out.push(outAt - downAt);
      say(`  link down -> out of rotation, try ${i + 1}: ${(outAt - downAt).toFixed(0)} ms`);
    }
  } finally {
    await stop();
  }
  return out;
}

/** A balancer process on a static list, as in production, for the wrk rounds. */
async function staticBalancer(upstreams: string): Promise<{ child: ChildProcess; port: number }> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawnBalancer(
    { port, adminPort },
    ['--discovery', 'static', '--upstreams', upstreams, '--log-level', 'warn'],
    { stdout: 'ignore', stderr: 'inherit' },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`balancer exited with ${code}`)));
  });
  return { child, port };
}

async function throughput(lab: Lab): Promise<ThroughputRound[]> {
  // The same backends as on the hosts, three on loopback.
  const loopPorts = [await freePort(), await freePort(), await freePort()];
  const loop = loopPorts.map((p) =>
    spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'src', 'backend.js')], {
      env: { ...processEnv(), PORT: String(p), HOST: '127.0.0.1', NAME: `loop-${p}`, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
  );
  const children: ChildProcess[] = [...loop];
  for (const child of loop) started.add(child);
  try {
    await Promise.all(loop.map((c) => new Promise<void>((r) => c.once('message', () => r()))));
    const nsList = lab.hosts
      .map((h) => `${h.link.name}=${h.link.address}:${h.backends[0]?.port ?? 0}`)
      .join(',');
    const loList = loopPorts.map((p, i) => `lo${i + 1}=127.0.0.1:${p}`).join(',');
    const ns = await staticBalancer(nsList);
    children.push(ns.child);
    started.add(ns.child);
    const lo = await staticBalancer(loList);
    children.push(lo.child);
    started.add(lo.child);
    const rounds: ThroughputRound[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      for (const [kind, port] of [
        ['namespaces', ns.port],
        ['loopback', lo.port],
      ] as const) {
        await runWrk(`http://127.0.0.1:${port}/page.html`, 1000); // warm-up
        const run = await runWrk(`http://127.0.0.1:${port}/page.html`, ROUND_MS);
        if (!run.ok) throw new Error(run.reason);
        rounds.push({ upstreams: kind, rps: run.result.rps, errors: run.result.errors });
        say(`  ${kind}: ${Math.round(run.result.rps)} requests/s (${run.result.errors} errors)`);
      }
    }
    return rounds;
  } finally {
    await Promise.all(children.map((c) => stopChild(c, 8000)));
    for (const child of children) started.delete(child);
  }
}

const problems = await hostsSupportProblems();
if (problems.length > 0) {
  process.stderr.write(`bench:hosts cannot build test hosts: ${problems.join('; ')}\n`);
  process.exit(1);
}
const startedAt = new Date();
let lab: Lab | null = null;
// The lab being built, so a signal during Lab.create still finds it once it is there.
let building: Promise<Lab> | null = null;

// Ctrl-C or a SIGTERM must not leave namespaces, a bridge, an etcd cluster and PM2 daemons behind
// (the lab is not detached, but only destroy() removes the network).
let interrupted = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) return;
  interrupted = true;
  say(`bench:hosts: ${signal}: removing the test hosts`);
  void (async () => {
    await Promise.all([...started].map((c) => stopChild(c, 8000)));
    const built = lab ?? (await building?.catch(() => null)) ?? null;
    await built?.destroy();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  })();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

let code = 1;
try {
  building = Lab.create({ hosts: 3, backendsPerHost: 1, leaseTtlS: 3, log: say });
  lab = await building;
  const balancer = await startEtcdBalancer(lab);
  const { lb } = balancer;
  const url = `http://127.0.0.1:${balancer.port}/page.html`;
  try {
    await until('the pool in rotation', () => lb.pool.availableCount() === 3, 30_000, 20);
    say('online -> first proxied request:');
    const online = await onlineToFirstRequest(lab, lb, url);
    say('link down -> out of rotation:');
    const link = await linkDownToOut(lab, lb, url);
    say('requests/s, namespaces vs loopback:');
    const rounds = await throughput(lab);
    const tries: Tries[] = [
      { what: "backend online on a host (PM2's online event) → first request proxied to it", ms: online },
      { what: "host's link down → none of its members in rotation", ms: link },
    ];
    const results: HostsBenchResults = {
      startedAt: startedAt.toISOString(),
      command: 'npm run bench:hosts',
      settings: {
        tries: TRIES,
        'health interval': `${LAN_HEALTH.intervalMs}ms`,
        'health timeout': `${LAN_HEALTH.timeoutMs}ms`,
        fall: String(LAN_HEALTH.fall),
        'lease TTL': '3s',
        'wrk rounds': `${ROUNDS} x ${ROUND_MS / 1000}s each, -t1 -c10`,
      },
      tries,
      figures: tries.map(triesFigure),
      throughput: rounds,
      throughputRatio: throughputRatio(rounds),
    };
    const dir = path.join(RESULTS_DIR, `hosts-${startedAt.toISOString().replace(/[:.]/g, '-')}`);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const md = renderHostsBenchMarkdown(results);
    await fs.writeFile(path.join(dir, 'report.md'), md);
    say(md);
    code = 0;
  } finally {
    await balancer.stop();
  }
} catch (err) {
  process.stderr.write(`bench:hosts failed: ${errorMessage(err)}\n`);
} finally {
  // After a signal the handler removes the lab and exits with the signal's code.
  if (!interrupted) await lab?.destroy();
}
if (!interrupted) process.exit(code);
