/**
 * One client request on its way through the balancer: the server's response object, extended with
 * the request's proxy state. node:http builds it for us through the server's `ServerResponse`
 * option (`Http1Exchange`); on HTTP/2 the TLS listener builds one per stream (`Http2Exchange`,
 * h2-exchange.ts): fixed fields on one class per protocol, so the request path reads and writes
 * them without maps or per-request closures, and never asks which protocol the client speaks.
 */
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { ClientMessage } from './client-message.js';
import { ACTIVE_NOW, type Watched } from './deadline-watch.js';
import type { ReplayableBody } from './request-body.js';
import type { RequestIdSource } from './request-id.js';
import type { Upstream } from './upstream.js';

export type { ClientMessage } from './client-message.js';

/** What an exchange reports to when its client's response closes. */
export interface ExchangeOwner {
  closed(res: Exchange): void;
}

/** An attempt's request to its upstream, as far as the balancer needs to stop it. */
export interface UpstreamRequest {
  /** Abort the attempt; with `error`, the engine reports that error for it. */
  destroy(error?: Error): void;
}

/** The proxy state of one request, the same on both protocols. */
export interface ExchangeState extends Watched {
  owner: ExchangeOwner | null;
  /** performance.now() when the request arrived. */
  started: number;
  /** The upstream of the attempt in progress; null between attempts and once it is over. */
  current: Upstream | null;
  /** The upstream request of the attempt in progress, once it is on a connection. */
  upstreamRequest: UpstreamRequest | null;
  /** The current attempt's upstream has sent response headers. */
  responded: boolean;
  /** Attempts made so far. */
  attempts: number;
  /** Upstreams that failed this request, in order (only allocated on a failure). */
  tried: Upstream[] | null;
  /** "backend-9003: connection refused", one per failed attempt, for the log line. */
  failures: string[] | null;
  /** The upstream whose response the client got. */
  servedBy: Upstream | null;
  hasBody: boolean;
  body: ReplayableBody | null;
  /** The request headers as the upstreams get them, built by the engine on the first attempt. */
  upstreamHeaders: string[] | null;
  /** Set while the request waits for an upstream to become available (--queue-timeout). */
  queueTimer: NodeJS.Timeout | null;
  /** X-Request-ID as forwarded and returned (request-id.ts); set when the request arrives. */
  requestId: string;
  /** Whether the client's ID was kept, or one was made because it sent none or a malformed one. */
  requestIdSource: RequestIdSource;
  /** Body bytes sent to the client (relayed or the balancer's own answer), for the access line. */
  bytesSent: number;
}

/** A client request and its response, whichever protocol carries them. */
export interface Exchange extends ExchangeState {
  readonly req: ClientMessage;
  statusCode: number;
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableFinished: boolean;
  /** Bytes written but not yet taken by the kernel (or the HTTP/2 session). */
  readonly writableLength: number;
  /** HTTP/1.1 only: false sends `Connection: close` (on HTTP/2, draining sends GOAWAY instead). */
  shouldKeepAlive: boolean;
  writeHead(statusCode: number, headers: string[] | OutgoingHttpHeaders): unknown;
  write(chunk: Buffer | string): boolean;
  end(): unknown;
  end(chunk: Buffer | string): unknown;
  destroy(error?: Error): unknown;
  on(event: 'close' | 'drain', listener: () => void): unknown;
  once(event: 'close' | 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
  /**
   * Pass one chunk of the upstream's response on to the client. False when the client has not
   * read what was sent so far: the engine stops reading the upstream until 'drain'.
   */
  relay(chunk: Buffer, written?: (err?: Error | null) => void): boolean;
}

export class Http1Exchange extends ServerResponse<IncomingMessage> implements Exchange {
  owner: ExchangeOwner | null = null;
  lastActivity = 0;
  headSince = 0;
  watchPrev: Watched | null = null;
  watchNext: Watched | null = null;
  started = 0;
  current: Upstream | null = null;
  upstreamRequest: UpstreamRequest | null = null;
  responded = false;
  attempts = 0;
  tried: Upstream[] | null = null;
  failures: string[] | null = null;
  servedBy: Upstream | null = null;
  hasBody = false;
  body: ReplayableBody | null = null;
  upstreamHeaders: string[] | null = null;
  /** Set while the request waits for an upstream to become available (--queue-timeout). */
  queueTimer: NodeJS.Timeout | null = null;
  requestId = '';
  requestIdSource: RequestIdSource = 'made';
  bytesSent = 0;

  /** The client is still sending its request, or has not read what was relayed so far. */
  get clientBusy(): boolean {
    return !this.req.complete || this.writableNeedDrain;
  }

  relay(chunk: Buffer, written?: (err?: Error | null) => void): boolean {
    this.lastActivity = ACTIVE_NOW;
    this.bytesSent += chunk.length;
    return this.write(chunk, written);
  }
}
