/**
 * A cluster's primary (nginx's master, HAProxy's master, Envoy's main thread): it holds the
 * listening sockets as descriptors (every worker inherits a copy when it starts, and accepts on it
 * itself), runs the control plane once (discovery, health checks, admin listener), tells every
 * worker who is in rotation, gathers their counters into one status, and supervises them: a
 * worker that dies is replaced at once, and SIGHUP reloads with zero downtime (new workers first,
 * then the old drain). When PM2 stops it, handover/ carries its sockets, and its serving workers,
 * to the next primary: a PM2 restart refuses no connection.
 *
 * It never proxies a request itself, so it has nothing to lose when a worker goes, and it keeps
 * serving through a PM2 daemon's death as the single-process balancer does.
 */
import os from 'node:os';
import type { BalancerConfig } from '../config.js';
import type { BalancerSettings } from '../config-source.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { AdminServer } from '../admin-server.js';
import { ControlPlane, type BalancerNow } from '../control-plane.js';
import { BalancerEvents } from '../events.js';
import type { DiscoveryKind } from '../discovery/types.js';
import type { Pool } from '../pool.js';
import { buildStatus, type BalancerStatus } from '../status.js';
import { acquireSockets, type PrimarySockets } from '../handover/descriptors.js';
import { openSharedZone, sweepRows, type SharedZone } from './shared-zone.js';
import { fdOf } from '../handover/fd-passing.js';
import { leaveToNext, type HandedOn, type LeavingPrimary } from '../handover/leaving.js';
import { handoverPath, type HandedListener } from '../handover/message.js';
import { currentPm2TreeKill } from '../../supervisor/config.js';
import { WorkerReports } from './worker-reports.js';
import { eachFinished } from './finished-batch.js';
import type { ToPrimary } from './messages.js';
import type { SlottedSpec } from '../pool.js';
import { WorkerSet, type WorkerEntry } from './worker-set.js';

export type { HandedOn } from '../handover/leaving.js';

export interface PrimaryOptions {
  settings: BalancerSettings;
  discoveryKind: DiscoveryKind;
  logger: Logger;
  /** Settings as they are now (argv, environment, env file): read again on every reload. */
  reread: () => BalancerSettings;
  /** The entry script the workers run, and its arguments (PM2 may wrap the process's own argv). */
  exec: string;
  args: string[];
  /** The holder's entry script (src/balancer-holder.ts, built). */
  holderExec: string;
  /** The admin API's bearer token (`--admin-token-file`). */
  adminToken?: string | null;
}

/** How long a new worker may take to listen before a reload gives up on it. */
const START_TIMEOUT_MS = 15_000;
/** How often rows of the zone whose process is gone (an old generation's, a killed worker's) are cleared. */
const SWEEP_MS = 1000;

export class ClusterPrimary {
  readonly events = new BalancerEvents();
  private readonly control: ControlPlane;
  private readonly reports = new WorkerReports();
  private readonly workers: WorkerSet;
  /** Where a handover for this listening address waits (its host and port never change on reload). */
  private readonly rendezvous: string | null;
  private config: BalancerConfig;
  private env: Record<string, string | undefined>;
  private reloads = 0;
  private reloading = false;
  private reloadAgain = false;
  private port = 0;
  private membersQueued = false;
  /** The front door is closing or closed: workers answer with `Connection: close` (front-door.ts). */
  private leaving = false;
  private sweeper: NodeJS.Timeout | null = null;

  /** Take the sockets and the zone (from the last primary's handover, or new ones), then build. */
  static async create(options: PrimaryOptions): Promise<ClusterPrimary> {
    const { config } = options.settings;
    const rendezvous = handoverPath(os.tmpdir(), process.getuid?.() ?? 0, config.host, config.port);
    const sockets = await acquireSockets(config, options.logger, rendezvous);
    return new ClusterPrimary(options, rendezvous, sockets, openSharedZone(sockets.zone, options.logger));
  }

  private constructor(
    private readonly options: PrimaryOptions,
    rendezvous: string | null,
    private readonly sockets: PrimarySockets,
    private readonly shared: SharedZone,
  ) {
    this.config = options.settings.config;
    this.env = options.settings.env;
    this.rendezvous = rendezvous;
    this.control = new ControlPlane({
      config: this.config,
      logger: options.logger,
      events: this.events,
      discoveryKind: options.discoveryKind,
      zone: shared.zone,
      adminToken: options.adminToken ?? null,
      onMembers: () => this.membersChanged(),
    });
    const taken = sockets.taken;
    if (taken !== null && taken.handover.zone) this.pool.adopt(taken.handover.slots);
    // A waiting request in any worker may go now: the zone already says which upstream is up.
    this.pool.onAvailability(() => {
      for (const e of this.workers.all()) this.workers.send(e, { lb: 'available' });
    });
    this.workers = new WorkerSet({
      exec: options.exec,
      args: options.args,
      logger: options.logger,
      env: () => this.env,
      onMessage: (entry, message) => this.onMessage(entry, message),
      onExit: (entry) => this.reports.retire(entry.id),
    });
    this.workers.useSockets(sockets, shared);
    this.control.serveStatus({
      status: () => this.freshStatus(),
      now: () => this.now(),
      door: {
        leave: (on, closeIdle) => {
          this.leaving = on;
          for (const e of this.workers.all())
            if (e.child.connected) this.workers.send(e, { lb: 'leave', on, closeIdle });
        },
        // Fresh counts: a report up to a quarter second old could miss a connection just closed.
        openConnections: async () => {
          await this.reports.refresh(this.workers);
          return this.reports.connections().open;
        },
      },
    });
  }

