/**
 * The balancer's parts wired together: discovery feeds the pool, the health checker and the proxy
 * handler feed its state, the public listener proxies, the admin listener reports. Start-up order:
 * discovery, public listener, admin listener, first health round, then `ready`. The entry point
 * (src/balancer.ts) only loads the config and handles signals.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BalancerConfig } from './config.js';
import { errorMessage } from '../errors.js';
import { handleClientError } from '../http/client-error.js';
import type { Logger } from '../logger.js';
import { AdminServer, sendJson } from './admin-server.js';
import { createDiscovery } from './discovery/create-discovery.js';
import type {
  DiscoveryEvent,
  DiscoveryKind,
  DiscoverySource,
  DiscoveryState,
  UpstreamSpec,
} from './discovery/types.js';
import { BalancerEvents } from './events.js';
import { Exchange } from './exchange.js';
import { HealthChecker } from './health-checker.js';
import { Pool } from './pool.js';
import { createProxyEngine } from './engines/create-engine.js';
import type { ProxyEngine } from './engines/proxy-engine.js';
import { ProxyHandler } from './proxy-handler.js';
import { buildStatus, type BalancerStatus } from './status.js';

export const STATUS_PATH = '/__lb/status';

export interface LoadBalancerOptions {
  config: BalancerConfig;
  /** static, pm2 or etcd, after resolving `auto`. */
  discoveryKind: DiscoveryKind;
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
  private readonly config: BalancerConfig;
  private readonly logger: Logger;
  readonly health: HealthChecker;
  private readonly discoveryKind: DiscoveryKind;
  private discovery: DiscoverySource | undefined;
  private engine: ProxyEngine | undefined;
  private readonly startedAt = Date.now();
  private port = 0;
  private adminPort = 0;

  constructor(options: LoadBalancerOptions) {
    const { config, logger } = options;
    this.config = config;
    this.logger = logger;
    this.discoveryKind = options.discoveryKind;
    this.discovery = options.discovery;
    this.pool = new Pool({
      thresholds: { fall: config.health.fall, rise: config.health.rise },
      logger,
      events: this.events,
    });
    this.handler = new ProxyHandler(
      this.pool,
      {
        name: config.name,
        retry: config.retry,
        proxyTimeoutMs: config.proxyTimeoutMs,
        retryAfterS: Math.max(1, Math.ceil((config.health.intervalMs * config.health.rise) / 1000)),
      },
      logger,
      this.events,
    );
    this.health = new HealthChecker(this.pool, config.health);
    // node:http builds every response as an Exchange, so the request path's state lives on it.
    const server = http.createServer<typeof http.IncomingMessage, typeof Exchange>(
      {
        ServerResponse: Exchange,
        maxHeaderSize: config.maxHeaderSize,
        requestTimeout: config.requestTimeoutMs,
        headersTimeout: config.headersTimeoutMs,
        noDelay: true,
        // Checked by the request path, which says why in its 400 (node:http's own has no body).
        requireHostHeader: false,
      },
      this.handler.handle,
    );
    this.server = server as unknown as http.Server;
    this.server.keepAliveTimeout = config.keepAliveTimeoutMs;
    this.server.on('clientError', (err: Error & { code?: string }, socket) =>
      handleClientError(err, socket, config.name, logger),
    );
    this.admin = new AdminServer(logger);
    this.admin.route(STATUS_PATH, (_req, res) => sendJson(res, 200, this.status()));
    this.admin.route('/healthz', (_req, res) =>
      sendJson(res, this.handler.draining ? 503 : 200, {
        status: this.handler.draining ? 'draining' : 'ok',
        name: config.name,
        pid: process.pid,
        uptimeMs: Date.now() - this.startedAt,
        available: this.pool.availableCount(),
        size: this.pool.size,
      }),
    );
  }

  /** Discover, listen (public, then admin), run the first health round. Resolves when ready. */
  async start(): Promise<{ port: number; adminPort: number }> {
    const { config, logger } = this;
    this.engine = await createProxyEngine(
      {
        name: config.proxyEngine,
        maxSockets: config.upstreamMaxSockets,
        idleTimeoutMs: config.upstreamIdleTimeoutMs,
        connectTimeoutMs: config.connectTimeoutMs,
      },
      this.handler,
    );
    this.handler.use(this.engine);

    this.discovery ??= await createDiscovery(
      {
        kind: this.discoveryKind,
        upstreams: config.upstreams,
        pool: config.pool,
        host: '127.0.0.1',
        reconcileMs: config.reconcileMs,
        etcd: config.etcd,
      },
      logger,
    );
    const members = await this.discovery.start((event) => this.onDiscovery(event));
    this.pool.setMembers(members, this.discovery.kind, true);
    logger.info(
      `${this.discovery.kind} discovery${describeSource(this.discovery.kind, config)}: ` +
        `a pool of ${members.length}: ${describeMembers(members)}`,
      {
        event: 'discovery',
        kind: this.discovery.kind,
        pool: this.discovery.kind === 'static' ? null : config.pool,
        members: members.map((m) => ({ id: m.id, name: m.name })),
      },
    );

    this.port = await listen(this.server, config.port, config.host);
    logger.info(
      `${config.name} listening on ${url(config.host, this.port)}: ${this.pool.policyName} over ` +
        `${plural(this.pool.size, 'upstream')} through ${this.engine.name}, ` +
        `retries ${config.retry.enabled ? 'on' : 'off'}`,
      { event: 'listening', port: this.port, host: config.host },
    );
    this.adminPort = await this.admin.listen(config.adminPort, config.adminHost);
    logger.info(`admin listening on ${url(config.adminHost, this.adminPort)} (GET ${STATUS_PATH})`, {
      event: 'listening',
      listener: 'admin',
      port: this.adminPort,
      host: config.adminHost,
    });

    await this.health.start();
    logger.info(`ready: ${this.pool.availableCount()} of ${this.pool.size} upstreams up`, {
      event: 'ready',
      available: this.pool.availableCount(),
      size: this.pool.size,
    });
    return { port: this.port, adminPort: this.adminPort };
  }

  status(): BalancerStatus {
    return buildStatus(this.pool.members, {
      name: this.config.name,
      pid: process.pid,
      startedAt: this.startedAt,
      now: Date.now(),
      port: this.port,
      adminPort: this.adminPort,
      discovery: this.discovery?.kind ?? this.discoveryKind,
      pool: (this.discovery?.kind ?? this.discoveryKind) === 'static' ? null : this.config.pool,
      source: this.discoveryState(),
      proxyEngine: this.config.proxyEngine,
      policy: this.pool.policyName,
      retries: this.config.retry.enabled,
      draining: this.handler.draining,
    });
  }

  /** The discovery source's own report, or a plain "connected" for sources that cannot lose theirs. */
  private discoveryState(): DiscoveryState {
    const kind = this.discovery?.kind ?? this.discoveryKind;
    return (
      this.discovery?.state?.() ?? {
        kind,
        connected: true,
        lastRevision: null,
        lastError: null,
        since: this.startedAt,
      }
    );
  }

  /** After the public listener has drained: stop the timers, discovery, admin and upstream sockets. */
  async close(): Promise<void> {
    this.health.stop();
    this.handler.close();
    const stops: Promise<unknown>[] = [this.admin.close()];
    if (this.discovery !== undefined) stops.push(this.discovery.stop());
    await Promise.allSettled(stops);
    this.engine?.close();
  }

  private onDiscovery(event: DiscoveryEvent): void {
    try {
      if (event.type === 'members') {
        const before = this.pool.members;
        this.pool.setMembers(event.members, this.discovery?.kind ?? this.discoveryKind);
        for (const gone of before) if (gone.removed) this.engine?.detach(gone);
        return;
      }
      const upstream = this.pool.get(event.id);
      if (upstream === undefined) return;
      if (event.type === 'leaving') {
        this.pool.takeOut(upstream, event.reason);
      } else {
        this.logger.debug(`${upstream.name} is online again (${event.reason}); checking it now`, {
          event: 'upstream-online',
          id: upstream.id,
          reason: event.reason,
        });
        void this.health.checkNow(upstream);
      }
    } catch (err) {
      this.logger.error(`discovery event ${event.type} failed: ${errorMessage(err)}`, {
        event: 'discovery-error',
      });
    }
  }
}

function describeSource(kind: DiscoveryKind, config: BalancerConfig): string {
  if (kind === 'pm2') return ` (LB_POOL=${config.pool})`;
  if (kind === 'etcd')
    return ` (${config.etcd.prefix}/pools/${config.pool}/ on ${config.etcd.endpoints.join(',')})`;
  return '';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function describeMembers(members: readonly UpstreamSpec[]): string {
  if (members.length === 0) return '(empty)';
  return members
    .map((m) => `${m.name} (${m.id}${(m.weight ?? 1) === 1 ? '' : ` weight ${m.weight}`})`)
    .join(', ');
}

function url(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
