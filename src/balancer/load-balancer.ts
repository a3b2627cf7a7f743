/**
 * The balancer in one process (`--workers 1`, and the tests' in-process balancer): the control
 * plane (discovery, pool, health checks, admin) and the request path (public listener, proxy
 * handler, engine) side by side. Start-up order: engine, discovery, public listener, admin
 * listener, first health round, then `ready`. With more workers, src/balancer/cluster/ splits the
 * same two parts over a primary and its workers.
 */
import type http from 'node:http';
import type { BalancerConfig } from './config.js';
import { httpUrl } from '../net/address.js';
import { listenOn } from '../net/listen.js';
import type { Logger } from '../logger.js';
import { sendJson, type AdminServer } from './admin-server.js';
import { ControlPlane } from './control-plane.js';
import type { DiscoverySource } from './discovery/types.js';
import { BalancerEvents } from './events.js';
import type { HealthChecker } from './health-checker.js';
import type { Pool } from './pool.js';
import type { ProxyHandler } from './proxy-handler.js';
import { RequestPath } from './request-path.js';
import { buildStatus, STATUS_PATH, type BalancerStatus, type StatusFacts } from './status.js';

export interface LoadBalancerOptions {
  config: BalancerConfig;
  /** static or pm2, after resolving `auto`. */
  discoveryKind: 'static' | 'pm2';
  logger: Logger;
  /** A ready-made source (tests); otherwise one is created from the config. */
  discovery?: DiscoverySource;
}

export class LoadBalancer {
  readonly events = new BalancerEvents();
  readonly pool: Pool;
  readonly admin: AdminServer;
  readonly server: http.Server;
  readonly handler: ProxyHandler;
  readonly health: HealthChecker;
  private readonly control: ControlPlane;
  private readonly path: RequestPath;
  private readonly config: BalancerConfig;
  private readonly logger: Logger;
  private port = 0;

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
    this.path = new RequestPath(config, this.pool, logger, this.events);
    this.server = this.path.server;
    this.handler = this.path.handler;
    this.admin.route(STATUS_PATH, (_req, res) => sendJson(res, 200, this.status()));
    this.admin.route('/healthz', (_req, res) => healthz(res, this.handler.draining, this.facts(), this.pool));
  }

  /** Discover, listen (public, then admin), run the first health round. Resolves when ready. */
  async start(): Promise<{ port: number; adminPort: number }> {
    const { config, logger } = this;
    await this.path.start();
    await this.control.discover();
    this.port = await listenOn(this.server, config.port, config.host);
    logger.info(
      listeningLine(config, this.port, this.pool.policyName, this.pool.size, this.path.engineName),
      {
        event: 'listening',
        port: this.port,
        host: config.host,
      },
    );
    const adminPort = await this.control.listenAdmin();
    await this.control.checkHealth();
    logReady(logger, this.pool);
    return { port: this.port, adminPort };
  }

  status(): BalancerStatus {
    const { counts } = this.handler;
    return buildStatus(this.pool.members, this.facts(), { ...counts, queued: this.handler.queued }, [
      {
        id: 0,
        pid: process.pid,
        generation: 0,
        startedAt: this.control.startedAt,
        state: this.handler.draining ? 'draining' : 'ready',
        ...counts,
      },
    ]);
  }

  private facts(): StatusFacts {
    return statusFacts(this.config, this.control, {
      port: this.port,
      engine: this.path.engineName,
      draining: this.handler.draining,
      reloads: 0,
    });
  }

  /** After the public listener has drained: stop the timers, discovery, admin and upstream sockets. */
  async close(): Promise<void> {
    this.path.close();
    await this.control.close();
  }
}

/** The facts of the status document, for a single process and a cluster primary alike. */
export function statusFacts(
  config: BalancerConfig,
  control: ControlPlane,
  now: { port: number; engine: string; draining: boolean; reloads: number },
): StatusFacts {
  return {
    name: config.name,
    pid: process.pid,
    startedAt: control.startedAt,
    now: Date.now(),
    port: now.port,
    adminPort: control.adminPort,
    discovery: control.discoveryKind,
    pool: control.discoveryKind === 'pm2' ? config.pool : null,
    proxyEngine: now.engine,
    policy: control.pool.policyName,
    retries: config.retry.enabled,
    draining: now.draining,
    workers: config.workers,
    reloads: now.reloads,
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

export function listeningLine(
  config: BalancerConfig,
  port: number,
  policy: string,
  size: number,
  engine: string,
): string {
  return (
    `${config.name} listening on ${httpUrl(config.host, port)}: ${policy} over ` +
    `${plural(size, 'upstream')} through ${engine}, retries ${config.retry.enabled ? 'on' : 'off'}`
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