  get admin(): AdminServer {
    return this.control.admin;
  }

  get pool(): Pool {
    return this.control.pool;
  }

  private get stopping(): boolean {
    return this.workers.stopping;
  }

  /** Start the workers and discovery on the sockets and the zone it holds, then serve. */
  async start(): Promise<{ port: number; adminPort: number }> {
    const { logger } = this.options;
    const { sockets } = this;
    const taken = sockets.taken;
    if (taken !== null) {
      logger.info(
        `took over the listening sockets of the last balancer (pid ${taken.handover.from}): ${taken.handover.listeners.map((l) => `${l.role} ${l.port}`).join(', ')}`,
        { event: 'handover-taken', from: taken.handover.from },
      );
    }
    let started: WorkerEntry[] = [];
    try {
      // The workers boot (a node start each) while discovery runs, so connections queued through a
      // handover wait for the slower of the two, not for both in turn. A worker that listens before
      // the pool is known holds its requests for --queue-timeout, as when no upstream is up.
      started = this.workers.startGeneration(this.config.workers);
      await this.control.discover();
      const serving = await this.startServing(started, sockets);
      // The holder drains the old generation now: these workers serve. A worker of theirs that
      // held the sockets after a crash has done its part: the next crash elects anew.
      taken?.ready();
      if (taken !== null) this.shared.zone.clearRescuer();
      this.sweeper = setInterval(() => sweepRows(this.shared.zone, this.ownRows()), SWEEP_MS);
      this.sweeper.unref();
      return serving;
    } catch (err) {
      this.workers.stopping = true; // no replacements for the workers stopped here
      for (const e of started) e.child.kill('SIGKILL');
      // The holder keeps the sockets, and the old generation serving, for the next primary.
      taken?.giveUp();
      throw err;
    }
  }

  private async startServing(
    started: WorkerEntry[],
    sockets: PrimarySockets,
  ): Promise<{ port: number; adminPort: number }> {
    this.port = (await Promise.all(started.map((e) => e.ready)))[0] ?? 0;
    this.control.logListening(this.now(), ` (${this.config.workers} workers)`);
    await this.control.startFront(this.port);
    const adminPort = await this.control.listenAdmin(sockets.admin ?? undefined);
    await this.control.checkHealth();
    this.control.logReady();
    return { port: this.port, adminPort };
  }

  /**
   * PM2 is stopping this primary: hand the sockets to a holder for the next one (handover/), with
   * the serving workers too when PM2 waits for this process alone. Nothing is handed on when there
   * is nothing to hand (port 0, a reload or stop under way).
   */
  async handOver(): Promise<HandedOn> {
    const { sockets } = this;
    if (this.stopping || this.reloading || this.rendezvous === null) return 'nothing';
    const listeners: LeavingPrimary['listeners'] = [listener('public', this.port, sockets.public)];
    if (sockets.redirect !== null && this.config.httpRedirectPort !== null) {
      listeners.push(listener('redirect', this.config.httpRedirectPort, sockets.redirect));
    }
    const adminPort = this.control.adminPort;
    if (this.config.adminPort !== 0 && adminPort > 0) {
      listeners.push(listener('admin', adminPort, fdOf(this.admin.server)));
    }
    const servingOn = currentPm2TreeKill() ? [] : this.workers.serving();
    return leaveToNext({
      rendezvous: this.rendezvous,
      listeners,
      zone: { fd: this.shared.fd, slots: this.pool.slots() },
      servingOn: servingOn.map((e) => ({
        pid: e.pid,
        tell: (ms, heard) => this.workers.send(e, { lb: 'serve-on', ms }, heard),
      })),
      holderExec: this.options.holderExec,
      trackFile: this.config.vrrpTrackFile,
      env: this.env,
      name: this.config.name,
      logLevel: this.config.logLevel,
      logFormat: this.config.logFormat,
      logger: this.options.logger,
    });
  }

