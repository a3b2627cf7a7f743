/**
 * The balancer in one process (`--workers 1`, and the tests' in-process balancer): the control
 * plane (discovery, pool, health checks, admin) and the request path (public listener, proxy and
 * upgrade handlers, engine) side by side. Start-up order: engine, discovery, public listener,
 * admin listener, first health round, then `ready`. With more workers, src/balancer/cluster/ splits
 * the same two parts over a primary and its workers.
 */
import type { BalancerConfig } from './config.js';
import type { DrainableServer } from '../http/graceful-shutdown.js';
import type { Logger } from '../logger.js';
import type { AdminServer } from './admin-server.js';
import { ControlPlane, type BalancerNow } from './control-plane.js';
import type { DiscoveryKind, DiscoverySource } from './discovery/types.js';
import { BalancerEvents } from './events.js';
import type { HealthChecker } from './health-checker.js';
import type { Pool } from './pool.js';
import type { ProxyHandler } from './proxy-handler.js';
import { RequestPath } from './request-path.js';
import { buildStatus, type BalancerStatus, type RequestTotals, type WorkerStatus } from './status.js';
import type { TlsCredentials } from './tls-credentials.js';
import type { TlsListener } from './tls-listener.js';
import type { UpgradeHandler } from './upgrade-handler.js';
import { UsageSampler } from '../metrics/process-usage.js';

export interface LoadBalancerOptions {
  config: BalancerConfig;
  /** static or pm2, after resolving `auto`. */
  discoveryKind: DiscoveryKind;
  logger: Logger;
  /** A ready-made source (tests); otherwise one is created from the config. */
  discovery?: DiscoverySource;
  /** The certificate and key when `config.tls` is set (loaded by the entry point: exit 2 if bad). */
  tls?: TlsCredentials;
  /** The admin API's bearer token (`--admin-token-file`). */
  adminToken?: string | null;
  /** Why this one process serves where more workers were asked (the entry point's fallback). */
  singleProcessReason?: string | null;
}

export class LoadBalancer {
  readonly events = new BalancerEvents();
  readonly pool: Pool;
  readonly admin: AdminServer;
  readonly health: HealthChecker;
  readonly server: DrainableServer;
  readonly tls: TlsListener | undefined;
  readonly handler: ProxyHandler;
  readonly upgrades: UpgradeHandler;
  private readonly control: ControlPlane;
  private readonly path: RequestPath;
  /** This process's memory and CPU, for the status's one worker row. */
  private readonly usage = new UsageSampler();

  constructor(options: LoadBalancerOptions) {
    const { config, logger } = options;
    this.control = new ControlPlane({
      config,
      logger,
      events: this.events,
      discoveryKind: options.discoveryKind,
      adminToken: options.adminToken ?? null,
      singleProcessReason: options.singleProcessReason ?? null,
      ...(options.discovery === undefined ? {} : { discovery: options.discovery }),
      onGone: (gone) => this.path.forget(gone),
    });
    this.pool = this.control.pool;
    this.health = this.control.health;
    this.admin = this.control.admin;
    this.path = new RequestPath(config, this.pool, logger, this.events, options.tls);
    this.server = this.path.server;
    this.tls = this.path.tls;
    this.handler = this.path.handler;
    this.upgrades = this.path.upgrades;
    this.control.serveStatus({
      status: () => this.status(),
      now: () => this.now(),
      door: {
        leave: (on, closeIdle) => this.path.leave(on, closeIdle),
        openConnections: () => this.path.connections().open,
      },
    });
  }

  get scheme(): 'http' | 'https' {
    return this.path.scheme;
  }

  /** Discover, listen (public, then admin), run the first health round. Resolves when ready. */
  async start(): Promise<{ port: number; adminPort: number }> {
    await this.path.start();
    await this.control.discover();
    const port = await this.path.listen();
    this.control.logListening(this.now());
    await this.control.startFront(port);
    const adminPort = await this.control.listenAdmin();
    await this.path.listenRedirect();
    await this.control.checkHealth();
    this.control.logReady();
    return { port, adminPort };
  }

  status(): BalancerStatus {
    const { counts } = this.handler;
    const requests: RequestTotals = { ...counts, queued: this.handler.queued };
    const self: WorkerStatus = {
      id: 0,
      pid: process.pid,
      generation: 0,
      startedAt: this.control.startedAt,
      state: this.handler.draining ? 'draining' : 'ready',
      ...counts,
      ...this.usage.sample(),
    };
    return buildStatus(this.pool.members, this.control.facts(this.now()), requests, [self]);
  }

  private now(): BalancerNow {
    return {
      port: this.path.port,
      engine: this.path.engineName,
      draining: this.handler.draining,
      reloads: 0,
      scheme: this.path.scheme,
      tunnelsOpen: this.upgrades.tunnels.size,
      connections: this.path.connections(),
    };
  }

  /** After the public listener has drained: stop the timers, discovery, admin and upstream sockets. */
  async close(): Promise<void> {
    await this.path.close();
    await this.control.close();
  }
}
