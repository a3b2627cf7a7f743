/**
 * HTTP/2 on connections the TLS listener accepted with ALPN `h2`, through node's core stream API:
 * each stream becomes an Http2Exchange (h2-exchange.ts) for the request path.
 *
 * node builds server sessions only inside an http2 server's connection listener, so a plain
 * `http2.createServer()` that never listens is handed each TLS socket through its 'connection'
 * event. node 20 and 26 run the same listener for that server and for `createSecureServer`'s
 * 'secureConnection': the session reads ALPN and `encrypted` off the socket itself and consumes
 * the TLS socket's native handle directly, as it does on a secure server. The plain server has no
 * TLS context of its own to build or keep in step with a credentials reload.
 *
 * Draining: every session gets GOAWAY (streams in progress finish, the client opens new ones
 * elsewhere), and a session that starts while draining gets it at once.
 */
import type { IncomingHttpHeaders } from 'node:http';
import http2, { type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { ClientMessage, Exchange } from './exchange.js';
import { Http2Exchange } from './h2-exchange.js';

export interface Http2Settings {
  /** The same header budget as HTTP/1.1's (--max-header-size), in HTTP/2's terms. */
  maxHeaderListSize: number;
  onRequest: (req: ClientMessage, res: Exchange) => void;
}

export class Http2Sessions {
  private readonly factory: http2.Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();
  private draining = false;
  /** The socket being handed to node right now: its 'session' event comes before emit() returns. */
  private incoming: TLSSocket | null = null;

  constructor(private readonly settings: Http2Settings) {
    this.factory = http2.createServer({ settings: { maxHeaderListSize: settings.maxHeaderListSize } });
    this.factory.on('session', (session: ServerHttp2Session) => this.track(session));
  }

  /** Serve HTTP/2 on a TLS connection whose ALPN settled on `h2`. */
  accept(socket: TLSSocket): void {
    this.incoming = socket;
    try {
      this.factory.emit('connection', socket);
    } finally {
      this.incoming = null;
    }
  }

  /** GOAWAY on every session now, and on every session that starts from now on. */
  drain(): void {
    this.draining = true;
    this.goAway();
  }

  /** GOAWAY on every session: streams in progress finish, the client opens new ones elsewhere. */
  goAway(): void {
    for (const session of this.sessions) if (!session.closed) session.close();
  }

  destroyAll(): void {
    for (const session of this.sessions) session.destroy();
  }

  private track(session: ServerHttp2Session): void {
    const socket = this.incoming;
    if (socket === null) {
      // Only accept() emits 'connection' on the factory.
      session.destroy();
      return;
    }
    const sessions = this.sessions;
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // A session that breaks reports it on its streams; this keeps its own error from being thrown.
    session.on('error', ignore);
    // One closure per connection, not per request: it carries the TLS socket to each stream.
    session.on(
      'stream',
      (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) =>
        this.onStream(stream, headers, raw, socket),
    );
    if (this.draining) session.close();
  }

  private onStream(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    rawHeaders: string[],
    socket: TLSSocket,
  ): void {
    // Without a listener a stream's error (a reset, a broken session) would be thrown.
    stream.on('error', ignore);
    // What node's compatibility layer answered itself, answered the same way: no tunnels over
    // HTTP/2 (CONNECT), and no expectation but 100-continue.
    if (headers[':method'] === 'CONNECT') {
      refuse(stream, http2.constants.HTTP_STATUS_METHOD_NOT_ALLOWED);
      return;
    }
    const expect = headers.expect;
    if (expect !== undefined) {
      if (expect.toLowerCase() !== '100-continue') {
        refuse(stream, http2.constants.HTTP_STATUS_EXPECTATION_FAILED);
        return;
      }
      // The body is buffered before any upstream is chosen (request-body.ts): ask for it now.
      stream.additionalHeaders({ ':status': 100 });
    }
    const exchange = new Http2Exchange(stream, rawHeaders, socket);
    this.settings.onRequest(exchange.req, exchange);
  }
}

function refuse(stream: ServerHttp2Stream, status: number): void {
  if (!stream.destroyed && !stream.headersSent) stream.respond({ ':status': status }, { endStream: true });
}

function ignore(): void {}
