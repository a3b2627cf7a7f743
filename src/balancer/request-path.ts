/**
 * The part of the balancer that carries requests: the public listener (plain HTTP/1.1, or TLS
 * with HTTP/2 and HTTP/1.1), the proxy handler and its engine, the upgrade handler and its
 * tunnels, and the optional plain listener that redirects to HTTPS. A single-process balancer runs
 * it beside its control plane; a cluster runs one in every worker, over a copy of the primary's pool.
 */
import http from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { BalancerConfig } from './config.js';
import { errorMessage } from '../errors.js';
import type { PlainHeaders } from '../http/plain-answer.js';
import { connectionsCheckingIntervalMs } from '../http/connection-checks.js';
import type { DrainableServer } from '../http/graceful-shutdown.js';
import type { Logger } from '../logger.js';
import { hostPort, httpUrl } from '../net/address.js';
import { listenOnFd, listenRetrying } from '../net/listen.js';
import { connectionCap, readDescriptorLimit } from './descriptor-limit.js';
import { LogGate } from './log-gate.js';
import type { BalancerEvents } from './events.js';
import { Http1Exchange } from './exchange.js';
import { createProxyEngine } from './engines/create-engine.js';
import type { ProxyEngine } from './engines/proxy-engine.js';
import { createRedirectServer } from './https-redirect.js';
import type { Pool } from './pool.js';
import type { ConnectionFacts } from './status.js';
import { ProxyHandler } from './proxy-handler.js';
import type { TlsCredentials } from './tls-credentials.js';
import { TlsListener } from './tls-listener.js';
import { NodeHttp1Front, http1ClientError, type Http1Settings } from './node-http1-front.js';
import { TunnelSet } from './tunnel.js';
import { H1Server } from './h1-server/h1-server.js';
import type { Upstream } from './upstream.js';
import { UpgradeHandler } from './upgrade-handler.js';
import { viaEntry } from './via.js';

/**
 * The client connections' write buffer before backpressure reaches the upstream: above one 64 KiB
 * upstream read (node's default of 16 KiB paused the upstream at every read of a large body; the
 * 1 MiB file went 10-40 % faster through the balancer with this).
 */
const RELAY_HIGH_WATER_MARK = 128 * 1024;
export class RequestPath {
  readonly handler: ProxyHandler;
  /** Upgrade requests (WebSockets) and the tunnels they become. */
  readonly upgrades: UpgradeHandler;
  /** The public listener: plain HTTP/1.1, or TLS with HTTP/2 and HTTP/1.1. */
  readonly server: DrainableServer;
  /** Set when the public listener speaks TLS; a reload hands new workers new credentials. */
  readonly tls: TlsListener | undefined;
  /** The socket-level server under `server` (what listens). */
  readonly listener: NetServer;
  private readonly redirect: http.Server | undefined;
  private engine: ProxyEngine | undefined;
  port = 0;
  private listening = false;
  /** Client connections open now, and the cap (--max-connections, or from the descriptor limit). */
  private openConnections = 0;
  readonly connectionLimit: number;
  readonly descriptorLimit: number | null;
  /** Connections closed at once because the cap was reached, and accepts that failed (EMFILE). */
  private dropped = 0;
  private readonly acceptGate = new LogGate(1000);
  /** What the balancer's answers to unparsable requests carry beyond its name (its Via). */
  private readonly clientErrorHeaders: PlainHeaders;

