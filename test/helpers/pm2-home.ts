/**
 * A throwaway PM2 daemon for one test: a short PM2_HOME under /tmp (unix socket paths are limited
 * to ~100 bytes), the local pm2 CLI bound to it, and a cleanup registered with `t.after` that runs
 * `pm2 kill`, SIGKILLs anything that survived, and fails the test if a process was left behind.
 * Also: a PORT_OFFSET under which every port of the fleet is free right now, and both together
 * for a test of the fleet.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { DEFAULT_PORTS } from '../../src/config/common.js';
import type { Pm2AppConfig } from '../../src/supervisor/pm2-client.js';
import { ROOT } from './processes.js';
import { waitFor } from './wait.js';

const PM2_BIN = path.join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Pm2Home {
  home: string;
  /** Environment for anything that must talk to this daemon (the CLI, a balancer outside PM2). */
  env: Record<string, string>;
  /** Run the local `pm2` CLI against this home. */
  pm2(args: readonly string[], extraEnv?: Record<string, string>, timeoutMs?: number): Promise<CliResult>;
  /** `pm2 jlist`, parsed (empty when no daemon answers). */
  jlist(): Promise<JlistEntry[]>;
  daemonPid(): Promise<number | null>;
  /** Remember a pid the cleanup must find dead (apps started here are collected automatically). */
  track(pid: number): void;
  /** Kill the daemon and everything it ran; returns the pids that had to be SIGKILLed. */
  kill(): Promise<number[]>;
}

export interface JlistEntry {
  name: string;
  pid: number;
  pm_id: number;
  pm2_env: {
    status: string;
    namespace?: string;
    restart_time: number;
    unstable_restarts?: number;
    env?: Record<string, unknown>;
  };
}

/** The environment without what would make a child pm2 CLI behave as an embedded API (never exit). */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (key === 'PM2_PROGRAMMATIC' || key === 'PM2_JSON_PROCESSING' || key === 'pm_id') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Running (a zombie waiting to be reaped counts as gone). PM2 lists a process that is not running
 * with pid 0, and kill(0) would signal this whole process group: such a pid is never alive here.
 */
function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

