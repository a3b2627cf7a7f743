/**
 * The public listener over TLS: node:http2's secure server with `allowHTTP1`, so ALPN offers `h2`
 * and `http/1.1` and both land on the same request handler. HTTP/1.1 requests arrive as the usual
 * Http1Exchange, HTTP/2 ones as Http2Exchange with HTTP/1.1-shaped headers (h2-exchange.ts), so
 * the request path does not care which it got. Upgrades (WebSockets) come over HTTP/1.1, as with
 * the plain listener.
 *
 * Draining: HTTP/2 sessions get GOAWAY (streams in progress finish, new ones go elsewhere), idle
 * HTTP/1.1 connections close; at the end of the grace period every socket is cut. A client that
 * does not finish its handshake in time, or sends something that is not TLS, is cut off with one
 * log line.
 */
import http from 'node:http';
import http2, { type Http2ServerRequest, type Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { handleClientError } from '../http/client-error.js';
import { connectionsCheckingIntervalMs } from '../http/connection-checks.js';
import type { PlainHeaders } from '../http/plain-answer.js';
import type { DrainableServer } from '../http/graceful-shutdown.js';
import type { Logger } from '../logger.js';
import { hostPort } from '../net/address.js';
import { Http1Exchange, type ClientMessage, type Exchange } from './exchange.js';
import { Http2Exchange, showAsHttp1 } from './h2-exchange.js';
import type { TlsCredentials } from './tls-credentials.js';

export interface TlsListenerOptions {
  credentials: TlsCredentials;
  handshakeTimeoutMs: number;
  maxHeaderSize: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** In X-Served-By of answers to requests that could not be parsed. */
  name: string;
  /** More headers of those answers (this front's Via). */
  clientErrorHeaders?: PlainHeaders;
  logger: Logger;
  onRequest(req: ClientMessage, res: Exchange): void;
  onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** What node:http's parser reads off the server for HTTP/1.1 connections (the plain server's options). */
interface Http1Settings {
  maxHeaderSize: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  requireHostHeader: boolean;
  /** Read when the server starts listening; node's default for a secure server is 30 s. */
  connectionsCheckingInterval: number;
}

/** node's TLS socket over an accepted connection keeps that TCP socket here (not in its types). */
interface WrappingSocket {
  _parent?: Socket | null;
}

export class TlsListener implements DrainableServer {
  readonly server: http2.Http2SecureServer<
    typeof http.IncomingMessage,
    typeof Http1Exchange,
    typeof http2.Http2ServerRequest,
    typeof Http2Exchange
  >;
  private readonly sessions = new Set<Http2Session>();
  private readonly sockets = new Set<TLSSocket>();
  private draining = false;
  /**
   * Each client's address and port, read as its TCP connection is accepted: by the time a
   * handshake fails (a timeout, or node destroying the socket first) its address may be gone.
   */
  private readonly peers = new WeakMap<Socket, string>();

  constructor(private readonly options: TlsListenerOptions) {
    const { credentials, logger } = options;
    this.server = http2.createSecureServer({
      cert: credentials.cert,
      key: credentials.key,
      allowHTTP1: true,
      handshakeTimeout: options.handshakeTimeoutMs,
      Http1ServerResponse: Http1Exchange,
      Http2ServerResponse: Http2Exchange,
      // The same header budget as HTTP/1.1's, in HTTP/2's terms.
      settings: { maxHeaderListSize: options.maxHeaderSize },
    });
    Object.assign(this.server, {
      maxHeaderSize: options.maxHeaderSize,
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      // Checked by the request path, which says why in its 400.
      requireHostHeader: false,
      // As the plain listener's: without it an HTTP/1.1 client over TLS was cut up to 30 s late.
      connectionsCheckingInterval: connectionsCheckingIntervalMs(
        options.headersTimeoutMs,
        options.requestTimeoutMs,
      ),
    } satisfies Http1Settings);

    this.server.on('request', (req: Http2ServerRequest | http.IncomingMessage, res: unknown) => {
      if (res instanceof Http2Exchange) {
        showAsHttp1(req as Http2ServerRequest);
        options.onRequest(req, res);
      } else if (res instanceof Http1Exchange) {
        options.onRequest(req, res);
      }
    });
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
      options.onUpgrade(req, socket, head),
    );
    this.server.on('session', (session: Http2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      // A session that breaks reports it on its streams; this keeps the error from throwing.
      session.on('error', ignore);
      if (this.draining) session.close();
    });
    this.server.on('connection', (socket: Socket) => {
      this.peers.set(socket, hostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0));
    });
    this.server.on('secureConnection', (socket: TLSSocket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (err: Error & { code?: string }, socket: Duplex) =>
      handleClientError(err, socket, options.name, logger, options.clientErrorHeaders),
    );
    this.server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
      const client = this.peerOf(socket);
      logger.warn(`TLS handshake from ${client} failed: ${tlsProblem(err)}; connection cut`, {
        event: 'tls-error',
        client,
        code: err.code ?? null,
        reason: err.message,
      });
      socket.destroy();
    });
  }

  /** `address:port` of the client on `socket`, as it was when the connection was accepted. */
  private peerOf(socket: TLSSocket): string {
    const accepted = (socket as WrappingSocket)._parent;
    const known = accepted === null || accepted === undefined ? undefined : this.peers.get(accepted);
    if (known !== undefined) return known;
    return socket.remoteAddress === undefined ? '?' : hostPort(socket.remoteAddress, socket.remotePort ?? 0);
  }

  /** Take a new certificate and key (a reload): new handshakes use them, open connections stay. */
  useCredentials(credentials: TlsCredentials): void {
    this.server.setSecureContext({ cert: credentials.cert, key: credentials.key });
  }

  close(callback?: (err?: Error) => void): void {
    this.draining = true;
    this.server.close(callback);
    this.goAway();
  }

  closeIdleConnections(): void {
    // Node 20's secure server has it with allowHTTP1 (idle HTTP/1.1 keep-alive connections); its types do not.
    (this.server as unknown as Pick<DrainableServer, 'closeIdleConnections'>).closeIdleConnections();
    this.goAway();
  }

  closeAllConnections(): void {
    for (const session of this.sessions) session.destroy();
    for (const socket of this.sockets) socket.destroy();
  }

  /** GOAWAY on every session: streams in progress finish, the client opens new ones elsewhere. */
  private goAway(): void {
    for (const session of this.sessions) if (!session.closed) session.close();
  }
}

function ignore(): void {}

/** A handshake failure in words a person reading the log understands. */
export function tlsProblem(err: Error & { code?: string }): string {
  const text = `${err.code ?? ''} ${err.message}`;
  if (/timeout/i.test(text)) return 'no handshake within the handshake timeout';
  if (/http request/i.test(text)) return 'plain HTTP sent to the HTTPS port';
  if (/wrong version number|unknown protocol|unsupported protocol|packet length too long/i.test(text)) {
    return 'what it sent is not TLS';
  }
  if (/ECONNRESET|socket hang up|disconnected/i.test(text)) return 'the client closed the connection';
  return err.message;
}