  constructor(
    private readonly config: BalancerConfig,
    pool: Pool,
    private readonly logger: Logger,
    events: BalancerEvents,
    tls?: TlsCredentials,
  ) {
    const via = viaEntry(config.via);
    // A request that could not be parsed has no version to go by: the balancer speaks HTTP/1.1.
    this.clientErrorHeaders = via === null ? {} : { Via: via.relayed };
    const proxying = {
      name: config.name,
      retry: config.retry,
      proxyTimeoutMs: config.proxyTimeoutMs,
      upstreamHeaderTimeoutMs: config.upstreamHeaderTimeoutMs,
      retryAfterS: Math.max(1, Math.ceil((config.health.intervalMs * config.health.rise) / 1000)),
      requestBufferBytes: config.requestBufferBytes,
      queueTimeoutMs: config.queueTimeoutMs,
      maxQueued: config.maxQueued,
      denyPaths: config.denyPaths,
      via,
    };
    this.handler = new ProxyHandler(pool, proxying, logger, events);
    this.upgrades = new UpgradeHandler(
      pool,
      {
        ...proxying,
        // An upgrade that finds no upstream is answered at once: its client will reconnect.
        queueTimeoutMs: 0,
        maxQueued: 0,
        connectTimeoutMs: config.connectTimeoutMs,
        tunnelIdleTimeoutMs: config.tunnels.idleTimeoutMs,
        maxTunnels: config.tunnels.max,
      },
      this.handler,
      new TunnelSet(config.tunnels.closeSpreadMs),
      logger,
      events,
    );
    if (config.tls !== null && tls !== undefined) {
      this.tls = new TlsListener({
        credentials: tls,
        handshakeTimeoutMs: config.tls.handshakeTimeoutMs,
        maxHeaderSize: config.maxHeaderSize,
        logger,
        onRequest: this.handler.handle,
        // ALPN's http/1.1 goes to the same HTTP/1.1 server as the plain listener would run.
        http1:
          config.clientServer === 'h1'
            ? this.ownServer()
            : new NodeHttp1Front(
                this.http1Settings(),
                {
                  onRequest: this.handler.handle,
                  onUpgrade: this.upgrades.handle,
                  requestTimedOut: (res, timeoutMs) => this.handler.requestTimedOut(res, timeoutMs),
                },
                logger,
              ),
      });
      this.server = this.tls;
      this.listener = this.tls.server;
      if (config.httpRedirectPort !== null)
        this.redirect = createRedirectServer(() => this.port, config.name, via);
    } else if (config.clientServer === 'h1') {
      const own = this.ownServer();
      this.server = own;
      this.listener = own.listener;
    } else {
      const plain = this.plainServer();
      this.server = plain;
      this.listener = plain;
    }
    pool.onAvailability(this.handler.wake);
    this.descriptorLimit = readDescriptorLimit();
    this.connectionLimit = connectionCap(this.descriptorLimit, config.maxConnections);
    this.capConnections(this.listener);
  }

  /**
   * The balancer's own limit, before any descriptor runs out (nginx's worker_connections): node
   * closes connections over it as they are accepted, and a failed accept is logged, not fatal.
   */
  private capConnections(listener: NetServer): void {
    listener.maxConnections = this.connectionLimit;
    listener.on('connection', (socket: Socket) => {
      this.openConnections++;
      socket.once('close', () => this.openConnections--);
    });
    listener.on('drop', () => {
      this.dropped++;
      this.localTrouble(
        `at the connection limit (${this.connectionLimit}): a new client connection was closed`,
      );
    });
    // After listening, an error here is a failed accept (EMFILE, ENFILE): the listener carries on.
    listener.on('error', (err) => {
      if (!this.listening) return;
      this.dropped++;
      this.localTrouble(`accepting a client connection failed: ${errorMessage(err)}`);
    });
  }

  /** The balancer's own resources ran short: one line a second at most, no upstream involved. */
  private localTrouble(message: string): void {
    const skipped = this.acceptGate.pass(performance.now());
    if (skipped === undefined) return;
    this.logger.warn(`${message}${skipped > 0 ? ` (and ${skipped} more in the last second)` : ''}`, {
      event: 'local-resource',
      open: this.openConnections,
      limit: this.connectionLimit,
    });
  }

  connections(): ConnectionFacts {
    return {
      open: this.openConnections,
      limit: this.connectionLimit,
      descriptorLimit: this.descriptorLimit,
      dropped: this.dropped,
      localFailures: this.handler.localFailures,
    };
  }

  get scheme(): 'http' | 'https' {
    return this.tls === undefined ? 'http' : 'https';
  }

  /** The engine this path proxies through (loaded on start). */
  get engineName(): string {
    return this.engine?.name ?? this.config.proxyEngine;
  }

  /** The plain HTTP/1.1 public listener on the balancer's own server (--front h1). */
  private ownServer(): H1Server {
    const { config, logger } = this;
    return new H1Server({
      maxHeaderSize: config.maxHeaderSize,
      headersTimeoutMs: config.headersTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      highWaterMark: RELAY_HIGH_WATER_MARK,
      name: config.name,
      extraHeaders: this.clientErrorHeaders,
      logger,
      onRequest: this.handler.handle,
      onUpgrade: this.upgrades.handle,
      requestTimedOut: (res, ms) => this.handler.requestTimedOut(res, ms),
      badBody: (res, refusal) =>
        this.handler.clientFault(res, refusal.status === 413 ? 413 : 400, refusal.reason),
    });
  }

