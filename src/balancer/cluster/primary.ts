/**
 * A cluster's primary (nginx's master, HAProxy's master, Envoy's main thread): it holds the
 * listening sockets (node's cluster module binds them here and hands them to the workers), runs
 * discovery and the health checks once, tells every worker who is in rotation, gathers their
 * counters into one status, serves the admin listener, and supervises them: a worker that dies is
 * replaced at once, and SIGHUP reloads with zero downtime (new workers first, then the old drain).
 *
 * It never proxies a request itself, so it has nothing to lose when a worker goes, and it keeps
 * serving through a PM2 daemon's death as the single-process balancer does.
 */
import { eachFinished } from './finished-batch.js';
import cluster, { type Worker } from 'node:cluster';
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

export interface PrimaryOptions {
  settings: BalancerSettings;
  discoveryKind: DiscoveryKind;
  logger: Logger;
  /** Settings as they are now (argv, environment, env file): read again on every reload. */
  reread: () => BalancerSettings;
  /** The entry script the workers run, and its arguments (PM2 may wrap the process's own argv). */
  exec: string;
  args: string[];
}

interface WorkerEntry {
  worker: Worker;
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
    // Listening handles stay in the primary; each worker accepts on the same socket (the kernel
    // spreads connections), so the primary never touches a request and adds nothing per connection.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: options.exec, args: options.args });
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
    await this.control.discover();
    const started = this.startGeneration(this.config.workers);
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
    const adminPort = await this.control.listenAdmin();
    await this.control.checkHealth();
    logReady(logger, this.pool);
    return { port: this.port, adminPort };
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
      for (const e of this.workers.values()) e.worker.process.kill('SIGKILL');
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
    for (const e of this.workers.values()) e.worker.process.kill('SIGKILL');
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
      left.add(e.worker.id);
      this.send(e.worker, { lb: 'report?', seq });
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
      scheme: this.scheme,
      tunnelsOpen,
      connections: this.book.connections(),
    });
  }

  private workerStatus(e: WorkerEntry): WorkerStatus {
    const totals = this.book.of(e.worker.id)?.totals ?? { inFlight: 0, served: 0, failures: 0 };
    return {
      id: e.worker.id,
      pid: e.worker.process.pid ?? 0,
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
    const worker = cluster.fork(this.env);
    let markReady: (port: number) => void = () => undefined;
    let markFailed: (err: Error) => void = () => undefined;
    const ready = new Promise<number>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    // Rejections are awaited by whoever waits for this worker; an unwatched one must not crash us.
    ready.catch(() => undefined);
    const entry: WorkerEntry = { worker, generation, startedAt: Date.now(), state: 'starting', ready };
    this.workers.set(worker.id, entry);
    // A send to a worker that is exiting fails later, as an 'error' event (EPIPE): its 'exit'
    // handler does the bookkeeping, so the error is only noted.
    worker.on('error', (err) =>
      this.options.logger.debug(`worker ${worker.id}: ${errorMessage(err)}`, { event: 'worker-ipc-error' }),
    );
    worker.on('message', (message: unknown) => {
      if (!isToPrimary(message)) return;
      if (message.lb === 'ready') {
        entry.state = entry.state === 'draining' ? 'draining' : 'ready';
        this.options.logger.debug(`worker ${worker.id} (pid ${worker.process.pid}) ready`, {
          event: 'worker-ready',
          worker: worker.id,
          pid: worker.process.pid,
          generation,
        });
        markReady(message.port);
        return;
      }
      this.onMessage(worker, message);
    });
    worker.on('exit', (code, signal) => {
      this.book.retire(worker.id);
      this.workers.delete(worker.id);
      for (const w of this.waiting.values()) if (w.left.delete(worker.id) && w.left.size === 0) w.done();
      markFailed(new Error(`worker ${worker.id} exited (${signal ?? `code ${code}`}) before it listened`));
      if (entry.state === 'draining' || this.stopping) {
        this.options.logger.debug(`worker ${worker.id} drained and exited`, {
          event: 'worker-exit',
          worker: worker.id,
        });
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
      `worker ${entry.worker.id} (pid ${entry.worker.process.pid ?? '?'}) exited (${signal ?? `code ${code}`}); starting another${backoff > 0 ? ` in ${backoff}ms` : ''}`,
      { event: 'worker-replaced', worker: entry.worker.id, code, signal },
    );
    const restart = (): void => {
      if (!this.stopping) this.fork(this.generation);
    };
    if (backoff > 0) setTimeout(restart, backoff).unref();
    else restart();
  }

  private drainWorker(e: WorkerEntry): void {
    e.state = 'draining';
    this.send(e.worker, { lb: 'drain' });
  }

  private onMessage(worker: Worker, message: Exclude<ToPrimary, { lb: 'ready' }>): void {
    switch (message.lb) {
      case 'hello':
        this.sendState(worker);
        return;
      case 'take-out': {
        const upstream = this.pool.get(message.id);
        if (upstream !== undefined) this.pool.takeOut(upstream, `${message.reason} (worker ${worker.id})`);
        return;
      }
      case 'report': {
        this.book.record(worker.id, message);
        const w = this.waiting.get(message.seq);
        if (w !== undefined && w.left.delete(worker.id) && w.left.size === 0) w.done();
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

  private sendState(worker: Worker): void {
    this.send(worker, { lb: 'members', members: this.memberSpecs() });
    this.send(worker, { lb: 'health', states: this.pool.healthSnapshot() });
  }

  private broadcastState(): void {
    for (const e of this.workers.values()) if (e.worker.isConnected()) this.sendState(e.worker);
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

  private send(worker: Worker, message: ToWorker): void {
    if (!worker.isConnected()) return;
    try {
      worker.send(message, undefined, undefined, () => undefined);
    } catch {
      // It is exiting; its 'exit' handler does the bookkeeping.
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
