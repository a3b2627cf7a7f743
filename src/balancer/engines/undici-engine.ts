/**
 * The engine on undici: one `Pool` per upstream, and `dispatch` with a handler object per attempt,
 * the lowest-level API undici has (no promise, no Readable, no header object per request). The
 * handler uses undici's original callbacks (onConnect, onHeaders, onData, onComplete, onError):
 * undici 7's HTTP/1.1 client calls them directly, while a handler written with the newer
 * controller callbacks is wrapped in an adapter that also builds a header object, and measured
 * 5-10 us slower per request here (docs/decisions.md, "The default engine is undici").
 *
 * Pool settings mirror UpstreamAgent's: keep-alive shorter than the backends' (and than any
 * `Keep-Alive: timeout=N` they announce, less 1 s), a connect timeout, no pipelining. undici's
 * headersTimeout is --upstream-header-timeout (the request path's watch, deadline-watch.ts, holds
 * it too, whichever notices first); its body timeout is off: the proxy timeout covers silence.
 */
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { UpstreamError } from '../../errors.js';
import type { ClientMessage, Exchange, UpstreamRequest } from '../exchange.js';
import { clientProto, forwardRequestHeaders } from '../headers.js';
import type { EngineHandlers, EngineSettings, ProxyEngine } from './proxy-engine.js';
import type { Upstream } from '../upstream.js';

/** What undici's HTTP/1.1 client calls on a handler (its original, callback-per-event form). */
type Handler = Required<
  Pick<Dispatcher.DispatchHandler, 'onConnect' | 'onHeaders' | 'onData' | 'onComplete' | 'onError'>
>;

/** One attempt: undici's handler for it, and the balancer's handle to stop it. */
class Attempt implements Handler, UpstreamRequest {
  private abort: ((err?: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  /** Relay the body to the client (false: a stale attempt or a client gone; drop it). */
  private relaying = false;

  constructor(
    private readonly handlers: EngineHandlers,
    private readonly res: Exchange,
    private readonly upstream: Upstream,
  ) {}

  destroy(error?: Error): void {
    this.abort?.(error);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    this.handlers.onRequestSent(this, this.res, this.upstream);
  }

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    // 1xx (103 Early Hints): node:http's client does not pass these on either; wait for the final head.
    if (statusCode >= 100 && statusCode < 200) return true;
    // Below 100 (000, 099) the proxy handler refuses the response; it is not an interim one either.
    this.resume = resume;
    const headers: string[] = new Array<string>(raw.length);
    for (let i = 0; i < raw.length; i++) headers[i] = (raw[i] as Buffer).toString('latin1');
    this.relaying = this.handlers.onResponse(this.res, this.upstream, statusCode, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (!this.relaying || this.res.relay(chunk)) return true;
    // undici stops reading this connection until resume(); a client that never drains is closed,
    // and its 'close' aborts this attempt.
    if (this.resume !== undefined) this.res.once('drain', this.resume);
    return false;
  }

  onComplete(): void {
    if (this.relaying) this.res.end();
  }

  onError(err: Error): void {
    this.handlers.onError(withCode(err, this.upstream), this.res, this.upstream);
  }
}

export class UndiciEngine implements ProxyEngine {
  readonly name = 'undici' as const;
  private readonly pools = new Map<Upstream, Pool>();

  constructor(
    private readonly settings: EngineSettings,
    private readonly handlers: EngineHandlers,
  ) {}

  forward(upstream: Upstream, req: ClientMessage, res: Exchange, body?: Readable): void {
    const pool = this.pools.get(upstream) ?? this.attach(upstream);
    res.upstreamHeaders ??= forwardRequestHeaders(
      req.rawHeaders,
      req.socket.remoteAddress,
      clientProto(req.socket),
      res.requestId,
    );
    pool.dispatch(
      {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: res.upstreamHeaders,
        body: body ?? (res.hasBody ? req : null),
      },
      new Attempt(this.handlers, res, upstream),
    );
  }

  detach(upstream: Upstream): void {
    const pool = this.pools.get(upstream);
    if (pool === undefined) return;
    this.pools.delete(upstream);
    // Requests in flight finish; the pool closes after them.
    pool.close().catch(ignore);
  }

  close(): void {
    for (const pool of this.pools.values()) pool.destroy().catch(ignore);
    this.pools.clear();
  }

  private attach(upstream: Upstream): Pool {
    const { maxSockets, idleTimeoutMs, connectTimeoutMs, headersTimeoutMs } = this.settings;
    const pool = new Pool(`http://${upstream.host}:${upstream.port}`, {
      connections: maxSockets,
      pipelining: 1,
      keepAliveTimeout: idleTimeoutMs,
      keepAliveMaxTimeout: idleTimeoutMs,
      keepAliveTimeoutThreshold: 1000,
      connect: { timeout: connectTimeoutMs },
      headersTimeout: headersTimeoutMs,
      bodyTimeout: 0,
    });
    // A pool emits 'connectionError' and 'disconnect' for its sockets; the failed request reports
    // the same error through its handler, so these only need a listener to be harmless.
    pool.on('connectionError', ignore);
    pool.on('disconnect', ignore);
    this.pools.set(upstream, pool);
    return pool;
  }
}

function ignore(): void {}

/**
 * undici reports some of llhttp's verdicts on a response without a code ("Expected HTTP/"), and an
 * unasked 101 as a socket error; the retry policy reads codes, so such an error is named for what
 * it is, with undici's as the cause.
 */
function withCode(err: Error, upstream: Upstream): Error {
  const code = (err as NodeJS.ErrnoException).code;
  // A 101 to a request that asked for no upgrade: undici calls it a socket error, but the socket
  // was fine; the answer was wrong.
  if (code === 'UND_ERR_SOCKET' && err.message === 'bad upgrade') {
    return new UpstreamError(
      'ERR_UPSTREAM_BAD_RESPONSE',
      upstream.id,
      `${upstream.name} answered 101 Switching Protocols to a request that asked for no upgrade`,
      { cause: err },
    );
  }
  if (code !== undefined || err.name !== 'HTTPParserError') return err;
  return new UpstreamError('ERR_UPSTREAM_BAD_RESPONSE', upstream.id, err.message, { cause: err });
}