export async function createPm2Home(t: TestContext): Promise<Pm2Home> {
  const home = await fs.mkdtemp('/tmp/pm2-');
  const env = cleanEnv({ PM2_HOME: home });
  const seen = new Set<number>();

  const pm2 = (args: readonly string[], extraEnv: Record<string, string> = {}, timeoutMs = 60_000) =>
    new Promise<CliResult>((resolve) => {
      const child = spawn(process.execPath, [PM2_BIN, ...args], {
        cwd: ROOT,
        env: { ...env, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });

  const daemonPid = async () => {
    try {
      const pid = Number((await fs.readFile(path.join(home, 'pm2.pid'), 'utf8')).trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  };

  const jlist = async (): Promise<JlistEntry[]> => {
    if ((await daemonPid()) === null) return [];
    const result = await pm2(['jlist'], {}, 15_000);
    try {
      const list = JSON.parse(result.stdout) as JlistEntry[];
      for (const entry of list) if (entry.pid > 0) seen.add(entry.pid);
      return list;
    } catch {
      return [];
    }
  };

  const kill = async (): Promise<number[]> => {
    const daemon = await daemonPid();
    if (daemon !== null) {
      seen.add(daemon);
      await jlist();
      await pm2(['kill'], {}, 30_000);
    }
    // `pm2 kill` returns when the daemon lets go of its socket, a moment before its process ends.
    await waitFor(() => [...seen].every((pid) => !alive(pid)), 'PM2 processes to exit', {
      timeoutMs: 5000,
    }).catch(() => undefined);
    const survivors = [...seen].filter(alive);
    for (const pid of survivors) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await waitFor(() => [...seen].every((pid) => !alive(pid)), 'every PM2 process to exit', {
      timeoutMs: 10_000,
    });
    return survivors;
  };

  t.after(async () => {
    const survivors = await kill();
    await fs.rm(home, { recursive: true, force: true });
    if (survivors.length > 0) {
      throw new Error(`processes outlived pm2 kill and were SIGKILLed: ${survivors.join(', ')}`);
    }
  });

  return { home, env, pm2, jlist, daemonPid, track: (pid) => (pid > 0 ? seen.add(pid) : seen), kill };
}

/** The fleet's ports at offset 0, in one list (the test files never spell them out). */
export const FLEET_PORTS: readonly number[] = [
  ...DEFAULT_PORTS.backends,
  DEFAULT_PORTS.balancer,
  DEFAULT_PORTS.admin,
  DEFAULT_PORTS.async,
  DEFAULT_PORTS.threaded,
];

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The kernel's range for listen(0) and outgoing connections; ports there may be taken any moment. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && high !== undefined && low > 0 && high >= low) return [low, high];
  } catch {
    // not Linux
  }
  return [32768, 60999];
}

const pick = (low: number, high: number) => low + Math.floor(Math.random() * (high - low + 1));

/**
 * A PORT_OFFSET (never 0) at which every fleet port is free now, preferring offsets that keep every
 * port out of the ephemeral range (where other tests' listen(0) could take it meanwhile). The one
 * place tests need the fixed layout: the ecosystem file is started as it is, just shifted.
 */
export async function findFreePortOffset(ports: readonly number[] = FLEET_PORTS): Promise<number> {
  const [low, high] = ephemeralRange();
  const maxOffset = 65_535 - Math.max(...ports);
  const quiet: number[] = [];
  for (let offset = 1000; offset <= maxOffset; offset++) {
    if (ports.every((p) => p + offset < low || p + offset > high)) quiet.push(offset);
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    const offset = quiet.length > 0 ? (quiet[pick(0, quiet.length - 1)] as number) : pick(1000, maxOffset);
    const free = await Promise.all(ports.map((p) => canBind(p + offset)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error('no PORT_OFFSET with every fleet port free after 100 tries');
}

/**
 * A PM2 home for a fleet test: the daemon, a PORT_OFFSET with every fleet port free, and the
 * environment ensureFleet gives the apps (their logs inside the home, warn level, this daemon).
 */
export async function createFleetHome(t: TestContext) {
  const pm2 = await createPm2Home(t);
  const offset = await findFreePortOffset();
  const logDir = path.join(pm2.home, 'fleet-logs');
  await fs.mkdir(logDir);
  const env = { FLEET_LOG_DIR: logDir, LOG_LEVEL: 'warn', PM2_HOME: pm2.home };
  return { pm2, offset, env };
}

/** `count` distinct free ports below the ephemeral range, for PM2 test apps that need a fixed PORT. */
export async function freePorts(count: number): Promise<number[]> {
  const [low] = ephemeralRange();
  const ports = new Set<number>();
  for (let attempt = 0; ports.size < count && attempt < 1000; attempt++) {
    const port = pick(20_000, Math.min(low, 32_000) - 1);
    if (!ports.has(port) && (await canBind(port))) ports.add(port);
  }
  if (ports.size < count) throw new Error(`could not find ${count} free ports`);
  return [...ports];
}

/**
 * Small stand-in apps for PM2 tests that need no real server, written into the test's PM2_HOME:
 *
 * - `server`: answers every request with its NAME, listens on PORT, sends 'ready' after listen; on
 *   SIGINT announces 'stopping' to PM2's bus (the project's own stopping-notice), keeps its port
 *   open `STOP_DELAY_MS` (default 300) longer, then exits 0.
 * - `crash`: exits with code 1 at once (a crash loop under autorestart).
 */
export async function writeFixtures(home: string): Promise<{ server: string; crash: string }> {
  const notice = path.join(ROOT, 'dist', 'src', 'http', 'stopping-notice.js');
  const server = path.join(home, 'fixture-server.mjs');
  const crash = path.join(home, 'fixture-crash.cjs');
  await fs.writeFile(
    server,
    `import http from 'node:http';
import { announceStopping } from ${JSON.stringify(notice)};
const name = process.env.NAME ?? 'fixture';
const server = http.createServer((req, res) => {
  res.setHeader('X-Served-By', name);
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ status: 'ok', name, pid: process.pid }));
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.send?.('ready'));
const stop = (signal) => {
  announceStopping(signal);
  setTimeout(() => server.close(() => process.exit(0)), Number(process.env.STOP_DELAY_MS ?? 300));
  server.closeIdleConnections();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
`,
  );
  await fs.writeFile(crash, 'process.exit(1);\n');
  return { server, crash };
}

/**
 * An app that runs writeFixtures' `server`: online once it listens (wait_ready), NAME and PORT
 * (0: any free port) in its env, plus what `env` and `extra` add.
 */
export function fixtureApp(
  script: string,
  name: string,
  env: Record<string, string> = {},
  extra: Partial<Pm2AppConfig> = {},
): Pm2AppConfig {
  return {
    name,
    script,
    wait_ready: true,
    listen_timeout: 5000,
    ...extra,
    env: { NAME: name, PORT: '0', ...env },
  };
}

/** SIGTERM these pids (apps orphaned by a killed daemon) and wait until they are gone. */
export async function terminate(all: readonly number[], timeoutMs = 5000): Promise<void> {
  const pids = all.filter((pid) => pid > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  try {
    await waitFor(() => pids.every((pid) => !alive(pid)), 'orphaned apps to exit', { timeoutMs });
  } catch {
    for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  }
}
