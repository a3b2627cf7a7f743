/**
 * The part of the balancer that carries requests: the public node:http server, the proxy handler
 * and the engine. A single-process balancer runs it beside its control plane; a cluster runs one
 * in every worker, over a copy of the primary's pool.
 */
import http from 'node:http';
import type { BalancerConfig } from './config.js';
import { handleClientError } from '../http/client-error.js';
import type { Logger } from '../logger.js';
import type { BalancerEvents } from './events.js';
import { Exchange } from './exchange.js';
import { createProxyEngine } from './engines/create-engine.js';
import type { ProxyEngine } from './engines/proxy-engine.js';
import type { Pool } from './pool.js';
import { ProxyHandler } from './proxy-handler.js';
import type { Upstream } from './upstream.js';

export class RequestPath {
  readonly handler: ProxyHandler;
  readonly server: http.Server;
  private engine: ProxyEngine | undefined;

  constructor(
    private readonly config: BalancerConfig,
    pool: Pool,
    logger: Logger,
    events: BalancerEvents,
  ) {
    this.handler = new ProxyHandler(
      pool,
      {
        name: config.name,
        retry: config.retry,
        proxyTimeoutMs: config.proxyTimeoutMs,
        retryAfterS: Math.max(1, Math.ceil((config.health.intervalMs * config.health.rise) / 1000)),
        queueTimeoutMs: config.queueTimeoutMs,
        maxQueued: config.maxQueued,
      },
      logger,
      events,
    );
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
    pool.onAvailability(this.handler.wake);
  }

  /** The engine this path proxies through (loaded on start). */
  get engineName(): string {
    return this.engine?.name ?? this.config.proxyEngine;
  }

  /** Load the chosen engine; only then can requests be proxied. */
  async start(): Promise<void> {
    this.engine = await createProxyEngine(
      {
        name: this.config.proxyEngine,
        maxSockets: this.config.upstreamMaxSockets,
        idleTimeoutMs: this.config.upstreamIdleTimeoutMs,
        connectTimeoutMs: this.config.connectTimeoutMs,
      },
      this.handler,
    );
    this.handler.use(this.engine);
  }

  /** Members that left the pool: their idle connections close. */
  forget(gone: readonly Upstream[]): void {
    for (const upstream of gone) this.engine?.detach(upstream);
  }

  /** After the listener has drained: timers and upstream connections. */
  close(): void {
    this.handler.close();
    this.engine?.close();
  }
}
