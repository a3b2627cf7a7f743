/**
 * The operations demo, start to end: make sure the fleet runs, wait for the whole pool to be in
 * rotation, run the load and the schedule together while reading the balancer's status and PM2's
 * events, print a line per second, wait for the pool to recover, and write the report (that run is
 * run-under-load.ts; this file is the fleet around it). Whatever it changed (the balancer's
 * retries, apps it started) is put back, also when something fails.
 */
import { InternalError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DemoConfig } from './config.js';
import { processEnv } from '../config/process-input.js';
import { DemoSupervisor } from './demo-supervisor.js';
import { loadFleetApps } from '../fleet/ecosystem.js';
import { ensureFleet } from '../fleet/fleet.js';
import type { Pm2App } from '../supervisor/pm2-client.js';
import { Cleanups } from './cleanups.js';
import { runSlowClients, SLOW_CLIENT_DEFAULTS } from './slow-clients.js';
import { notInRotation } from './lb-status.js';
import type { ReportPaths } from './report-files.js';
import { runUnderLoad } from './run-under-load.js';
import { FleetActions } from './fleet-actions.js';
import { leftStopped, pm2AppOf } from './schedule.js';
import { readLbStatus } from './status-poller.js';
import type { DemoSummary } from './summary.js';
import { throwIfInterrupted, waitUntil } from './wait-until.js';

export interface DemoResult {
  summary: DemoSummary;
  paths: ReportPaths;
}

/** What the balancer does when RETRIES is not set. */
const RETRIES_DEFAULT = 'true';

/**
 * Every upstream the balancer lists, and every `expected` one, in rotation (less `excluded`), and
 * the balancer's retries as the demo wants them (it says so in its status).
 */
function poolInRotation(
  adminPort: number,
  retries: boolean,
  expected: Iterable<string>,
  excluded?: ReadonlySet<string>,
) {
  return async (): Promise<string | null> => {
    const status = await readLbStatus(adminPort, 1000);
    if (status.retries !== null && status.retries !== retries) {
      return `the balancer's retries are still ${status.retries ? 'on' : 'off'}`;
    }
    if (status.upstreams.length === 0) return 'the balancer lists no upstream';
    const missing = notInRotation(status.upstreams, expected, excluded);
    return missing.length === 0 ? null : `not in rotation: ${missing.join(', ')}`;
  };
}

/**
 * The apps the demo needs: the balancer, the members of its pool, and whatever else the schedule
 * names. Their ports come from the ecosystem file, as `pm2 start` would see them.
 */
function demoApps(config: DemoConfig) {
  const apps = loadFleetApps(processEnv(), config.portOffset);
  const balancer = apps.find((a) => a.role === 'balancer');
  if (balancer?.adminPort == null) {
    throw new InternalError('ERR_DEMO_FLEET', 'the ecosystem file has no balancer with an admin port');
  }
  // The balancer's LB_POOL names the pool it serves; the backends' LB_POOL says they belong to it.
  const pool = balancer.config.env?.LB_POOL ?? null;
  const scheduled = new Set(config.schedule.filter((a) => a.action !== 'slow-clients').map((a) => a.app));
  const names = apps
    .filter((a) => a === balancer || (pool !== null && a.pool === pool) || scheduled.has(a.name))
    .map((a) => a.name);
  return { balancer, adminPort: balancer.adminPort, names };
}

/**
 * Run the demo. When `signal` aborts (Ctrl-C), the load and the schedule stop, the report of what
 * ran is still written (and fails: fewer requests were sent than planned), and everything is put back.
 */
export async function runDemo(
  config: DemoConfig,
  logger: Logger,
  print: (line: string) => void,
  signal?: AbortSignal,
): Promise<DemoResult> {
  const { balancer, adminPort, names } = demoApps(config);
  const cleanups = new Cleanups(logger);
  try {
    throwIfInterrupted(signal);
    const fleet = await ensureFleet({
      portOffset: config.portOffset,
      logger,
      pm2Home: config.pm2Home,
      only: names,
    });
    cleanups.add('stop the apps the demo started', () => fleet.stop());
    if (fleet.startedByUs.length > 0) logger.info(`started ${fleet.startedByUs.join(', ')} for the demo`);

    const pm2 = await DemoSupervisor.connect(config.pm2Home);
    cleanups.add('disconnect from PM2', () => pm2.disconnect());
    const apps = new Map((await pm2.list()).map((a) => [a.name, a]));
    const targets = config.schedule
      .filter((a) => a.action !== 'slow-clients')
      .map(pm2AppOf)
      .filter((name) => name !== null);
    const problems = [...new Set(targets)].flatMap((name) => {
      const app = apps.get(name);
      if (app === undefined) return [`PM2 has no app named ${name}`];
      return app.status === 'online' ? [] : [`${name} is ${app.status}; the schedule expects it online`];
    });
    if (problems.length > 0)
      throw new InternalError('ERR_DEMO_FLEET', `cannot run the schedule: ${problems.join('; ')}`);

    if (!config.retries) {
      const before = apps.get(balancer.name)?.env.RETRIES ?? RETRIES_DEFAULT;
      logger.info(`restarting ${balancer.name} with RETRIES=false for the demo (it was ${before})`);
      await pm2.restartWithEnv(balancer.name, { RETRIES: 'false' });
      cleanups.add(`restore ${balancer.name}'s RETRIES=${before}`, async () => {
        logger.info(`restarting ${balancer.name} with RETRIES=${before} again`);
        await pm2.restartWithEnv(balancer.name, { RETRIES: before });
      });
    }

    const scheduled = new Set(targets);
    logger.info(`waiting for every backend to be in rotation (admin port ${adminPort})`);
    await waitUntil(
      'the whole pool in rotation',
      config.settleTimeoutMs,
      poolInRotation(adminPort, config.retries, []),
      signal,
    );
    const initialPool = (await readLbStatus(adminPort, 1000)).upstreams.map((u) => u.name);
    const relevant = (list: Pm2App[]) =>
      list.filter((a) => scheduled.has(a.name) || initialPool.includes(a.name));
    const appsBefore = relevant(await pm2.list());

    const { summary, paths } = await runUnderLoad(
      {
        config,
        url: `http://127.0.0.1:${balancer.port}${config.path}`,
        adminPort,
        schedule: config.schedule,
        portOffset: config.portOffset,
        actions: new FleetActions({
          pm2,
          balancer: balancer.name,
          apps: fleet.apps,
          logger,
          adminPort,
          timeoutMs: config.settleTimeoutMs,
          slowClients: (count) =>
            runSlowClients(count, { host: '127.0.0.1', port: balancer.port, ...SLOW_CLIENT_DEFAULTS }),
        }),
        watch: (record) => pm2.watch((e) => record(e.app, e.event)),
        // The pool that was there before the load, less what the schedule leaves stopped.
        poolPending: poolInRotation(adminPort, config.retries, initialPool, leftStopped(config.schedule)),
        afterInterrupt: 'putting everything back',
        apps: { before: appsBefore, after: async () => relevant(await pm2.list()) },
      },
      { logger, print, signal },
    );
    print(`Report: ${paths.markdown}, ${paths.json}, ${paths.svg}`);
    return { summary, paths };
  } finally {
    await cleanups.runAll();
  }
}
