/**
 * The balancer in one process (`--workers 1`, and the tests' in-process balancer): the control
 * plane (discovery, pool, health checks, admin) and the request path (public listener, proxy and
 * upgrade handlers, engine) side by side. Start-up order: engine, discovery, public listener,
 * admin listener, first health round, then `ready`. With more workers, src/balancer/cluster/ splits
 * the same two parts over a primary and its workers.
 */
import type http from 'node:http';
import type { BalancerConfig } from './config.js';
import type { DrainableServer } from '../http/graceful-shutdown.js';
import type { Logger } from '../logger.js';
import { hostPort } from '../net/address.js';
import { sendJson, type AdminServer } from './admin-server.js';
import { ControlPlane } from './control-plane.js';
import type { DiscoveryKind, DiscoverySource } from './discovery/types.js';
import { BalancerEvents } from './events.js';
import type { HealthChecker } from './health-checker.js';
import type { Pool } from './pool.js';
import type { ProxyHandler } from './proxy-handler.js';
import { RequestPath } from './request-path.js';
import {
  buildStatus,
  STATUS_PATH,
  type BalancerStatus,
  type ConnectionFacts,
  type RequestTotals,
  type StatusFacts,
  type WorkerStatus,
} from './status.js';
import type { TlsCredentials } from './tls-credentials.js';
import type { TlsListener } from './tls-listener.js';
import type { UpgradeHandler } from './upgrade-handler.js';

export interface LoadBalancerOptions {
  config: BalancerConfig;
  /** static or pm2, after resolving `auto`. */
  discoveryKind: DiscoveryKind;
  logger: Logger;
  /** A ready-made source (tests); otherwise one is created from the config. */
  discovery?: DiscoverySource;
  /** The certificate and key when `config.tls` is set (loaded by the entry point: exit 2 if bad). */
  tls?: TlsCredentials;
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
  private readonly config: BalancerConfig;
  private readonly logger: Logger;

  constructor(options: LoadBalancerOptions) {
    const { config, logger } = options;
    this.config = config;
    this.logger = logger;
    this.control = new ControlPlane({
      config,
      logger,
      events: this.events,
      discoveryKind: options.discoveryKind,
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
    this.admin.route(STATUS_PATH, (_req, res) => sendJson(res, 200, this.status()));
    this.admin.route('/healthz', (_req, res) => healthz(res, this.handler.draining, this.facts(), this.pool));
  }

  get scheme(): 'http' | 'https' {
    return this.path.scheme;
  }

  /** Discover, listen (public, then admin), run the first health round. Resolves when ready. */
  async start(): Promise<{ port: number; adminPort: number }> {
    const { config, logger } = this;
    await this.path.start();
    await this.control.discover();
    const port = await this.path.listen();
    logger.info(listeningLine(config, this.path, this.pool), {
      event: 'listening',
      port,
      host: config.host,
      scheme: this.path.scheme,
    });
    const adminPort = await this.control.listenAdmin();
    await this.path.listenRedirect();
    await this.control.checkHealth();
    logReady(logger, this.pool);
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
    };
    return buildStatus(this.pool.members, this.facts(), requests, [self]);
  }

  private facts(): StatusFacts {
    return statusFacts(this.config, this.control, {
      port: this.path.port,
      engine: this.path.engineName,
      draining: this.handler.draining,
      reloads: 0,
      scheme: this.path.scheme,
      tunnelsOpen: this.upgrades.tunnels.size,
      connections: this.path.connections(),
    });
  }

  /** After the public listener has drained: stop the timers, discovery, admin and upstream sockets. */
  async close(): Promise<void> {
    await this.path.close();
    await this.control.close();
  }
}

/** What the status document says of the balancer as a whole, in one process or a cluster. */
export interface BalancerNow {
  port: number;
  engine: string;
  draining: boolean;
  reloads: number;
  /** The primary this one took its listening sockets from (a cluster under PM2). */
  takenOverFrom?: number | null;
  scheme: 'http' | 'https';
  tunnelsOpen: number;
  connections: ConnectionFacts;
}

/** The facts of the status document, for a single process and a cluster primary alike. */
export function statusFacts(config: BalancerConfig, control: ControlPlane, now: BalancerNow): StatusFacts {
  return {
    name: config.name,
    pid: process.pid,
    startedAt: control.startedAt,
    now: Date.now(),
    port: now.port,
    adminPort: control.adminPort,
    discovery: control.discoveryKind,
    pool: control.discoveryKind === 'static' ? null : config.pool,
    source: control.discoveryState(),
    proxyEngine: now.engine,
    policy: control.pool.policyName,
    retries: config.retry.enabled,
    draining: now.draining,
    workers: config.workers,
    reloads: now.reloads,
    takenOverFrom: now.takenOverFrom ?? null,
    scheme: now.scheme,
    tunnels: { open: now.tunnelsOpen, max: config.tunnels.max },
    connections: now.connections,
  };
}

/** GET /healthz on the admin listener: 200 while serving, 503 while draining. */
export function healthz(res: http.ServerResponse, draining: boolean, facts: StatusFacts, pool: Pool): void {
  sendJson(res, draining ? 503 : 200, {
    status: draining ? 'draining' : 'ok',
    name: facts.name,
    pid: facts.pid,
    uptimeMs: facts.now - facts.startedAt,
    available: pool.availableCount(),
    size: pool.size,
  });
}

/** `balancer listening on http://127.0.0.1:44444: round-robin over 4 upstreams through undici, retries on`. */
export function listeningLine(
  config: BalancerConfig,
  path: { port: number; scheme: 'http' | 'https'; engineName: string },
  pool: Pool,
): string {
  const url = `${path.scheme}://${hostPort(config.host, path.port)}`;
  return (
    `${config.name} listening on ${url}${path.scheme === 'https' ? ' (HTTP/2 and HTTP/1.1)' : ''}: ` +
    `${pool.policyName} over ${plural(pool.size, 'upstream')} through ${path.engineName}, ` +
    `retries ${config.retry.enabled ? 'on' : 'off'}`
  );
}

export function logReady(logger: Logger, pool: Pool, extra = ''): void {
  logger.info(`ready: ${pool.availableCount()} of ${pool.size} upstreams up${extra}`, {
    event: 'ready',
    available: pool.availableCount(),
    size: pool.size,
  });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
