/**
 * A cluster's primary (nginx's master, HAProxy's master, Envoy's main thread): it holds the
 * listening sockets as descriptors (every worker inherits a copy when it starts, and accepts on it
 * itself), runs discovery and the health checks once, tells every worker who is in rotation,
 * gathers their counters into one status, serves the admin listener, and supervises them: a worker
 * that dies is replaced at once, and SIGHUP reloads with zero downtime (new workers first, then
 * the old drain). When PM2 stops it (a restart, a reload), its sockets go to a holder before its
 * workers stop accepting, and the next primary takes them over (HAProxy's `-x`): connections that
 * arrive in between wait in the kernel's queue, and a PM2 restart refuses none of them.
 *
 * It never proxies a request itself, so it has nothing to lose when a worker goes, and it keeps
 * serving through a PM2 daemon's death as the single-process balancer does.
 */
import { eachFinished } from './finished-batch.js';
import { fork, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import type { BalancerConfig } from '../config.js';
import type { BalancerSettings } from '../config-source.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { sendJson, type AdminServer } from '../admin-server.js';
import { ControlPlane } from '../control-plane.js';
import { BalancerEvents } from '../events.js';
import { healthz, listeningLine, logReady, statusFacts } from '../load-balancer.js';
import type { DiscoveryKind } from '../discovery/types.js';
import type { Pool } from '../pool.js';
import { buildStatus, STATUS_PATH, type BalancerStatus, type WorkerStatus } from '../status.js';
import { CounterBook } from './counter-book.js';
import { isToPrimary, type ToPrimary, type ToWorker } from './messages.js';
import { HOLDER_ENV, pm2LogFiles, WORKER_ENV } from '../../config/process-input.js';
import { listeningFd } from '../../net/fd-passing.js';
import { HANDOFF_WAIT_MS, handoffPath, OUTLIVE_MS, type HandedListener } from './handoff.js';
import { drainOutlived } from './outlived-workers.js';
import { acquireSockets, type PrimarySockets } from './listen-sockets.js';
import type { HolderOrders } from './socket-holder.js';
import {
  currentPm2Home,
  currentPm2Id,
  currentPm2Restarts,
  currentPm2TreeKill,
} from '../../supervisor/config.js';

export interface PrimaryOptions {
  settings: BalancerSettings;
  discoveryKind: DiscoveryKind;
  logger: Logger;
  /** Settings as they are now (argv, environment, env file): read again on every reload. */
  reread: () => BalancerSettings;
  /** The entry script the workers run, and its arguments (PM2 may wrap the process's own argv). */
  exec: string;
  args: string[];
  /** The socket holder's entry script (src/balancer-holder.ts, built). */
  holderExec: string;
}

/**
 * What a primary that PM2 is stopping handed on: nothing (a plain stop follows), the listening
 * sockets (its workers drain here first, as PM2 waits for the whole process tree), or the sockets
 * and its serving workers too (PM2 waits for this process alone: it leaves at once).
 */
export type HandedOn = 'nothing' | 'sockets' | 'sockets-and-workers';

interface WorkerEntry {
  id: number;
  child: ChildProcess;
  pid: number;
  generation: number;
  startedAt: number;
  state: WorkerStatus['state'];
  /** Resolves when it says ready, rejects when it exits first. */
  ready: Promise<number>;
}

/** How long a new worker may take to listen before a reload gives up on it. */
const START_TIMEOUT_MS = 15_000;
/** How long the status page waits for the workers' fresh counts before using the last ones. */
const REPORT_WAIT_MS = 200;
/** More unplanned exits than this in a minute: replacements wait a second (a crash loop). */
const CRASHES_BEFORE_BACKOFF = 5;
/** How long a holder may take to say it holds the sockets before the primary stops as usual. */
const HOLDER_START_MS = 3000;
/** How long a leaving primary waits for its workers to have heard that they outlive it. */
const OUTLIVE_TOLD_MS = 1000;
/** Where a worker finds its inherited sockets: stdio, then the IPC channel, then these. */
const WORKER_PUBLIC_FD = 4;
const WORKER_REDIRECT_FD = 5;

export class ClusterPrimary {
  readonly events = new BalancerEvents();
  private readonly control: ControlPlane;
  private readonly book = new CounterBook();
  private readonly workers = new Map<number, WorkerEntry>();
  private config: BalancerConfig;
  private env: Record<string, string | undefined>;
  private generation = 0;
  private reloads = 0;
  private reloading = false;
  private reloadAgain = false;
  private stopping = false;
  private port = 0;
  private seq = 0;
  private readonly waiting = new Map<number, { left: Set<number>; done: () => void }>();
  private crashes: number[] = [];
  private nextId = 1;
  private sockets: PrimarySockets | null = null;

  constructor(private readonly options: PrimaryOptions) {
    this.config = options.settings.config;
    this.env = options.settings.env;
    this.control = new ControlPlane({
      config: this.config,
      logger: options.logger,
      events: this.events,
      discoveryKind: options.discoveryKind,
      onChange: () => this.broadcastState(),
    });
    this.admin.route(STATUS_PATH, async (_req, res) => sendJson(res, 200, await this.freshStatus()));
    this.admin.route('/healthz', (_req, res) => healthz(res, this.stopping, this.facts(), this.pool));
  }

  get admin(): AdminServer {
    return this.control.admin;
  }

  get pool(): Pool {
    return this.control.pool;
  }

  /** Discover, start the workers, listen on the admin port, run the first health round. */
  async start(): Promise<{ port: number; adminPort: number }> {
    const { logger } = this.options;
    const sockets = await acquireSockets(this.config, logger, this.handoffFile());
    this.sockets = sockets;
    const handoff = sockets.handoff;
    if (handoff !== null) {
      logger.info(
        `took over the listening sockets of the last balancer (pid ${handoff.from}): ${handoff.listeners.map((l) => `${l.role} ${l.port}`).join(', ')}`,
        { event: 'takeover', from: handoff.from },
      );
    }
    // The last primary's workers serve on meanwhile; they drain once these are ready, or now if
    // this start fails (as the last thing this method does either way).
    const outlived = handoff?.workers ?? [];
    let started: WorkerEntry[] = [];
    try {
      // The workers boot (a node start each) while discovery runs, so connections queued through a
      // takeover wait for the slower of the two, not for both in turn. A worker that listens before
      // the pool is known holds its requests for --queue-timeout, as when no upstream is up.
      started = this.startGeneration(this.config.workers);
      await this.control.discover();
      return await this.startServing(started, sockets);
    } catch (err) {
      this.stopping = true; // no replacements for the workers stopped here
      for (const e of started) e.child.kill('SIGKILL');
      throw err;
    } finally {
      drainOutlived(
        outlived,
        this.stopping ? 'this balancer did not start' : 'the workers here are ready',
        logger,
      );
    }
  }

  private async startServing(
    started: WorkerEntry[],
    sockets: PrimarySockets,
  ): Promise<{ port: number; adminPort: number }> {
    const { logger } = this.options;
    this.port = (await Promise.all(started.map((e) => e.ready)))[0] ?? 0;
    logger.info(
      `${listeningLine(this.config, { port: this.port, scheme: this.scheme, engineName: this.config.proxyEngine }, this.pool)} (${this.config.workers} workers)`,
      {
        event: 'listening',
        port: this.port,
        host: this.config.host,
        scheme: this.scheme,
        workers: this.config.workers,
      },
    );
    const adminPort = await this.control.listenAdmin(sockets.admin ?? undefined);
    await this.control.checkHealth();
    logReady(logger, this.pool);
    return { port: this.port, adminPort };
  }

  private handoffFile(): string | null {
    return handoffPath(os.tmpdir(), process.getuid?.() ?? 0, this.config.host, this.config.port);
  }

  /**
   * PM2 is stopping this primary (a stop, restart or reload: PM2 does not say which), and starts
   * the next one once it has exited. So a holder outside PM2's tree takes a copy of the listening
   * sockets first; the next primary takes them from it, and if nobody comes within
   * HANDOFF_WAIT_MS, the holder lets them go.
   *
   * When PM2 waits for this process alone (`treekill: false`, as the fleet's ecosystem sets), the
   * workers serve on after it has gone, until the next primary's workers are ready (nginx's old
   * workers, HAProxy's old process): the caller then leaves at once, and no request waits for a
   * restart. When PM2 waits for the whole tree, the workers drain here first, as on a stop.
   * Nothing is handed on when there is nothing to hand (port 0, a reload or stop under way).
   */
  async handOff(): Promise<HandedOn> {
    const { logger } = this.options;
    const file = this.handoffFile();
    const sockets = this.sockets;
    if (this.stopping || this.reloading || file === null || sockets === null) {
      return 'nothing';
    }
    const outliving = currentPm2TreeKill()
      ? []
      : [...this.workers.values()].filter((e) => e.state !== 'draining');
    const listeners: HandedListener[] = [{ role: 'public', port: this.port }];
    const fds = [sockets.public];
    if (sockets.redirect !== null && this.config.httpRedirectPort !== null) {
      listeners.push({ role: 'redirect', port: this.config.httpRedirectPort });
      fds.push(sockets.redirect);
    }
    const adminPort = this.control.adminPort;
    if (this.config.adminPort !== 0 && adminPort > 0) {
      listeners.push({ role: 'admin', port: adminPort });
      fds.push(listeningFd(this.admin.server));
    }
    const pm2Id = currentPm2Id();
    const orders: HolderOrders = {
      path: file,
      handoff: { from: process.pid, listeners, workers: outliving.map((e) => e.pid) },
      daemonPid: process.ppid,
      pm2: pm2Id === null ? null : { home: currentPm2Home(), id: pm2Id, restarts: currentPm2Restarts() },
      waitMs: HANDOFF_WAIT_MS,
      name: this.config.name,
      logLevel: this.config.logLevel,
      logFormat: this.config.logFormat,
    };
    if (!(await this.startHolder(orders, fds))) return 'nothing';
    if (outliving.length === 0) {
      logger.info(
        `SIGINT from PM2: the listening sockets wait in a holder for the next balancer (at most ${HANDOFF_WAIT_MS}ms); new connections queue there meanwhile`,
        { event: 'handoff' },
      );
      return 'sockets';
    }
    await Promise.all(outliving.map((e) => this.tellToOutlive(e)));
    logger.info(
      `SIGINT from PM2: leaving the listening sockets to a holder and ${outliving.length} workers serving on them until the next balancer's are ready (at most ${OUTLIVE_MS}ms)`,
      { event: 'handoff', workers: orders.handoff.workers },
    );
    return 'sockets-and-workers';
  }

  /** Resolves once the worker has the message (or could not get it: it then drains on its own). */
  private tellToOutlive(e: WorkerEntry): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, OUTLIVE_TOLD_MS);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      if (!this.send(e, { lb: 'outlive', ms: OUTLIVE_MS }, done)) done();
    });
  }

  /**
   * Go, leaving the workers serving (after handOff said 'sockets-and-workers'): no discovery, no
   * checks, no admin listener here any more, and the workers' channels closed, which they expect.
   */
  async leave(): Promise<void> {
    this.stopping = true; // no replacements for workers that exit from here on
    await this.control.close();
    for (const e of this.workers.values()) if (e.child.connected) e.child.disconnect();
  }

  private startHolder(orders: HolderOrders, fds: number[]): Promise<boolean> {
    const { logger } = this.options;
    // PM2 reads this process's output through pipes it drops when the process exits: the holder,
    // which outlives it, appends to PM2's log files itself.
    const files = pm2LogFiles();
    const out = files === null ? [] : [fs.openSync(files.out, 'a'), fs.openSync(files.err, 'a')];
    const stdio: StdioOptions = ['ignore', out[0] ?? 'inherit', out[1] ?? 'inherit', 'ipc', ...fds];
    return new Promise((resolve) => {
      const holder = spawn(process.execPath, [this.options.holderExec], {
        // Its own session: not part of the tree PM2 signals, and it outlives this process.
        detached: true,
        stdio,
        env: { ...this.env, [HOLDER_ENV]: JSON.stringify(orders) },
      });
      const done = (ok: boolean, why?: string): void => {
        clearTimeout(timer);
        holder.removeAllListeners();
        if (!ok) {
          logger.warn(`the socket holder did not start (${why ?? '?'}); stopping without a handover`, {
            event: 'handoff-failed',
          });
          holder.kill('SIGKILL');
        }
        if (holder.connected) holder.disconnect();
        holder.unref();
        for (const fd of out) fs.closeSync(fd);
        resolve(ok);
      };
      const timer = setTimeout(() => done(false, `no word within ${HOLDER_START_MS}ms`), HOLDER_START_MS);
      holder.once('message', () => done(true));
      holder.once('error', (err) => done(false, errorMessage(err)));
      holder.once('exit', (code) => done(false, `it exited with code ${code ?? '?'}`));
    });
  }

  private get scheme(): 'http' | 'https' {
    return this.config.tls === null ? 'http' : 'https';
  }

  /**
   * Zero-downtime reload: read the settings again (refused, old workers untouched, when they do
   * not validate), start a new generation, wait until every new worker listens, then drain the old.
   */
  async reload(): Promise<boolean> {
    const { logger } = this.options;
    if (this.stopping) return false;
    if (this.reloading) {
      // As nginx does with a second HUP: the settings are read again once this reload is done.
      logger.info('reload asked for while one is running: another follows it', { event: 'reload-queued' });
      this.reloadAgain = true;
      return false;
    }
    let next: BalancerSettings;
    try {
      next = this.options.reread();
      refuseChangesThatNeedARestart(this.config, next.config);
    } catch (err) {
      logger.error(`reload refused, the running workers keep serving: ${errorMessage(err)}`, {
        event: 'reload-refused',
      });
      return false;
    }
    this.reloading = true;
    const old = [...this.workers.values()].filter((e) => e.state !== 'draining');
    const before = { config: this.config, env: this.env };
    try {
      this.config = next.config;
      this.env = next.env;
      logger.info(`reload: starting ${this.config.workers} new workers (generation ${this.generation + 1})`, {
        event: 'reload-start',
        generation: this.generation + 1,
      });
      const fresh = this.startGeneration(this.config.workers);
      try {
        await Promise.all(
          fresh.map((e) => withTimeout(e.ready, START_TIMEOUT_MS, 'a new worker did not listen')),
        );
      } catch (err) {
        for (const e of fresh) this.drainWorker(e);
        this.config = before.config;
        this.env = before.env;
        logger.error(`reload failed, the old workers keep serving: ${errorMessage(err)}`, {
          event: 'reload-failed',
        });
        return false;
      }
      for (const e of old) this.drainWorker(e);
      this.reloads++;
      logger.info(
        `reload done: generation ${this.generation} serving with ${fresh.length} workers, ${old.length} old workers draining`,
        { event: 'reload-done', generation: this.generation, reloads: this.reloads },
      );
      return true;
    } finally {
      this.reloading = false;
      if (this.reloadAgain) {
        this.reloadAgain = false;
        setImmediate(() => void this.reload());
      }
    }
  }

  /** Stop: every worker drains (they may have their own SIGINT from PM2 too); resolve when all exited. */
  async stop(signal: string): Promise<void> {
    if (this.stopping) {
      for (const e of this.workers.values()) e.child.kill('SIGKILL');
      return;
    }
    this.stopping = true;
    const { logger } = this.options;
    logger.info(
      `${signal}: shutting down, the workers' in-flight requests have ${this.config.graceMs}ms to finish`,
      {
        event: 'shutdown',
        signal,
        graceMs: this.config.graceMs,
      },
    );
    for (const e of this.workers.values()) this.drainWorker(e);
    const deadline = Date.now() + this.config.graceMs + 3000;
    while (this.workers.size > 0 && Date.now() < deadline) await sleep(50);
    for (const e of this.workers.values()) e.child.kill('SIGKILL');
    await this.control.close();
  }

  status(): BalancerStatus {
    const totals = this.book.totals();
    const status = buildStatus(
      this.pool.members,
      this.facts(totals.tunnels),
      { inFlight: totals.inFlight, served: totals.served, failures: totals.failures, queued: totals.queued },
      [...this.workers.values()].map((e) => this.workerStatus(e)),
    );
    for (const u of status.upstreams) {
      const [inFlight, attempts, served, failures, tunnels, up, down] = this.book.upstream(u.id);
      u.inFlight = inFlight;
      u.attempts = attempts;
      u.served = served;
      // The primary's own failed checks, plus what the workers saw while proxying.
      u.failures += failures;
      u.tunnels = { open: tunnels, bytesToUpstream: up, bytesFromUpstream: down };
    }
    return status;
  }

  /** The status after asking every worker for its counts now (waiting a moment at most). */
  private async freshStatus(): Promise<BalancerStatus> {
    const seq = ++this.seq;
    const left = new Set<number>();
    for (const e of this.workers.values()) {
      if (e.state === 'starting') continue;
      left.add(e.id);
      this.send(e, { lb: 'report?', seq });
    }
    if (left.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, REPORT_WAIT_MS);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiting.set(seq, { left, done });
      });
      this.waiting.delete(seq);
    }
    return this.status();
  }

  private facts(tunnelsOpen = this.book.totals().tunnels) {
    return statusFacts(this.config, this.control, {
      port: this.port,
      engine: this.config.proxyEngine,
      draining: this.stopping,
      reloads: this.reloads,
      takenOverFrom: this.sockets?.handoff?.from ?? null,
      scheme: this.scheme,
      tunnelsOpen,
      connections: this.book.connections(),
    });
  }

  private workerStatus(e: WorkerEntry): WorkerStatus {
    const totals = this.book.of(e.id)?.totals ?? { inFlight: 0, served: 0, failures: 0 };
    return {
      id: e.id,
      pid: e.pid,
      generation: e.generation,
      startedAt: e.startedAt,
      state: e.state,
      ...totals,
    };
  }

  // ---- the workers ----

  private startGeneration(count: number): WorkerEntry[] {
    if (this.workers.size > 0) this.generation++;
    return Array.from({ length: count }, () => this.fork(this.generation));
  }

  private fork(generation: number): WorkerEntry {
    const sockets = this.sockets;
    if (sockets === null) throw new Error('the primary forks workers only once it holds its sockets');
    const id = this.nextId++;
    const inherited = sockets.redirect === null ? [sockets.public] : [sockets.public, sockets.redirect];
    const child = fork(this.options.exec, this.options.args, {
      env: {
        ...this.env,
        [WORKER_ENV.id]: String(id),
        [WORKER_ENV.publicFd]: String(WORKER_PUBLIC_FD),
        ...(sockets.redirect === null ? {} : { [WORKER_ENV.redirectFd]: String(WORKER_REDIRECT_FD) }),
      },
      // The same session as the primary (PM2's tree), the same log files.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...inherited],
    });
    let markReady: (port: number) => void = () => undefined;
    let markFailed: (err: Error) => void = () => undefined;
    const ready = new Promise<number>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    // Rejections are awaited by whoever waits for this worker; an unwatched one must not crash us.
    ready.catch(() => undefined);
    const entry: WorkerEntry = {
      id,
      child,
      pid: child.pid ?? 0,
      generation,
      startedAt: Date.now(),
      state: 'starting',
      ready,
    };
    this.workers.set(id, entry);
    // A send to a worker that is exiting fails later, as an 'error' event (EPIPE): its 'exit'
    // handler does the bookkeeping, so the error is only noted.
    child.on('error', (err) =>
      this.options.logger.debug(`worker ${id}: ${errorMessage(err)}`, { event: 'worker-ipc-error' }),
    );
    child.on('message', (message: unknown) => {
      if (!isToPrimary(message)) return;
      if (message.lb === 'ready') {
        entry.state = entry.state === 'draining' ? 'draining' : 'ready';
        this.options.logger.debug(`worker ${id} (pid ${entry.pid}) ready`, {
          event: 'worker-ready',
          worker: id,
          pid: entry.pid,
          generation,
        });
        markReady(message.port);
        return;
      }
      this.onMessage(entry, message);
    });
    child.on('exit', (code, signal) => {
      this.book.retire(id);
      this.workers.delete(id);
      for (const w of this.waiting.values()) if (w.left.delete(id) && w.left.size === 0) w.done();
      markFailed(new Error(`worker ${id} exited (${signal ?? `code ${code}`}) before it listened`));
      if (entry.state === 'draining' || this.stopping) {
        this.options.logger.debug(`worker ${id} drained and exited`, { event: 'worker-exit', worker: id });
        return;
      }
      this.replace(entry, code, signal);
    });
    return entry;
  }

  /** A worker died unasked: start another at once (after a second when they keep dying). */
  private replace(entry: WorkerEntry, code: number | null, signal: string | null): void {
    const { logger } = this.options;
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < 60_000), now];
    const backoff = this.crashes.length > CRASHES_BEFORE_BACKOFF ? 1000 : 0;
    logger.warn(
      `worker ${entry.id} (pid ${entry.pid}) exited (${signal ?? `code ${code}`}); starting another${backoff > 0 ? ` in ${backoff}ms` : ''}`,
      { event: 'worker-replaced', worker: entry.id, code, signal },
    );
    const restart = (): void => {
      if (!this.stopping) this.fork(this.generation);
    };
    if (backoff > 0) setTimeout(restart, backoff).unref();
    else restart();
  }

  private drainWorker(e: WorkerEntry): void {
    e.state = 'draining';
    this.send(e, { lb: 'drain' });
  }

  private onMessage(entry: WorkerEntry, message: Exclude<ToPrimary, { lb: 'ready' }>): void {
    switch (message.lb) {
      case 'hello':
        this.sendState(entry);
        return;
      case 'take-out': {
        const upstream = this.pool.get(message.id);
        if (upstream !== undefined) this.pool.takeOut(upstream, `${message.reason} (worker ${entry.id})`);
        return;
      }
      case 'report': {
        this.book.record(entry.id, message);
        const w = this.waiting.get(message.seq);
        if (w !== undefined && w.left.delete(entry.id) && w.left.size === 0) w.done();
        return;
      }
      case 'finished':
        if (!this.events.wantsRequests) return;
        eachFinished(message.groups, (upstream, status, ms, retries) =>
          this.events.requestFinished({ method: '', url: '', upstream, status, ms, retries }),
        );
        return;
    }
  }

  // ---- telling the workers ----

  private sendState(entry: WorkerEntry): void {
    this.send(entry, { lb: 'members', members: this.memberSpecs() });
    this.send(entry, { lb: 'health', states: this.pool.healthSnapshot() });
  }

  private broadcastState(): void {
    for (const e of this.workers.values()) if (e.child.connected) this.sendState(e);
  }

  private memberSpecs() {
    return this.pool.members.map((u) => ({
      id: u.id,
      name: u.name,
      host: u.host,
      port: u.port,
      weight: u.weight,
      ...(u.pm2 === null ? {} : { pm2: u.pm2 }),
    }));
  }

  /** False when the worker cannot take it (it is exiting); `sent` runs once it is written. */
  private send(entry: WorkerEntry, message: ToWorker, sent: () => void = () => undefined): boolean {
    if (!entry.child.connected) return false;
    try {
      entry.child.send(message, undefined, {}, sent);
      return true;
    } catch {
      // It is exiting; its 'exit' handler does the bookkeeping.
      return false;
    }
  }
}

/** What a running listener cannot take without a restart of the primary: refused on reload. */
function refuseChangesThatNeedARestart(now: BalancerConfig, next: BalancerConfig): void {
  const changed: string[] = [];
  if (next.port !== now.port || next.host !== now.host) changed.push('--port/--host');
  if (next.adminPort !== now.adminPort) changed.push('--admin-port');
  if (next.discovery !== now.discovery || next.pool !== now.pool) changed.push('--discovery/--pool');
  if ((next.tls === null) !== (now.tls === null)) changed.push('HTTPS on or off');
  if (changed.length > 0) {
    throw new Error(`${changed.join(', ')} changed; that needs a restart of the balancer, not a reload`);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms}ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
