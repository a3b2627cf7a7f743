/**
 * How a request travels to an upstream, behind one interface (`--proxy-engine` picks the
 * engine; docs/decisions.md says which is the default and why):
 *
 * - `h1` (the default): the balancer's own HTTP/1.1 client, pooled sockets and a strict parser
 *   (h1-engine.ts, h1/);
 * - `undici`: undici's `Pool.dispatch`, one pool per upstream (undici-engine.ts);
 * - `http-proxy-3` and `http-proxy`: the two implementations of the http-proxy API on node:http's
 *   client (http-proxy-engine.ts).
 *
 * The rest of the balancer sees three callbacks: the attempt is on a connection, response headers
 * arrived, the attempt failed. An engine relays the response body itself (`Exchange.relay`), with
 * backpressure from the client to the upstream. create-engine.ts builds the chosen one.
 */
import type { Readable } from 'node:stream';
import type { ProxyEngineName } from '../config.js';
import type { ClientMessage, Exchange, UpstreamRequest } from '../exchange.js';
import type { Upstream } from '../upstream.js';

export interface EngineHandlers {
  /** The attempt's request is on a connection to `upstream` and can be stopped through `request`. */
  onRequestSent(request: UpstreamRequest, res: Exchange, upstream: Upstream): void;
  /**
   * The final response head arrived from `upstream` (raw headers: [name, value, ...]). True when
   * the engine should relay the body to `res`; false to read and drop it.
   */
  onResponse(res: Exchange, upstream: Upstream, statusCode: number, rawHeaders: readonly string[]): boolean;
  /** The attempt on `upstream` failed, before or during the response (or the client went away). */
  onError(err: Error, res: Exchange, upstream: Upstream): void;
}

/** How every engine keeps its connections to an upstream. */
export interface UpstreamConnections {
  /** Connections per upstream. */
  maxSockets: number;
  /** Idle pooled connections are closed after this (shorter than the backends' keep-alive). */
  idleTimeoutMs: number;
  connectTimeoutMs: number;
}

export interface EngineSettings extends UpstreamConnections {
  name: ProxyEngineName;
  /**
   * --upstream-header-timeout, for an engine with a head deadline of its own (undici's
   * headersTimeout). The request path's watch holds every engine to it as well.
   */
  headersTimeoutMs: number;
}

export interface ProxyEngine {
  readonly name: ProxyEngineName;
  /**
   * Send the request to `upstream`. `body` replaces reading `req` (a replayable copy, for retries);
   * without it a request with a body streams `req` itself.
   */
  forward(upstream: Upstream, req: ClientMessage, res: Exchange, body?: Readable): void;
  /** Forget an upstream that left the pool; its idle connections close. */
  detach(upstream: Upstream): void;
  /** Close every pooled connection (at shutdown). */
  close(): void;
}
