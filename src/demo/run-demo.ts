/**
 * The operations demo, start to end: make sure the fleet runs, wait for the whole pool to be in
 * rotation, run the load and the schedule together while reading the balancer's status and PM2's
 * events, print a line per second, wait for the pool to recover, and write the report. Whatever it
 * changed (the balancer's retries, apps it started) is put back, also when something fails.
 */
import { InternalError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DemoConfig } from './config.js';
import { processEnv } from '../config/process-input.js';
import { DemoSupervisor } from './demo-supervisor.js';
import { loadFleetApps } from '../fleet/ecosystem.js';
import { ensureFleet } from '../fleet/fleet.js';
import type { Pm2App } from '../supervisor/pm2-client.js';
import { runSchedule } from './action-runner.js';
import { runSlowClients, SLOW_CLIENT_DEFAULTS } from './slow-clients.js';
import { formatSummary, formatTimelineLine, TIMELINE_HEADER, formatSettings } from './format-text.js';
import { notInRotation } from './lb-status.js';
import { plannedRequests, runLoad } from './load-runner.js';
import { writeDemoReport, type ReportPaths } from './report-files.js';
import { FleetActions } from './fleet-actions.js';
import { leftStopped, pm2AppOf } from './schedule.js';
import { pollLbStatus, readLbStatus } from './status-poller.js';
import { buildSummary, type DemoSettings, type DemoSummary } from './summary.js';
import { TimelineRecorder } from './timeline.js';
import { pause, throwIfInterrupted, waitUntil } from './wait-until.js';

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
  const url = `http://127.0.0.1:${balancer.port}${config.path}`;
  const settings: DemoSettings = {
    url,
    durationMs: config.durationMs,
    rate: config.rate,
    concurrency: config.concurrency,
    retries: config.retries,
    schedule: config.schedule,
    statusIntervalMs: config.statusIntervalMs,
    portOffset: config.portOffset,
  };
  const cleanups: { what: string; run: () => Promise<void> }[] = [];
  try {
    throwIfInterrupted(signal);
    const fleet = await ensureFleet({
      portOffset: config.portOffset,
      logger,
      pm2Home: config.pm2Home,
      only: names,
    });
    cleanups.push({ what: 'stop the apps the demo started', run: () => fleet.stop() });
    if (fleet.startedByUs.length > 0) logger.info(`started ${fleet.startedByUs.join(', ')} for the demo`);

    const pm2 = await DemoSupervisor.connect(config.pm2Home);
    cleanups.push({ what: 'disconnect from PM2', run: () => pm2.disconnect() });
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
      cleanups.push({
        what: `restore ${balancer.name}'s RETRIES=${before}`,
        run: async () => {
          logger.info(`restarting ${balancer.name} with RETRIES=${before} again`);
          await pm2.restartWithEnv(balancer.name, { RETRIES: before });
        },
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
    const appsBefore = await pm2.list();

    const recorder = new TimelineRecorder();
    let t0 = Date.now();
    const clock = () => Date.now() - t0;
    await pm2.watch((e) => recorder.addPm2Event({ atMs: clock(), app: e.app, event: e.event }));

    print(formatSettings({ settings }));
    print(TIMELINE_HEADER);
    t0 = Date.now();
    const poller = pollLbStatus(adminPort, config.statusIntervalMs, clock, (s) => recorder.addSample(s));
    cleanups.push({ what: 'stop reading the status', run: () => poller.stop() });
    const load = runLoad(
      {
        url,
        rate: config.rate,
        concurrency: config.concurrency,
        durationMs: config.durationMs,
        requestTimeoutMs: config.requestTimeoutMs,
      },
      clock,
      { sent: () => recorder.addSent(), outcome: (o) => recorder.addOutcome(o) },
    );
    const actions = new FleetActions({
      pm2,
      balancer: balancer.name,
      apps: fleet.apps,
      logger,
      adminPort,
      timeoutMs: config.settleTimeoutMs,
      slowClients: (count) =>
        runSlowClients(count, { host: '127.0.0.1', port: balancer.port, ...SLOW_CLIENT_DEFAULTS }),
    });
    const schedule = runSchedule(
      config.schedule,
      actions,
      clock,
      (record) => recorder.addAction(record),
      (entry, startedAtMs) => recorder.addActionStart({ ...entry, startedAtMs }),
    );
    const interrupt = () => {
      logger.warn('interrupted: stopping the load and the schedule, then putting everything back');
      schedule.cancel();
      load.abort('interrupted');
    };
    if (signal?.aborted === true) interrupt();
    else signal?.addEventListener('abort', interrupt, { once: true });
    cleanups.push({
      what: 'stop listening for an interruption',
      run: () => Promise.resolve(signal?.removeEventListener('abort', interrupt)),
    });

    // One line per second, printed just after the second ends (answers are counted when they end).
    let printed = 0;
    let loadDone = false;
    const loadResult = load.done.finally(() => (loadDone = true));
    while (!loadDone) {
      await Promise.race([pause(Math.max(0, (printed + 1) * 1000 + 50 - clock())), loadResult]);
      while (clock() >= (printed + 1) * 1000 + 50) print(formatTimelineLine(recorder.row(printed++), true));
    }
    await loadResult;
    schedule.cancel();
    await schedule.done;

    // Keep reading until the pool is whole again, so every return to rotation is measured.
    const stayStopped = leftStopped(config.schedule);
    logger.info('load done; waiting for the pool to be whole again');
    try {
      await waitUntil(
        'the pool to be whole again',
        config.settleTimeoutMs,
        poolInRotation(adminPort, config.retries, initialPool, stayStopped),
        signal,
      );
      await pause(config.statusIntervalMs * 2);
    } catch (err) {
      logger.warn(errorMessage(err));
    }
    await poller.stop();
    const rows = recorder.rows(Math.ceil(config.durationMs / 1000));
    for (; printed < rows.length; printed++) {
      const row = rows[printed];
      if (row !== undefined) print(formatTimelineLine(row, true));
    }
    const appsAfter = await pm2.list();
    const relevant = (list: Pm2App[]) =>
      list.filter((a) => scheduled.has(a.name) || initialPool.includes(a.name));

    const summary = buildSummary({
      startedAt: new Date(t0),
      settings,
      planned: plannedRequests(config),
      totals: recorder.totals(),
      actions: recorder.actionRecords(),
      samples: recorder.poolSamples(),
      pm2Events: recorder.pm2Events(),
      appsBefore: relevant(appsBefore),
      appsAfter: relevant(appsAfter),
      failures: recorder.failures(),
    });
    const paths = await writeDemoReport(config.outDir, {
      summary,
      timeline: rows,
      poolSamples: recorder.poolSamples(),
      pm2Events: recorder.pm2Events(),
    });
    print(formatSummary(summary));
    print(`Report: ${paths.markdown}, ${paths.json}, ${paths.svg}`);
    return { summary, paths };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup.run();
      } catch (err) {
        logger.warn(`could not ${cleanup.what}: ${errorMessage(err)}`);
      }
    }
  }
}
