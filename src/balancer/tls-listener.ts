/**
 * The public listener over TLS: a `tls.Server` offering `h2` and `http/1.1` by ALPN, and the
 * protocol ALPN settled on decides who serves the connection once its handshake is done: HTTP/2
 * through node's core stream API (h2-sessions.ts), HTTP/1.1 (or no ALPN) through an Http1Front
 * (http1-front.ts; node:http today). Both hand the request path the same Exchange, so it does not
 * care which it got. Upgrades (WebSockets) come over HTTP/1.1, as on the plain listener.
 *
 * The TCP connections are accepted here, so the request path's connection cap and count see every
 * one, whatever it turns out to speak.
 *
 * Draining: HTTP/2 sessions get GOAWAY (streams in progress finish, new ones go elsewhere), idle
 * HTTP/1.1 connections close; at the end of the grace period every socket is cut. A client that
 * does not finish its handshake in time, or sends something that is not TLS, is cut off with one
 * log line.
 */
import type { Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { DrainableServer } from '../http/graceful-shutdown.js';
import type { Logger } from '../logger.js';
import { hostPort } from '../net/address.js';
import type { ClientMessage, Exchange } from './exchange.js';
import { Http2Sessions } from './h2-sessions.js';
import type { Http1Front } from './http1-front.js';
import type { TlsCredentials } from './tls-credentials.js';

export interface TlsListenerOptions {
  credentials: TlsCredentials;
  handshakeTimeoutMs: number;
  /** The header budget of HTTP/1.1 (--max-header-size), which HTTP/2 gets too. */
  maxHeaderSize: number;
  logger: Logger;
  /** Requests that arrive over HTTP/2. */
  onRequest: (req: ClientMessage, res: Exchange) => void;
  /** Serves the connections that speak HTTP/1.1. */
  http1: Http1Front;
}

/** node's TLS socket over an accepted connection keeps that TCP socket here (not in its types). */
interface WrappingSocket {
  _parent?: Socket | null;
}

export class TlsListener implements DrainableServer {
  readonly server: tls.Server;
  private readonly http1: Http1Front;
  private readonly http2: Http2Sessions;
  /** Connections past their handshake, whichever protocol: cut at the end of a drain. */
  private readonly sockets = new Set<TLSSocket>();
  /**
   * Each client's address and port, read as its TCP connection is accepted: by the time a
   * handshake fails (a timeout, or node destroying the socket first) its address may be gone.
   */
  private readonly peers = new WeakMap<Socket, string>();

  constructor(options: TlsListenerOptions) {
    const { credentials, logger } = options;
    this.http1 = options.http1;
    this.http2 = new Http2Sessions({
      maxHeaderListSize: options.maxHeaderSize,
      onRequest: options.onRequest,
    });
    this.server = tls.createServer({
      cert: credentials.cert,
      key: credentials.key,
      ALPNProtocols: ['h2', 'http/1.1'],
      handshakeTimeout: options.handshakeTimeoutMs,
      // As the plain listener (HTTP/2 sessions set it on their sockets anyway).
      noDelay: true,
    });
    const sockets = this.sockets;
    const forget = function (this: TLSSocket): void {
      sockets.delete(this);
    };
    this.server.on('secureConnection', (socket: TLSSocket) => {
      sockets.add(socket);
      socket.once('close', forget);
      if (socket.alpnProtocol === 'h2') this.http2.accept(socket);
      else this.http1.accept(socket);
    });
    this.server.on('connection', (socket: Socket) => {
      this.peers.set(socket, hostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0));
    });
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
    this.server.close(callback);
    this.http1.close();
    this.http2.drain();
  }

  closeIdleConnections(): void {
    this.http1.closeIdleConnections();
    this.http2.goAway();
  }

  closeAllConnections(): void {
    this.http1.closeAllConnections();
    this.http2.destroyAll();
    for (const socket of this.sockets) socket.destroy();
  }
}

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