  /**
   * Go, leaving the workers serving (after handOver said 'sockets-and-workers'): no discovery, no
   * checks, no admin listener here any more, and the workers' channels closed, which they expect.
   */
  async leave(): Promise<void> {
    this.workers.stopping = true; // no replacements for workers that exit from here on
    if (this.sweeper !== null) clearInterval(this.sweeper);
    await this.control.close();
    this.workers.disconnect();
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
    const old = this.workers.serving();
    const before = { config: this.config, env: this.env };
    try {
      this.config = next.config;
      this.env = next.env;
      logger.info(
        `reload: starting ${this.config.workers} new workers (generation ${this.workers.generation + 1})`,
        { event: 'reload-start', generation: this.workers.generation + 1 },
      );
      const fresh = this.workers.startGeneration(this.config.workers);
      try {
        await Promise.all(
          fresh.map((e) => withTimeout(e.ready, START_TIMEOUT_MS, 'a new worker did not listen')),
        );
      } catch (err) {
        for (const e of fresh) this.workers.drain(e);
        this.config = before.config;
        this.env = before.env;
        logger.error(`reload failed, the old workers keep serving: ${errorMessage(err)}`, {
          event: 'reload-failed',
        });
        return false;
      }
      for (const e of old) this.workers.drain(e);
      this.reloads++;
      logger.info(
        `reload done: generation ${this.workers.generation} serving with ${fresh.length} workers, ${old.length} old workers draining`,
        { event: 'reload-done', generation: this.workers.generation, reloads: this.reloads },
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
      this.workers.kill('SIGKILL');
      return;
    }
    this.workers.stopping = true;
    this.options.logger.info(
      `${signal}: shutting down, the workers' in-flight requests have ${this.config.graceMs}ms to finish`,
      { event: 'shutdown', signal, graceMs: this.config.graceMs },
    );
    for (const e of this.workers.all()) this.workers.drain(e);
    const deadline = Date.now() + this.config.graceMs + 3000;
    while (this.workers.size > 0 && Date.now() < deadline) await sleep(50);
    this.workers.kill('SIGKILL');
    if (this.sweeper !== null) clearInterval(this.sweeper);
    await this.control.close();
  }

  status(): BalancerStatus {
    const totals = this.reports.totals();
    const status = buildStatus(
      this.pool.members,
      this.control.facts(this.now()),
      { inFlight: totals.inFlight, served: totals.served, failures: totals.failures, queued: totals.queued },
      this.workers.all().map((e) => this.reports.worker(e)),
    );
    this.reports.addUpstreamCounts(status);
    return status;
  }

  /** The status after asking every worker for its counts now (waiting a moment at most). */
  private async freshStatus(): Promise<BalancerStatus> {
    await this.refreshReports();
    return this.status();
  }

  /**
   * Ask every worker for its counts and finished requests now; resolves once all answered (or
   * after a moment). /metrics waits for it as /__lb/status does, so a scrape right after a burst
   * sees the burst.
   */
  refreshReports(): Promise<void> {
    return this.reports.refresh(this.workers);
  }

  private now(): BalancerNow {
    return {
      port: this.port,
      engine: this.config.proxyEngine,
      draining: this.stopping,
      reloads: this.reloads,
      takenOverFrom: this.sockets.taken?.handover.from ?? null,
      scheme: this.scheme,
      tunnelsOpen: this.reports.totals().tunnels,
      connections: this.reports.connections(),
    };
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
      case 'report':
        this.reports.record(entry.id, message);
        if (!this.stopping) {
          this.workers.recycleIfOverMemory(entry, message.usage.rssBytes, this.config.workerMaxMemoryBytes);
        }
        return;
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
    this.workers.send(entry, { lb: 'members', members: this.memberSpecs() });
    if (this.leaving) this.workers.send(entry, { lb: 'leave', on: true, closeIdle: true });
  }

  /** One membership message per change, however many members it moved (health goes by the zone). */
  private membersChanged(): void {
    if (this.membersQueued) return;
    this.membersQueued = true;
    queueMicrotask(() => {
      this.membersQueued = false;
      for (const e of this.workers.all()) if (e.child.connected) this.sendState(e);
    });
  }

  private memberSpecs(): SlottedSpec[] {
    return this.pool.members.map((u) => ({
      id: u.id,
      name: u.name,
      host: u.host,
      port: u.port,
      weight: u.specWeight,
      slot: u.slot,
      ...(u.pm2 === null ? {} : { pm2: u.pm2 }),
    }));
  }

  /** The rows of this primary's workers (their pid is written once they are forked). */
  private ownRows(): Set<number> {
    return new Set(this.workers.all().map((e) => e.row));
  }
}

function listener(
  role: HandedListener['role'],
  port: number,
  fd: number,
): LeavingPrimary['listeners'][number] {
  return { listener: { role, port }, fd };
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
