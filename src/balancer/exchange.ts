/**
 * One client request on its way through the balancer: node:http's response object, extended with
 * the request's proxy state (node:http builds it for us through the server's `ServerResponse`
 * option). Fixed fields on one class, so the request path reads and writes them without maps or
 * per-request closures.
 */
import { ServerResponse, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Watched } from './deadline-watch.js';
import type { ReplayableBody } from './request-body.js';
import type { Upstream } from './upstream.js';

/** What an exchange reports to when its client's response closes or its upstream breaks off. */
export interface ExchangeOwner {
  closed(res: Exchange): void;
  brokeOff(res: Exchange): void;
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
  /** The upstream request of the attempt in progress, once it has a socket. */
  proxyReq: ClientRequest | null = null;
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

  /** The client is still sending its request, or has not read what was relayed so far. */
  get clientBusy(): boolean {
    return !this.req.complete || this.writableNeedDrain;
  }
}

/** A response relayed from an upstream, tagged with the exchange it goes to. */
export interface RelayedResponse extends IncomingMessage {
  exchange?: Exchange;
}
