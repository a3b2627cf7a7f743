/**
 * The project's only door to PM2: a small promise wrapper over its callback API.
 *
 * - Every call has a deadline: PM2's RPC socket queues calls while the daemon is away instead of
 *   failing them, so without one a call can hang forever.
 * - Every error becomes a SupervisorError with a stable code and PM2's own error as `cause`
 *   (PM2 reports some errors as plain strings).
 * - `withPm2()` always disconnects, even when the work throws, so scripts and tests can exit.
 * - `launchDaemon: false` never starts a daemon: the PM2 discovery must not resurrect a daemon a
 *   person just killed. PM2's own `connect()` always launches one, so that mode pings the RPC
 *   socket itself and then opens PM2's RPC client directly.
 *
 * PM2 keeps its paths in one module-wide object, so one process should talk to one PM2_HOME at a
 * time (tests use one throwaway home per test file).
 */
import net from 'node:net';
import fs from 'node:fs/promises';
import path from 'node:path';
import pm2Module from 'pm2';
import { SupervisorError, errorMessage } from '../errors.js';
import { currentPm2Home } from './config.js';
import {
  toPm2Apps,
  toProcessEvent,
  toProcessMessage,
  type Pm2App,
  type Pm2ProcessEvent,
  type Pm2ProcessMessage,
} from './pm2-app.js';

export type { Pm2App, Pm2ProcessEvent, Pm2ProcessMessage } from './pm2-app.js';

/** An app as PM2 starts it (the keys of an ecosystem file entry that this project uses). */
export interface Pm2AppConfig {
  name: string;
  /** PM2's namespace: `pm2 stop <namespace>` acts on its apps alone. */
  namespace?: string;
  /** Absolute path of the script. */
  script: string;
  args?: string[];
  cwd?: string;
  exec_mode?: 'fork' | 'cluster';
  instances?: number;
  env?: Record<string, string>;
  autorestart?: boolean;
  max_restarts?: number;
  min_uptime?: number;
  exp_backoff_restart_delay?: number;
  restart_delay?: number;
  kill_timeout?: number;
  /** Signal and wait for the whole process tree on stop (PM2's default), or the app's pid alone. */
  treekill?: boolean;
  wait_ready?: boolean;
  listen_timeout?: number;
  max_memory_restart?: string | number;
  out_file?: string;
  error_file?: string;
  merge_logs?: boolean;
  /** PM2's in-process metrics agent (@pm2/io); the fleet turns it off. */
  pmx?: boolean;
}

export interface Pm2ConnectOptions {
  /** The daemon's folder; default PM2_HOME or ~/.pm2. */
  pm2Home?: string;
  /** Start a daemon when none runs (default true). False: fail with ERR_PM2_DAEMON_DOWN instead. */
  launchDaemon?: boolean;
  /** Deadline of each call, except start (default 10 s). */
  timeoutMs?: number;
}

/** PM2's event bus, typed: lifecycle events, app messages and the state of the connection. */
export interface Pm2Bus {
  onProcessEvent(handler: (event: Pm2ProcessEvent) => void): void;
  onProcessMessage(handler: (message: Pm2ProcessMessage) => void): void;
  /** The daemon announced it is being killed (`pm2 kill`). */
  onDaemonKill(handler: () => void): void;
  /** The bus lost its socket to the daemon, or got it back (PM2 reconnects by itself). */
  onConnection(handler: (state: 'lost' | 'restored') => void): void;
}

// ---- the slice of PM2's untyped API this file relies on ----

type Callback<T> = (err: unknown, value: T) => void;

interface AxonSocket {
  connected?: boolean;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  close(): void;
}

