/**
 * "Make sure the fleet runs", for the benchmark, the demo and `npm start`: probe every app of
 * ecosystem.config.cjs (at a port offset), start through PM2 only what is missing, wait until all
 * are online and healthy, and hand back a Fleet whose stop() undoes exactly what this call did.
 * A fleet someone already runs is used as it is and left alone.
 *
 * PM2 app names are unique only within a namespace: the fleet's apps are found by name *and*
 * namespace, and acted on by pm_id, so another project's `balancer` in the same daemon is never
 * taken for ours, restarted or deleted.
 */
import fs from 'node:fs/promises';
import { SupervisorError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { processEnv } from '../config/process-input.js';
import { currentPm2Home } from '../supervisor/config.js';
import { readBalancerStatus } from '../balancer/status-reader.js';
import type { UpstreamStatus } from '../balancer/status.js';
import { loadFleetApps, type FleetApp } from './ecosystem.js';
import { probe, type ProbeResult } from './health-probe.js';
import { withPm2, type Pm2App } from '../supervisor/pm2-client.js';

export type { FleetApp, FleetRole } from './ecosystem.js';

export interface EnsureFleetOptions {
  /** PORT_OFFSET of the fleet (0: the assignment's ports). */
  portOffset: number;
  logger: Logger;
  /** The PM2 daemon to use; default this process's PM2_HOME, or ~/.pm2. */
  pm2Home?: string;
  /** Only these apps (by name); default the whole ecosystem. */
  only?: readonly string[];
  /** Extra environment for the apps this call starts (LOG_FORMAT, LOG_LEVEL, FLEET_LOG_DIR...). */
  env?: Readonly<Record<string, string>>;
  /** How long to wait for every app to be online and healthy (default 60 s). */
  timeoutMs?: number;
}

export interface Fleet {
  /** Apps this call started; stop() stops and deletes them. */
  startedByUs: string[];
  /** Apps PM2 had as stopped or errored that this call restarted; stop() stops them again. */
  restartedByUs: string[];
  /** Every app of the fleet (or of `only`), all healthy when ensureFleet resolved. */
  apps: FleetApp[];
  pm2Home: string;
  /** The app with this name; throws when the fleet has none. */
  app(name: string): FleetApp;
  /** Undo what ensureFleet did (nothing when it found the fleet running). Safe to call twice. */
  stop(): Promise<void>;
}

const PROBE_TIMEOUT_MS = 1000;
const POLL_MS = 200;

/** A server's /healthz names the server: a different name means another program holds the port. */
function impostor(app: FleetApp, result: ProbeResult): string | null {
  if (app.role === 'balancer' || !result.ok) return null;
  const name = (result.json as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name !== app.name
    ? `port ${app.port} is served by "${name}", not ${app.name}`
    : null;
}

/**
 * Pure: PM2's entries of these fleet apps, by name. Same name and same namespace: an app of another
 * namespace with the same name is someone else's.
 */
export function pm2EntriesOf(apps: readonly FleetApp[], pm2Apps: readonly Pm2App[]): Map<string, Pm2App> {
  const ours = pm2Apps.filter((p) => apps.some((a) => a.name === p.name && a.namespace === p.namespace));
  return new Map(ours.map((p) => [p.name, p]));
}

/**
 * Pure: the fleet apps whose name PM2 already has in another namespace only. PM2 starts an
 * ecosystem entry by name across namespaces (it would restart that other app, with our env), so
 * such an app cannot be started; returns why, or null.
 */
export function nameClashes(apps: readonly FleetApp[], pm2Apps: readonly Pm2App[]): string | null {
  const ours = pm2EntriesOf(apps, pm2Apps);
  const clashes = apps.flatMap((a) =>
    ours.has(a.name)
      ? []
      : pm2Apps.filter((p) => p.name === a.name).map((p) => `${a.name} (pm2 namespace ${p.namespace})`),
  );
  return clashes.length === 0
    ? null
    : `PM2 already runs an app of the same name in another namespace: ${clashes.join(', ')}; ` +
        'PM2 would restart it instead of starting ours, so nothing was started';
}

async function probeAll(apps: readonly FleetApp[]): Promise<Map<string, ProbeResult>> {
  const results = await Promise.all(apps.map((app) => probe(app.healthUrl, PROBE_TIMEOUT_MS)));
  return new Map(apps.map((app, i) => [app.name, results[i] as ProbeResult]));
}

async function tail(file: string | null, lines: number): Promise<string[]> {
  if (file === null) return [];
  try {
    const text = await fs.readFile(file, 'utf8');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-lines);
  } catch {
    return [];
  }
}

/** Why an app is not healthy, with its PM2 status and the end of its logs. */
async function explain(app: FleetApp, result: ProbeResult | undefined, pm2App: Pm2App | undefined) {
  const status = pm2App === undefined ? 'not in PM2' : `pm2 ${pm2App.status}, ${pm2App.restarts} restarts`;
  const logs = [
    ...(await tail(pm2App?.outLogPath ?? null, 3)),
    ...(await tail(pm2App?.errLogPath ?? null, 3)),
  ];
  return (
    `${app.name} (${app.healthUrl}): ${result?.problem ?? 'not probed'}; ${status}` +
    logs.map((l) => `\n      | ${l}`).join('')
  );
}

export async function ensureFleet(options: EnsureFleetOptions): Promise<Fleet> {
  const { logger, portOffset } = options;
  const pm2Home = options.pm2Home ?? currentPm2Home();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const all = loadFleetApps({ ...processEnv(), ...options.env }, portOffset);
  const apps = options.only === undefined ? all : all.filter((a) => options.only?.includes(a.name));
  const unknown = (options.only ?? []).filter((name) => !all.some((a) => a.name === name));
  if (unknown.length > 0) {
    throw new SupervisorError(
      'ERR_FLEET_UNKNOWN_APP',
      `the ecosystem has no app named ${unknown.join(', ')}`,
    );
  }

  const fleet = (startedByUs: string[], restartedByUs: string[]): Fleet => {
    let stopping: Promise<void> | null = null;
    return {
      startedByUs,
      restartedByUs,
      apps,
      pm2Home,
      app(name) {
        const found = apps.find((a) => a.name === name);
        if (found === undefined) throw new SupervisorError('ERR_FLEET_UNKNOWN_APP', `no app named ${name}`);
        return found;
      },
      stop() {
        stopping ??= undo(pm2Home, apps, startedByUs, restartedByUs, logger);
        return stopping;
      },
    };
  };

  const first = await probeAll(apps);
  const taken = apps.map((a) => impostor(a, first.get(a.name) as ProbeResult)).filter((p) => p !== null);
  if (taken.length > 0) throw new SupervisorError('ERR_FLEET_PORT_TAKEN', taken.join('; '));
  const missing = apps.filter((a) => first.get(a.name)?.ok !== true);
  if (missing.length === 0) {
    logger.info(`fleet already running at PORT_OFFSET=${portOffset}: ${apps.length} apps healthy`, {
      event: 'fleet-ready',
      startedByUs: [],
    });
    return fleet([], []);
  }

  const startedByUs: string[] = [];
  const restartedByUs: string[] = [];
  try {
    await withPm2({ pm2Home }, async (pm2) => {
      const listed = await pm2.list();
      const known = pm2EntriesOf(apps, listed);
      const clash = nameClashes(missing, listed);
      if (clash !== null) throw new SupervisorError('ERR_FLEET_NAME_TAKEN', clash);
      const toStart = missing.filter((a) => !known.has(a.name));
      // Stopped or errored apps PM2 already has are restarted; online/launching ones are coming up.
      const toRestart = missing.filter((a) => {
        const status = known.get(a.name)?.status;
        return status !== undefined && status !== 'online' && status !== 'launching';
      });
      if (toStart.length > 0) {
        logger.info(`starting ${toStart.map((a) => a.name).join(', ')} under PM2 (PM2_HOME ${pm2Home})`, {
          event: 'fleet-start',
          apps: toStart.map((a) => a.name),
        });
        // Recorded first: a start that fails half way must still be undone.
        startedByUs.push(...toStart.map((a) => a.name));
        await pm2.start(
          toStart.map((a) => a.config),
          timeoutMs,
        );
      }
      for (const app of toRestart) {
        logger.info(`restarting ${app.name} (pm2 had it ${known.get(app.name)?.status ?? '?'})`, {
          event: 'fleet-restart',
          app: app.name,
        });
        restartedByUs.push(app.name);
        await pm2.restart((known.get(app.name) as Pm2App).pmId);
      }
      await waitHealthy(apps, timeoutMs, async () => pm2EntriesOf(apps, await pm2.list()));
    });
  } catch (err) {
    await undo(pm2Home, apps, startedByUs, restartedByUs, logger).catch((undoErr: unknown) =>
      logger.warn(`could not undo the partial start: ${errorMessage(undoErr)}`, {
        event: 'fleet-undo-failed',
      }),
    );
    if (err instanceof SupervisorError) throw err;
    throw new SupervisorError('ERR_FLEET_START', `could not start the fleet: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  logger.info(
    `fleet ready at PORT_OFFSET=${portOffset}: started ${startedByUs.length + restartedByUs.length}, ` +
      `${apps.length} apps healthy`,
    { event: 'fleet-ready', startedByUs, restartedByUs },
  );
  return fleet(startedByUs, restartedByUs);
}

/**
 * Pure: is every backend of the fleet in the balancer's pool and available, according to its
 * /__lb/status? Returns what is missing, or null when the pool is complete.
 */
export function poolShortfall(status: unknown, backends: readonly string[]): string | null {
  let upstreams: UpstreamStatus[];
  try {
    upstreams = readBalancerStatus(status).upstreams;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  const inRotation = (name: string) => upstreams.some((u) => u.name === name && u.available);
  const missing = backends.filter((name) => !inRotation(name));
  return missing.length === 0 ? null : `not yet in rotation: ${missing.join(', ')}`;
}

/**
 * Poll until every app answers its health check and the balancer has every backend in rotation;
 * fail early when PM2 gives an app up (errored).
 */
async function waitHealthy(
  apps: readonly FleetApp[],
  timeoutMs: number,
  list: () => Promise<Map<string, Pm2App>>,
) {
  const deadline = Date.now() + timeoutMs;
  const backends = apps.filter((a) => a.role === 'backend').map((a) => a.name);
  const balancer = apps.find((a) => a.role === 'balancer');
  for (;;) {
    const results = await probeAll(apps);
    if (balancer?.statusUrl && results.get(balancer.name)?.ok === true && backends.length > 0) {
      const status = await probe(balancer.statusUrl, PROBE_TIMEOUT_MS);
      const shortfall = status.ok ? poolShortfall(status.json, backends) : status.problem;
      if (shortfall !== null) results.set(balancer.name, { ...status, ok: false, problem: shortfall });
    }
    const sick = apps.filter((a) => results.get(a.name)?.ok !== true);
    if (sick.length === 0) return;
    const pm2Apps = await list();
    const errored = sick.filter((a) => pm2Apps.get(a.name)?.status === 'errored');
    if (errored.length > 0 || Date.now() > deadline) {
      const reasons = await Promise.all(
        (errored.length > 0 ? errored : sick).map((a) =>
          explain(a, results.get(a.name), pm2Apps.get(a.name)),
        ),
      );
      const what = errored.length > 0 ? 'PM2 gave up on' : `not healthy after ${timeoutMs} ms:`;
      throw new SupervisorError('ERR_FLEET_START', `${what}\n    ${reasons.join('\n    ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Stop and delete what we started, stop what we restarted (found by name and namespace, acted on
 * by pm_id); an app no longer in PM2 has nothing to undo. Try everything, then report.
 */
async function undo(
  pm2Home: string,
  apps: readonly FleetApp[],
  started: readonly string[],
  restarted: readonly string[],
  logger: Logger,
) {
  if (started.length === 0 && restarted.length === 0) return;
  const failures: string[] = [];
  const attempt = (what: string, action: Promise<void>) =>
    action.catch((err: unknown) => {
      failures.push(`${what}: ${errorMessage(err)}`);
    });
  try {
    await withPm2({ pm2Home, launchDaemon: false }, async (pm2) => {
      const ours = pm2EntriesOf(apps, await pm2.list());
      const act = (name: string, what: 'delete' | 'stop') => {
        const entry = ours.get(name);
        if (entry === undefined) return Promise.resolve();
        return attempt(`${what} ${name}`, what === 'delete' ? pm2.delete(entry.pmId) : pm2.stop(entry.pmId));
      };
      await Promise.all([
        ...started.map((name) => act(name, 'delete')),
        ...restarted.map((name) => act(name, 'stop')),
      ]);
    });
  } catch (err) {
    // No daemon, nothing of ours left running under it.
    if (err instanceof SupervisorError && err.code === 'ERR_PM2_DAEMON_DOWN') return;
    throw err;
  }
  logger.info(`stopped what this run started: ${[...started, ...restarted].join(', ')}`, {
    event: 'fleet-stopped',
  });
  if (failures.length > 0) {
    throw new SupervisorError('ERR_FLEET_STOP', `could not undo everything: ${failures.join('; ')}`);
  }
}
