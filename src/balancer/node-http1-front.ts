/**
 * node's http.Server as the HTTP/1.1 front of connections the TLS listener accepted
 * (http1-front.ts), with the plain listener's settings: every response an Http1Exchange, the same
 * header budget and timeouts, the Host check left to the request path, upgrades to the upgrade
 * handler, unparsable requests answered as on the plain listener. It never listens: each
 * connection arrives through its 'connection' event, which is how node's own `allowHTTP1`
 * fallback handed TLS connections to node:http.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { handleClientError } from '../http/client-error.js';
import { connectionsCheckingIntervalMs } from '../http/connection-checks.js';
import type { PlainHeaders } from '../http/plain-answer.js';
import type { Logger } from '../logger.js';
import { Http1Exchange } from './exchange.js';
import type { Http1Front } from './http1-front.js';

export interface Http1Settings {
  maxHeaderSize: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** In X-Served-By of answers to requests that could not be parsed. */
  name: string;
  /** More headers of those answers (this front's Via). */
  clientErrorHeaders: PlainHeaders;
}

export interface Http1Handlers {
  onRequest: (req: http.IncomingMessage, res: Http1Exchange) => void;
  onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** A request already handed over whose body did not arrive within the request timeout. */
  requestTimedOut(res: Http1Exchange, timeoutMs: number): void;
}

/**
 * node:http's 'clientError' listener for the balancer's HTTP/1.1 listeners: an answer with a
 * reason to what could not be parsed (client-error.ts), except a request already handed to the
 * proxy whose body did not arrive in time, which the proxy answers itself (408), so the request
 * is accounted for and no upstream is blamed.
 */
export function http1ClientError(
  settings: Http1Settings,
  handlers: Pick<Http1Handlers, 'requestTimedOut'>,
  logger: Logger,
): (err: Error & { code?: string }, socket: Duplex) => void {
  return (err, socket) => {
    const pending = (socket as { _httpMessage?: unknown })._httpMessage;
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && pending instanceof Http1Exchange && !pending.headersSent) {
      handlers.requestTimedOut(pending, settings.requestTimeoutMs);
      return;
    }
    handleClientError(err, socket, settings.name, logger, settings.clientErrorHeaders);
  };
}

export class NodeHttp1Front implements Http1Front {
  private readonly server: http.Server<typeof http.IncomingMessage, typeof Http1Exchange>;

  constructor(settings: Http1Settings, handlers: Http1Handlers, logger: Logger) {
    this.server = http.createServer<typeof http.IncomingMessage, typeof Http1Exchange>(
      {
        ServerResponse: Http1Exchange,
        maxHeaderSize: settings.maxHeaderSize,
        requestTimeout: settings.requestTimeoutMs,
        headersTimeout: settings.headersTimeoutMs,
        // Node checks both timeouts on this interval; without it they hold up to 30 s late.
        connectionsCheckingInterval: connectionsCheckingIntervalMs(
          settings.headersTimeoutMs,
          settings.requestTimeoutMs,
        ),
        // Checked by the request path, which says why in its 400 (node:http's own has no body).
        requireHostHeader: false,
      },
      handlers.onRequest,
    );
    this.server.keepAliveTimeout = settings.keepAliveTimeoutMs;
    this.server.on('upgrade', handlers.onUpgrade);
    this.server.on('clientError', http1ClientError(settings, handlers, logger));
    // node:http builds its connection list and starts its timeout checks on 'listening' (its
    // checks are an unref'd interval); a server that never listens has to be told.
    this.server.emit('listening');
  }

  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  closeIdleConnections(): void {
    this.server.closeIdleConnections();
  }

  closeAllConnections(): void {
    this.server.closeAllConnections();
  }

  close(): void {
    // Not listening, so this only stops the checks and closes the idle connections.
    this.server.close();
  }
}
