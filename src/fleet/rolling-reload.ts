/**
 * Reloading the running fleet without losing a request (`npm run reload`, `npm run reload:balancer`).
 *
 * - The balancer reloads itself: SIGHUP to its primary starts new workers and drains the old ones
 *   (src/balancer/cluster/primary.ts). This waits until its status shows the reload done.
 * - A backend is restarted through PM2 (fork mode has nothing better), one at a time, and the next
 *   waits until the balancer has it back in rotation, so the pool is never short by more than one.
 * - `async` and `threaded` are not behind the balancer: restarted one at a time, each healthy
 *   before the next.
 *
 * `pm2 reload all` does the same restarts two at a time and restarts the balancer's primary too,
 * which closes its listening socket for as long as a new process takes to start: this is the
 * lossless way to do it (docs/operations.md).
 */
import { SupervisorError } from '../errors.js';
import type { Logger } from '../logger.js';
import { getWithDeadline } from '../net/http-get.js';
import { readBalancerStatus } from '../balancer/status-reader.js';
import type { BalancerStatus } from '../balancer/status.js';
import { signalPid, type Pm2App, type Pm2Client } from '../supervisor/pm2-client.js';
import type { FleetApp } from './ecosystem.js';
import { pm2EntriesOf } from './fleet.js';

export interface ReloadOptions {
  pm2: Pm2Client;
  apps: readonly FleetApp[];
  logger: Logger;
  /** How long one app may take to be back. */
  timeoutMs: number;
}

const POLL_MS = 100;

/** SIGHUP the balancer and wait until it reports the reload done; says what it did. */
export async function reloadBalancer(options: ReloadOptions): Promise<string> {
  const { balancer, entry } = await balancerOf(options);
  const statusUrl = balancer.statusUrl ?? '';
  const before = await readStatus(statusUrl);
  if (before === null)
    throw new SupervisorError('ERR_FLEET_RELOAD', `${balancer.name} does not answer its status`);
  if (before.balancer.workers < 2) {
    // A balancer that fell back to one process says why (its addons); one from before says nothing.
    const why = before.balancer.singleProcessReason;
    throw new SupervisorError(
      'ERR_FLEET_RELOAD',
      `${balancer.name} runs in one process (${typeof why === 'string' ? why : '--workers 1'}): a reload needs 2 or more; pm2 restart it instead`,
    );
  }
  const pid = entry.pid;
  if (pid === null || !signalPid(pid, 'SIGHUP')) {
    throw new SupervisorError('ERR_FLEET_RELOAD', `${balancer.name} has no running process to reload`);
  }
  const started = Date.now();
  const after = await until(options.timeoutMs, `${balancer.name} to finish its reload`, async () => {
    const s = await readStatus(statusUrl);
    const ready = s?.workers.filter((w) => w.state === 'ready') ?? [];
    return s !== null && s.balancer.reloads > before.balancer.reloads && ready.length >= s.balancer.workers
      ? s
      : undefined;
  });
  const generation = Math.max(...after.workers.map((w) => w.generation));
  const done = `${balancer.name} reloaded in ${Date.now() - started} ms: ${after.balancer.workers} workers of generation ${generation}`;
  options.logger.info(done, { event: 'fleet-reload', app: balancer.name, reloads: after.balancer.reloads });
  return done;
}

/**
 * The whole fleet, one app at a time: backends (each back in rotation first), the others, the
 * balancer. Says what it did, one line per app.
 */
export async function reloadFleet(options: ReloadOptions): Promise<string[]> {
  const done: string[] = [];
  const { pm2, apps, logger } = options;
  const { balancer } = await balancerOf(options);
  const statusUrl = balancer.statusUrl ?? '';
  for (const app of apps.filter((a) => a.role !== 'balancer')) {
    const entry = (await entriesOf(options)).get(app.name);
    if (entry === undefined) {
      const line = `${app.name} is not running under PM2; skipped`;
      logger.warn(line, { event: 'fleet-reload-skip', app: app.name });
      done.push(line);
      continue;
    }
    const started = Date.now();
    await pm2.restart(entry.pmId);
    await until(options.timeoutMs, `${app.name} to be back`, async () => {
      const now = (await entriesOf(options)).get(app.name);
      if (now?.status !== 'online' || now.pid === entry.pid) return undefined;
      if (app.pool !== null) {
        const s = await readStatus(statusUrl);
        return s?.upstreams.some((u) => u.name === app.name && u.available && u.pm2?.pid === now.pid)
          ? true
          : undefined;
      }
      const health = await getWithDeadline(app.healthUrl, 1000);
      return health.kind === 'answered' && health.status === 200 ? true : undefined;
    });
    const line = `${app.name} restarted, ${app.pool === null ? 'healthy' : 'back in rotation'} after ${Date.now() - started} ms`;
    logger.info(line, { event: 'fleet-reload', app: app.name });
    done.push(line);
  }
  done.push(await reloadBalancer(options));
  return done;
}

async function entriesOf(options: ReloadOptions): Promise<Map<string, Pm2App>> {
  return pm2EntriesOf(options.apps, await options.pm2.list());
}

async function balancerOf(options: ReloadOptions): Promise<{ balancer: FleetApp; entry: Pm2App }> {
  const balancer = options.apps.find((a) => a.role === 'balancer');
  if (balancer === undefined) throw new SupervisorError('ERR_FLEET_RELOAD', 'the ecosystem has no balancer');
  const entry = (await entriesOf(options)).get(balancer.name);
  if (entry === undefined || entry.status !== 'online') {
    throw new SupervisorError(
      'ERR_FLEET_RELOAD',
      `${balancer.name} is not online in this PM2 (${entry?.status ?? 'not started'}); npm start first`,
    );
  }
  return { balancer, entry };
}

async function readStatus(url: string): Promise<BalancerStatus | null> {
  const outcome = await getWithDeadline(url, 1000);
  if (outcome.kind !== 'answered' || outcome.status !== 200) return null;
  try {
    return readBalancerStatus(JSON.parse(outcome.body.toString('utf8')));
  } catch {
    return null;
  }
}

async function until<T>(timeoutMs: number, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new SupervisorError('ERR_FLEET_RELOAD', `waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
