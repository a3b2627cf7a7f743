/**
 * One client request on its way through the balancer: node:http's response object, extended with
 * the request's proxy state (node:http builds it for us through the server's `ServerResponse`
 * option). Fixed fields on one class, so the request path reads and writes them without maps or
 * per-request closures.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import { ACTIVE_NOW, type Watched } from './deadline-watch.js';
import type { ReplayableBody } from './request-body.js';
import type { Upstream } from './upstream.js';

/** What an exchange reports to when its client's response closes. */
export interface ExchangeOwner {
  closed(res: Exchange): void;
}

/** An attempt's request to its upstream, as far as the balancer needs to stop it. */
export interface UpstreamRequest {
  /** Abort the attempt; with `error`, the engine reports that error for it. */
  destroy(error?: Error): void;
}

export class Exchange extends ServerResponse<IncomingMessage> implements Watched {
  owner: ExchangeOwner | null = null;
  /** For the proxy timeout (deadline-watch.ts). */
  lastActivity = 0;
  watchPrev: Watched | null = null;
  watchNext: Watched | null = null;
  /** performance.now() when the request arrived. */
  started = 0;
  /** The upstream of the attempt in progress; null between attempts and once it is over. */
  current: Upstream | null = null;
  /** The upstream request of the attempt in progress, once it is on a connection. */
  upstreamRequest: UpstreamRequest | null = null;
  /** The current attempt's upstream has sent response headers. */
  responded = false;
  /** Attempts made so far. */
  attempts = 0;
  /** Upstreams that failed this request, in order (only allocated on a failure). */
  tried: Upstream[] | null = null;
  /** "backend-9003: connection refused", one per failed attempt, for the log line. */
  failures: string[] | null = null;
  /** The upstream whose response the client got. */
  servedBy: Upstream | null = null;
  hasBody = false;
  body: ReplayableBody | null = null;
  /** The request headers as the upstreams get them, built by the engine on the first attempt. */
  upstreamHeaders: string[] | null = null;
  /** Set while the request waits for an upstream to become available (--queue-timeout). */
  queueTimer: NodeJS.Timeout | null = null;

  /** The client is still sending its request, or has not read what was relayed so far. */
  get clientBusy(): boolean {
    return !this.req.complete || this.writableNeedDrain;
  }

  /**
   * Pass one chunk of the upstream's response on to the client. False when the client has not
   * read what was sent so far: the engine stops reading the upstream until 'drain'.
   */
  relay(chunk: Buffer): boolean {
    this.lastActivity = ACTIVE_NOW;
    return this.write(chunk);
  }
}