interface AxonSubEmitter {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

interface Pm2Api {
  connect(cb: (err: unknown) => void): void;
  disconnect(cb: (err: unknown) => void): void;
  list(cb: Callback<unknown>): void;
  describe(target: string | number, cb: Callback<unknown>): void;
  start(config: { apps: Pm2AppConfig[] }, cb: Callback<unknown>): void;
  stop(target: string | number, cb: Callback<unknown>): void;
  restart(target: string | number, cb: Callback<unknown>): void;
  delete(target: string | number, cb: Callback<unknown>): void;
  launchBus(cb: (err: unknown, bus: AxonSubEmitter, socket: AxonSocket) => void): void;
  killDaemon(cb: Callback<unknown>): void;
  Client: {
    executeRemote(method: string, opts: unknown, cb: (err: unknown) => void): void;
    rpc_socket_file: string;
    client_sock?: AxonSocket;
    sub_sock?: AxonSocket;
    launchRPC(cb: (err?: unknown) => void): void;
  };
}

type Pm2ApiConstructor = new (options: { pm2_home: string }) => Pm2Api;

function apiConstructor(): Pm2ApiConstructor {
  const custom = (pm2Module as unknown as { custom?: unknown }).custom;
  if (typeof custom !== 'function') {
    throw new SupervisorError('ERR_PM2_API', 'this pm2 version does not export its API class (pm2.custom)');
  }
  return custom as Pm2ApiConstructor;
}

// ---- helpers ----

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_START_TIMEOUT_MS = 120_000;

function supervisorError(operation: string, err: unknown): SupervisorError {
  if (err instanceof SupervisorError) return err;
  const message = errorMessage(err);
  const code = /not found|doesn.t exist|unknown/i.test(message) ? 'ERR_PM2_APP_NOT_FOUND' : 'ERR_PM2_CALL';
  return new SupervisorError(code, `pm2 ${operation} failed: ${message}`, { cause: err });
}

/** Run a PM2 callback-style call as a promise with a deadline. */
function call<T>(operation: string, timeoutMs: number, run: (cb: Callback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new SupervisorError('ERR_PM2_TIMEOUT', `pm2 ${operation} got no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      run((err, value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err !== null && err !== undefined) reject(supervisorError(operation, err));
        else resolve(value);
      });
    } catch (err) {
      settled = true;
      clearTimeout(timer);
      reject(supervisorError(operation, err));
    }
  });
}

/** Where a daemon of this PM2_HOME listens for commands (PM2's fixed layout on Linux and macOS). */
export function rpcSocketFile(pm2Home: string): string {
  return path.join(pm2Home, 'rpc.sock');
}

/** True when something accepts connections on the daemon's RPC socket (the daemon is up). */
export function pingDaemon(rpcSocketFile: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(rpcSocketFile);
    const done = (alive: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(alive);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The daemon's pid from PM2_HOME/pm2.pid, or null when there is none. */
export async function daemonPid(pm2Home: string): Promise<number | null> {
  try {
    const text = await fs.readFile(path.join(pm2Home, 'pm2.pid'), 'utf8');
    const pid = Number(text.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Send a signal to a pid; false when no such process exists (or the pid is not one: kill(0) would signal our own group). */
export function signalPid(pid: number, signal: NodeJS.Signals | 0): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw new SupervisorError('ERR_SIGNAL', `could not send ${signal} to pid ${pid}`, { cause: err });
  }
}

export function isPidAlive(pid: number): boolean {
  return signalPid(pid, 0);
}

// ---- the client ----

export class Pm2Client {
  readonly pm2Home: string;
  private readonly api: Pm2Api;
  private readonly timeoutMs: number;
  private closed = false;

  private constructor(api: Pm2Api, pm2Home: string, timeoutMs: number) {
    this.api = api;
    this.pm2Home = pm2Home;
    this.timeoutMs = timeoutMs;
  }

  /** Connect to the daemon of `pm2Home` (launching one unless `launchDaemon: false`). */
  static async connect(options: Pm2ConnectOptions = {}): Promise<Pm2Client> {
    const pm2Home = options.pm2Home ?? currentPm2Home();
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const launch = options.launchDaemon !== false;
    // Ping before building PM2's API object: its constructor creates the PM2_HOME folders.
    if (!launch && !(await pingDaemon(rpcSocketFile(pm2Home)))) {
      throw new SupervisorError('ERR_PM2_DAEMON_DOWN', `no PM2 daemon is running in ${pm2Home}`);
    }
    let api: Pm2Api;
    try {
      api = new (apiConstructor())({ pm2_home: pm2Home });
    } catch (err) {
      throw supervisorError('init', err);
    }
    const client = new Pm2Client(api, pm2Home, timeoutMs);
    try {
      if (launch) {
        await call<void>('connect', timeoutMs, (cb) => api.connect((err) => cb(err, undefined)));
      } else {
        // PM2's connect() would launch a daemon if this one died since the ping; its RPC client does not.
        await call<void>('connect', timeoutMs, (cb) => api.Client.launchRPC((err) => cb(err, undefined)));
      }
      // Without a listener, an unexpected socket error would be thrown as an uncaught 'error'.
      api.Client.client_sock?.on('error', () => {});
      return client;
    } catch (err) {
      await client.disconnect();
      throw supervisorError('connect', err);
    }
  }

  /** Every app the daemon knows. */
  async list(): Promise<Pm2App[]> {
    const raw = await call<unknown>('list', this.timeoutMs, (cb) => this.api.list(cb));
    return toPm2Apps(raw, Date.now());
  }

  /** The apps with this name (or pm_id); empty when there is none. */
  async describe(target: string | number): Promise<Pm2App[]> {
    const raw = await call<unknown>(`describe ${target}`, this.timeoutMs, (cb) =>
      this.api.describe(target, cb),
    );
    return toPm2Apps(raw, Date.now());
  }

  /**
   * Start these apps (as `pm2 start <ecosystem> --only ...` would). PM2 restarts an app whose
   * name it already knows, so pass only the missing ones. Resolves once PM2 reports them started:
   * with `wait_ready`, after each sent 'ready' or reached its `listen_timeout`.
   */
  async start(apps: readonly Pm2AppConfig[], timeoutMs = DEFAULT_START_TIMEOUT_MS): Promise<void> {
    if (apps.length === 0) return;
    // PM2 writes into the objects it is given; keep the caller's intact.
    const config = { apps: structuredClone([...apps]) };
    await call<unknown>(`start ${apps.map((a) => a.name).join(', ')}`, timeoutMs, (cb) =>
      this.api.start(config, cb),
    );
  }

  /** Stop (SIGINT, then SIGKILL after kill_timeout); the app stays listed as stopped. */
  async stop(target: string | number): Promise<void> {
    await call<unknown>(`stop ${target}`, this.timeoutMs, (cb) => this.api.stop(target, cb));
  }

  async restart(target: string | number): Promise<void> {
    await call<unknown>(`restart ${target}`, this.timeoutMs, (cb) => this.api.restart(target, cb));
  }

  /**
   * Restart one process with `env` merged into its environment, and resolve once PM2 has
   * restarted it. PM2's public restart can only merge the caller's whole environment
   * (`updateEnv`), so this asks the daemon directly, as that restart does, with just these variables.
   */
  async restartWithEnv(pmId: number, env: Record<string, string>): Promise<void> {
    await call<void>(`restart ${pmId} with ${Object.keys(env).join(', ')}`, 60_000, (cb) =>
      this.api.Client.executeRemote('restartProcessId', { id: pmId, env }, (err) => cb(err, undefined)),
    );
  }

  /** Stop and forget the app. */
  async delete(target: string | number): Promise<void> {
    await call<unknown>(`delete ${target}`, this.timeoutMs, (cb) => this.api.delete(target, cb));
  }

  /** `pm2 kill`: stop every app, then the daemon. Disconnects. */
  async killDaemon(): Promise<void> {
    try {
      await call<unknown>('kill', Math.max(this.timeoutMs, 30_000), (cb) => this.api.killDaemon(cb));
    } finally {
      await this.disconnect();
    }
  }

  /** Subscribe to the daemon's event bus (closed by disconnect()). */
  async launchBus(): Promise<Pm2Bus> {
    const [bus, socket] = await call<[AxonSubEmitter, AxonSocket]>('launchBus', this.timeoutMs, (cb) =>
      this.api.launchBus((err, emitter, sock) => cb(err, [emitter, sock])),
    );
    socket.on('error', () => {});
    return {
      onProcessEvent(handler) {
        bus.on('process:event', (packet: unknown) => {
          const event = toProcessEvent(packet);
          if (event !== null) handler(event);
        });
      },
      onProcessMessage(handler) {
        bus.on('process:msg', (packet: unknown) => {
          const message = toProcessMessage(packet);
          if (message !== null) handler(message);
        });
      },
      onDaemonKill(handler) {
        bus.on('pm2:kill', () => handler());
      },
      onConnection(handler) {
        let lost = false;
        // PM2's socket retries on its own, emitting 'reconnect attempt' each time it tries.
        socket.on('reconnect attempt', () => {
          if (lost) return;
          lost = true;
          handler('lost');
        });
        socket.on('connect', () => {
          if (!lost) return;
          lost = false;
          handler('restored');
        });
      },
    };
  }

  /**
   * Close the RPC and bus sockets. Safe to call twice and when the daemon is gone (PM2's own
   * disconnect skips a socket that is not connected, leaving its retry timer running).
   */
  async disconnect(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const { client_sock: rpc, sub_sock: sub } = this.api.Client;
    try {
      await call<unknown>('disconnect', 2000, (cb) => this.api.disconnect((err) => cb(err, undefined)));
    } catch {
      // Closing below is what matters.
    }
    for (const socket of [rpc, sub]) {
      try {
        socket?.close();
      } catch {
        // already closed
      }
    }
  }
}

/** Connect, run `work`, and always disconnect. */
export async function withPm2<T>(
  options: Pm2ConnectOptions,
  work: (pm2: Pm2Client) => Promise<T>,
): Promise<T> {
  const client = await Pm2Client.connect(options);
  try {
    return await work(client);
  } finally {
    await client.disconnect();
  }
}