  /** The plain HTTP/1.1 public listener on node:http's server (--front node). */
  private plainServer(): http.Server {
    const { config, logger } = this;
    // node:http builds every response as an Exchange, so the request path's state lives on it.
    const server = http.createServer<typeof http.IncomingMessage, typeof Http1Exchange>(
      {
        ServerResponse: Http1Exchange,
        maxHeaderSize: config.maxHeaderSize,
        requestTimeout: config.requestTimeoutMs,
        headersTimeout: config.headersTimeoutMs,
        // Node checks both timeouts on this interval; without it they hold up to 30 s late.
        connectionsCheckingInterval: connectionsCheckingIntervalMs(
          config.headersTimeoutMs,
          config.requestTimeoutMs,
        ),
        noDelay: true,
        // Checked by the request path, which says why in its 400 (node:http's own has no body).
        requireHostHeader: false,
        // One upstream read (64 KiB) fits under it, so a large body is not paused and resumed
        // at every read; what a slow client leaves unread stays bounded per connection.
        highWaterMark: RELAY_HIGH_WATER_MARK,
      },
      this.handler.handle,
    ) as unknown as http.Server;
    server.keepAliveTimeout = config.keepAliveTimeoutMs;
    server.on('upgrade', this.upgrades.handle);
    server.on('clientError', http1ClientError(this.http1Settings(), this.handler, logger));
    return server;
  }

  /** What both HTTP/1.1 fronts (plain, and over TLS) are set up with. */
  private http1Settings(): Http1Settings {
    const { config } = this;
    return {
      maxHeaderSize: config.maxHeaderSize,
      headersTimeoutMs: config.headersTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      name: config.name,
      clientErrorHeaders: this.clientErrorHeaders,
    };
  }

  /** Load the chosen engine; only then can requests be proxied. */
  async start(): Promise<void> {
    this.engine = await createProxyEngine(
      {
        name: this.config.proxyEngine,
        maxSockets: this.config.upstreamMaxSockets,
        idleTimeoutMs: this.config.upstreamIdleTimeoutMs,
        connectTimeoutMs: this.config.connectTimeoutMs,
        headersTimeoutMs: this.config.upstreamHeaderTimeoutMs,
      },
      this.handler,
    );
    this.handler.use(this.engine);
  }

  /** On the configured port, or (a cluster's worker) on the primary's socket, inherited as `fd`. */
  async listen(fd?: number): Promise<number> {
    const { config, logger } = this;
    this.port =
      fd === undefined
        ? await listenRetrying(this.listener, config.port, config.host, { logger, what: config.name })
        : await listenOnFd(this.listener, fd);
    this.listening = true;
    logger.info(
      `at most ${this.connectionLimit} client connections` +
        (this.descriptorLimit === null ? '' : ` (descriptor limit ${this.descriptorLimit})`),
      { event: 'connection-limit', limit: this.connectionLimit, descriptorLimit: this.descriptorLimit },
    );
    return this.port;
  }

  /** The plain listener that answers 308 to HTTPS, when asked for (after the public one). */
  async listenRedirect(fd?: number): Promise<void> {
    const { config, logger } = this;
    if (this.redirect !== undefined && config.httpRedirectPort !== null) {
      const redirectPort =
        fd === undefined
          ? await listenRetrying(this.redirect, config.httpRedirectPort, config.host, {
              logger,
              what: `${config.name} redirect`,
            })
          : await listenOnFd(this.redirect, fd);
      logger.info(
        `redirect listening on ${httpUrl(config.host, redirectPort)}: 308 to ${this.url(config.host, this.port)}`,
        { event: 'listening', listener: 'redirect', port: redirectPort, host: config.host },
      );
    }
  }

  url(host: string, port: number): string {
    return `${this.scheme}://${hostPort(host, port)}`;
  }

  /** Members that left the pool: their idle connections close. */
  forget(gone: readonly Upstream[]): void {
    for (const upstream of gone) this.engine?.detach(upstream);
  }

  /**
   * The front door closes (or opens again): every answer carries `Connection: close`, and with
   * `closeIdle` the keep-alive connections idle now are closed, so the client's next request opens
   * a new connection.
   */
  leave(on: boolean, closeIdle: boolean): void {
    this.handler.leaving = on;
    if (on && closeIdle) this.server.closeIdleConnections();
  }

  /** After the listener has drained: timers, the redirect listener and upstream connections. */
  async close(): Promise<void> {
    this.handler.close();
    const redirect = this.redirect;
    if (redirect !== undefined) {
      const closed = new Promise((resolve) => redirect.close(resolve));
      redirect.closeAllConnections();
      await closed;
    }
    this.engine?.close();
  }
}
