/**
 * The balancer's own HTTP/1.1 server for the public listener (`--front h1`, the default; `--front
 * node` keeps node:http's). It accepts on a plain `net` server, or is handed sockets (TLS
 * connections whose ALPN chose http/1.1), and drives the request path directly: no
 * IncomingMessage or ServerResponse, no timer per connection or request (one sweep for all of
 * them), one write per response where the bytes allow (docs/decisions.md, "The balancer's own
 * HTTP/1.1 server").
 *
 * It keeps the rules node:http and the balancer enforce together on the client leg: strict
 * parsing (request-head.ts, chunked-body.ts), the headers, request and keep-alive timeouts,
 * `Expect: 100-continue`, keep-alive by version, pipelined requests one at a time, upgrades
 * handed over with the bytes already read, backpressure both ways, and draining.
 */
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connectionsCheckingIntervalMs } from '../../http/connection-checks.js';
import type { DrainableServer } from '../../http/graceful-shutdown.js';
import type { PlainHeaders } from '../../http/plain-answer.js';
import type { Logger } from '../../logger.js';
import type { ClientMessage } from '../client-message.js';
import type { Exchange } from '../exchange.js';
import { InboundConnection, type ServerParts } from './inbound-connection.js';
import { DEFAULT_LIMITS, type HeadRefusal } from './request-head.js';
import { ResponseHeadBuilder } from './response-head.js';

export interface H1ServerOptions {
  /** The whole request head at most (431 past it). */
  maxHeaderSize: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** The client sockets' write buffer before a relayed response waits for the client to read. */
  highWaterMark: number;
  /** X-Served-By of the server's own answers. */
  name: string;
  /** More headers of those answers (the front's Via). */
  extraHeaders: PlainHeaders;
  logger: Logger;
  onRequest: (req: ClientMessage, res: Exchange) => void;
  onUpgrade: (req: ClientMessage, socket: Socket, head: Buffer) => void;
  /** The request path's 408 for a body that did not arrive in time. */
  requestTimedOut(res: Exchange, timeoutMs: number): void;
  /** The request path's answer to a body that cannot be read. */
  badBody: (res: Exchange, refusal: HeadRefusal) => void;
}

export class H1Server implements DrainableServer {
  /** The plain listener (unused when a TLS listener hands its sockets over). */
  readonly listener: net.Server;
  private readonly connections = new Set<InboundConnection>();
  private readonly parts: ServerParts;
  private readonly sweeper: NodeJS.Timeout;
  private closing = false;

  constructor(options: H1ServerOptions) {
    const { logger } = options;
    this.parts = {
      limits: { ...DEFAULT_LIMITS, maxHeadBytes: options.maxHeaderSize },
      headersTimeoutMs: options.headersTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs,
      keepAliveValue: `timeout=${Math.floor(options.keepAliveTimeoutMs / 1000)}`,
      name: options.name,
      extraHeaders: options.extraHeaders,
      heads: new ResponseHeadBuilder(),
      draining: () => this.closing,
      onRequest: options.onRequest,
      onUpgrade: options.onUpgrade,
      requestTimedOut: (res) => options.requestTimedOut(res, options.requestTimeoutMs),
      badBody: options.badBody,
      refused: (socket, status, reason) => {
        if (!logger.enabled('warn')) return;
        logger.warn(`refused ${status} from ${peer(socket)}: ${reason}`, {
          event: 'client-error',
          status,
          reason,
        });
      },
      closedSilent: (socket) => {
        if (!logger.enabled('debug')) return;
        logger.debug(`closed a connection from ${peer(socket)} that sent nothing in time`, {
          event: 'client-silent',
        });
      },
      forget: (conn) => this.connections.delete(conn),
    };
    // A client that half-closes after its request still gets its answer (allowHalfOpen).
    this.listener = net.createServer(
      { allowHalfOpen: true, highWaterMark: options.highWaterMark },
      (socket) => this.accept(socket),
    );
    // Every deadline is met within a quarter second (at most) of when it falls, as node:http's
    // connectionsCheckingInterval is set for the node front.
    this.sweeper = setInterval(
      this.sweep,
      Math.min(
        connectionsCheckingIntervalMs(options.headersTimeoutMs, options.requestTimeoutMs),
        connectionsCheckingIntervalMs(options.keepAliveTimeoutMs, 0),
      ),
    );
    this.sweeper.unref();
  }

  /** Serve HTTP/1.1 on an accepted socket (plain, or TLS after ALPN chose http/1.1). */
  accept(socket: Socket): void {
    this.connections.add(new InboundConnection(socket, this.parts, performance.now()));
  }

  private readonly sweep = (): void => {
    if (this.connections.size === 0) return;
    const now = performance.now();
    for (const conn of this.connections) {
      if (conn.deadline !== 0 && conn.deadline <= now) conn.expire();
    }
  };

  /** Stop accepting; connections close as their responses end (idle ones now). */
  close(callback?: (err?: Error) => void): this {
    this.closing = true;
    this.listener.close(callback);
    this.closeIdleConnections();
    return this;
  }

  closeIdleConnections(): void {
    for (const conn of [...this.connections]) if (conn.idle) conn.destroy();
  }

  closeAllConnections(): void {
    for (const conn of [...this.connections]) conn.destroy();
    clearInterval(this.sweeper);
  }
}

function peer(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}
