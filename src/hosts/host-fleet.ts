/**
 * One test host's PM2: its own PM2_HOME, a daemon launched inside the host's namespace (so every
 * app it starts lives there too), the project's real backends listening on the host's address, and
 * the registrar writing them into etcd. Driven through the local pm2 CLI, run in the namespace:
 * PM2's client library keeps one PM2_HOME per process, and a lab has several.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/common.js';
import { processEnv } from '../config/process-input.js';
import { InternalError } from '../errors.js';
import { runCommand, type CommandResult } from './command.js';
import type { HostLink } from './network.js';

const PM2_BIN = path.join(PROJECT_ROOT, 'node_modules', 'pm2', 'bin', 'pm2');
const DIST = path.join(PROJECT_ROOT, 'dist', 'src');

export interface RegistrarSettings {
  endpoints: readonly string[];
  prefix: string;
  pool: string;
  leaseTtlS: number;
  keepaliveMs: number;
}

export interface BackendApp {
  name: string;
  port: number;
}

interface Pm2JlistEntry {
  name: string;
  pid: number;
  pm2_env: { status: string };
}

/** The environment for a pm2 CLI: none of what makes a child pm2 act as an embedded API. */
function cliEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(processEnv())) {
    if (value === undefined || key === 'PM2_PROGRAMMATIC' || key === 'PM2_JSON_PROCESSING' || key === 'pm_id')
      continue;
    env[key] = value;
  }
  return { ...env, PM2_HOME: home };
}

export class HostFleet {
  private constructor(
    readonly host: HostLink,
    readonly home: string,
  ) {}

  /** A short PM2_HOME (unix socket paths are limited to ~100 bytes) in `parent`. */
  static async create(host: HostLink, parent: string): Promise<HostFleet> {
    const home = path.join(parent, `pm2-${host.name}`);
    await fs.mkdir(home, { recursive: true });
    return new HostFleet(host, home);
  }

  /** The pm2 CLI against this host's daemon, run inside the host (the first call launches it there). */
  pm2(args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
    return runCommand('ip', ['netns', 'exec', this.host.netns, process.execPath, PM2_BIN, ...args], {
      env: cliEnv(this.home),
      cwd: PROJECT_ROOT,
      timeoutMs,
    });
  }

  private async mustPm2(args: readonly string[], timeoutMs?: number): Promise<string> {
    const result = await this.pm2(args, timeoutMs);
    if (result.code !== 0) {
      throw new InternalError(
        'ERR_HOSTS_PM2',
        `pm2 ${args.join(' ')} on ${this.host.name}: ${result.stderr.trim() || result.stdout.trim()}`,
      );
    }
    return result.stdout;
  }

  async jlist(): Promise<Pm2JlistEntry[]> {
    const result = await this.pm2(['jlist'], 15_000);
    try {
      return JSON.parse(result.stdout) as Pm2JlistEntry[];
    } catch {
      return [];
    }
  }

  /** Start apps from an ecosystem file written into the home (PM2 reads .json ones). */
  async startApps(file: string, apps: readonly Record<string, unknown>[]): Promise<void> {
    const target = path.join(this.home, file);
    await fs.writeFile(target, JSON.stringify({ apps }, null, 2));
    await this.mustPm2(['start', target]);
  }

  /** What every app on a test host has: fork mode, restarts, its logs in the home. */
  appDefaults(name: string): Record<string, unknown> {
    return {
      name,
      cwd: PROJECT_ROOT,
      exec_mode: 'fork',
      autorestart: true,
      max_restarts: 10,
      min_uptime: 1000,
      kill_timeout: 3000,
      out_file: path.join(this.home, `${name}.out.log`),
      error_file: path.join(this.home, `${name}.err.log`),
      merge_logs: true,
      pmx: false,
    };
  }

  /** The project's event-loop backends on this host's address, members of `pool`. */
  async startBackends(backends: readonly BackendApp[], pool: string): Promise<void> {
    await this.startApps(
      `backends-${backends.map((b) => b.port).join('-')}.json`,
      backends.map((b) => ({
        ...this.appDefaults(b.name),
        script: path.join(DIST, 'backend.js'),
        wait_ready: true,
        listen_timeout: 8000,
        env: {
          PORT: String(b.port),
          HOST: this.host.address,
          NAME: `${this.host.name}-${b.name}`,
          LB_POOL: pool,
          GRACE_MS: '500',
          LOG_LEVEL: 'warn',
        },
      })),
    );
  }

  async startRegistrar(settings: RegistrarSettings, name = 'registrar'): Promise<void> {
    await this.startApps(`${name}.json`, [
      {
        ...this.appDefaults(name),
        script: path.join(DIST, 'registrar.js'),
        wait_ready: true,
        listen_timeout: 15_000,
        min_uptime: 500,
        restart_delay: 500,
        env: {
          ETCD_ENDPOINTS: settings.endpoints.join(','),
          ETCD_PREFIX: settings.prefix,
          ETCD_KEEPALIVE: String(settings.keepaliveMs),
          ETCD_TIMEOUT: '1000',
          REGISTRAR_POOL: settings.pool,
          REGISTRAR_HOST: this.host.name,
          REGISTRAR_ADDRESS: this.host.address,
          REGISTRAR_LEASE_TTL: String(settings.leaseTtlS),
          RECONCILE_MS: '1000',
          NAME: name,
          LOG_LEVEL: 'info',
        },
      },
    ]);
  }

  async stop(app: string): Promise<void> {
    await this.mustPm2(['stop', app]);
  }

  async start(app: string): Promise<void> {
    await this.mustPm2(['start', app]);
  }

  async restart(app: string): Promise<void> {
    await this.mustPm2(['restart', app]);
  }

  /** What an app logged (the registrar's lines, a balancer's, for tests and the demos' notes). */
  async appLog(name: string): Promise<string> {
    const read = (f: string) => fs.readFile(path.join(this.home, f), 'utf8').catch(() => '');
    return `${await read(`${name}.out.log`)}${await read(`${name}.err.log`)}`;
  }

  registrarLog(name = 'registrar'): Promise<string> {
    return this.appLog(name);
  }

  /** `pm2 kill`: the daemon and every app. What survives is the namespace cleanup's to SIGKILL. */
  async kill(): Promise<void> {
    await killPm2Home(this.home);
  }
}

/** `pm2 kill` against a PM2_HOME, if a daemon ever ran there (hosts:down finds them in its notes). */
export async function killPm2Home(home: string): Promise<void> {
  try {
    await fs.access(path.join(home, 'pm2.pid'));
  } catch {
    return;
  }
  await runCommand(process.execPath, [PM2_BIN, 'kill'], {
    env: cliEnv(home),
    cwd: PROJECT_ROOT,
    timeoutMs: 30_000,
  });
}
