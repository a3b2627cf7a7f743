/**
 * ecosystem.config.cjs, read from TypeScript: the fleet's apps for a given environment (a port
 * offset), typed and checked, with where each one answers its health check. The file stays the
 * single description of the fleet; this module only reads it.
 */
import { createRequire } from 'node:module';
import { ConfigError } from '../errors.js';
import { ECOSYSTEM_FILE } from '../config/common.js';
import type { Pm2AppConfig } from '../supervisor/pm2-client.js';

export type FleetRole = 'backend' | 'async' | 'threaded' | 'balancer';

/** One app of the fleet. */
export interface FleetApp {
  name: string;
  /** Its PM2 namespace: with the name, what tells it from another project's app of the same name. */
  namespace: string;
  role: FleetRole;
  /** The port it serves on (the balancer's public port). */
  port: number;
  /** The balancer's admin port (status, dashboard); null for the others. */
  adminPort: number | null;
  /** Member of this balancer pool (LB_POOL), or null. */
  pool: string | null;
  /** GET this; 200 means the app is up and serving (the balancer's is on its admin port). */
  healthUrl: string;
  /** The balancer's pool as JSON (GET /__lb/status on its admin port); null for the others. */
  statusUrl: string | null;
  /** What PM2 gets to start it. */
  config: Pm2AppConfig;
}

type BuildApps = (env: Readonly<Record<string, string | undefined>>) => unknown;

function loadBuildApps(file: string): BuildApps {
  const required: unknown = createRequire(import.meta.url)(file);
  const build = (required as { buildApps?: unknown }).buildApps;
  if (typeof build !== 'function') {
    throw new ConfigError([`${file} does not define buildApps(env)`]);
  }
  return build as BuildApps;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string')
  );
}

function portOf(env: Record<string, string>, key: string, app: string, problems: string[]): number {
  const port = Number(env[key]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push(`app ${app}: env ${key} (${env[key] ?? 'unset'}) is not a port`);
  }
  return port;
}

/** Pure: the typed fleet from what buildApps returned. Throws ConfigError listing every problem. */
export function toFleetApps(raw: unknown, healthHost = '127.0.0.1'): FleetApp[] {
  if (!Array.isArray(raw)) throw new ConfigError(['the ecosystem has no list of apps']);
  const problems: string[] = [];
  const apps: FleetApp[] = [];
  for (const [i, entry] of raw.entries()) {
    const config = entry as Partial<Pm2AppConfig> | null;
    if (
      config === null ||
      typeof config.name !== 'string' ||
      typeof config.script !== 'string' ||
      !isStringRecord(config.env)
    ) {
      problems.push(`app #${i + 1} needs a name, a script and an env of strings`);
      continue;
    }
    const { name, script, env } = config;
    const port = portOf(env, 'PORT', name, problems);
    const pool = env.LB_POOL !== undefined && env.LB_POOL !== '' ? env.LB_POOL : null;
    let role: FleetRole;
    if (script.endsWith('balancer.js')) role = 'balancer';
    else if (script.endsWith('threaded.js')) role = 'threaded';
    else role = pool === null ? 'async' : 'backend';
    const adminPort = role === 'balancer' ? portOf(env, 'ADMIN_PORT', name, problems) : null;
    const healthUrl = `http://${healthHost}:${adminPort ?? port}/healthz`;
    const statusUrl = role === 'balancer' ? `http://${healthHost}:${adminPort}/__lb/status` : null;
    apps.push({
      name,
      namespace: config.namespace ?? 'default',
      role,
      port,
      adminPort,
      pool: role === 'balancer' ? null : pool,
      healthUrl,
      statusUrl,
      config: config as Pm2AppConfig,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return apps;
}

/**
 * The fleet as ecosystem.config.cjs describes it for `env` with PORT_OFFSET replaced by
 * `portOffset` (env is the environment `pm2 start` would run in: LOG_LEVEL, GRACE_MS...).
 */
export function loadFleetApps(
  env: Readonly<Record<string, string | undefined>>,
  portOffset: number,
  file: string = ECOSYSTEM_FILE,
): FleetApp[] {
  let raw: unknown;
  try {
    raw = loadBuildApps(file)({ ...env, PORT_OFFSET: String(portOffset) });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([err instanceof Error ? err.message : String(err)], { cause: err });
  }
  return toFleetApps(raw);
}
