/**
 * The h1 engine: the balancer's own HTTP/1.1 client. Pooled `net` sockets per upstream, the
 * request head written as one string, the response read by a strict parser of its own
 * (h1/response-parser.ts) and relayed slice by slice. It does what the undici engine does for
 * the request path (the same callbacks, the same rules: one request per connection at a time,
 * backpressure both ways, connect timeout, idle connections closed before the upstream's
 * keep-alive ends) with less per request: no request object validated again, no dispatcher
 * queue, no parser callbacks per header, no header strings built twice (docs/decisions.md, "The
 * h1 engine").
 *
 * The pool per upstream keeps at most `maxSockets` connections; idle ones are reused most recent
 * first (warm, and the others age out), and an attempt that finds all of them busy waits in
 * order for the next one free.
 */
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { ClientMessage, Exchange } from '../exchange.js';
import type { Upstream } from '../upstream.js';
import type { EngineHandlers, EngineSettings, ProxyEngine } from './proxy-engine.js';
import {
  H1Attempt,
  UpstreamConnection,
  type ConnectionOwner,
  type ConnectionSettings,
} from './h1/upstream-connection.js';
import { clientProto, forwardRequestHeaders } from '../headers.js';
import { ReadBuffers } from './h1/read-buffers.js';

/** Read buffers kept for reuse (64 KiB each): enough for the reads in flight of a busy balancer. */
const KEPT_READ_BUFFERS = 128;

/** The idle sweep's period at most. */
const SWEEP_MS = 250;

/** The longest response head read from an upstream (node:http's default for requests, 16 KiB, is too tight for some apps). */
const MAX_HEAD_BYTES = 64 * 1024;

class UpstreamPool implements ConnectionOwner {
  private readonly idle: UpstreamConnection[] = [];
  private readonly all = new Set<UpstreamConnection>();
  private readonly waiting: H1Attempt[] = [];
  private closing = false;
  private readonly cancel = (attempt: H1Attempt, error?: Error): void => {
    const i = this.waiting.indexOf(attempt);
    if (i >= 0) this.waiting.splice(i, 1);
    if (error !== undefined) this.handlers.onError(error, attempt.res, this.upstream);
  };

  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly upstream: Upstream,
    readonly handlers: EngineHandlers,
    private readonly settings: ConnectionSettings,
    private readonly maxSockets: number,
  ) {
    // Idle connections are closed by this sweep, well inside the margin left below the
    // upstream's keep-alive timeout (a second below what it announces, reuseForMs; 4 s against the backends' 5 s).
    this.sweeper = setInterval(this.sweep, Math.min(SWEEP_MS, settings.idleTimeoutMs / 4));
    this.sweeper.unref();
  }

  private readonly sweep = (): void => {
    if (this.idle.length === 0) return;
    const now = performance.now();
    for (const conn of [...this.idle]) if (conn.idleUntil <= now) conn.close();
  };

  run(attempt: H1Attempt): void {
    const conn = this.idle.pop();
    if (conn !== undefined) {
      conn.start(attempt);
      return;
    }
    if (this.all.size < this.maxSockets) {
      this.all.add(new UpstreamConnection(this, this.settings, attempt));
      return;
    }
    attempt.onCancel = this.cancel;
    this.waiting.push(attempt);
  }

  release(conn: UpstreamConnection): void {
    const next = this.waiting.shift();
    if (next !== undefined) {
      next.onCancel = null;
      conn.start(next);
      return;
    }
    if (this.closing) {
      conn.close();
      return;
    }
    conn.park(performance.now());
    this.idle.push(conn);
  }

  forget(conn: UpstreamConnection): void {
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    // A connection that failed leaves room for one waiting attempt.
    if (this.waiting.length > 0 && this.all.size < this.maxSockets) {
      const next = this.waiting.shift() as H1Attempt;
      next.onCancel = null;
      this.all.add(new UpstreamConnection(this, this.settings, next));
    }
  }

  /** Requests in flight finish; idle connections close now, the others after their response. */
  drain(): void {
    this.closing = true;
    clearInterval(this.sweeper);
    for (const conn of [...this.idle]) conn.close();
  }

  destroy(): void {
    this.closing = true;
    clearInterval(this.sweeper);
    this.waiting.length = 0;
    for (const conn of [...this.all]) conn.close();
  }
}

export class H1Engine implements ProxyEngine {
  readonly name = 'h1' as const;
  private readonly pools = new Map<Upstream, UpstreamPool>();
  private readonly connection: ConnectionSettings;

  constructor(
    private readonly settings: EngineSettings,
    private readonly handlers: EngineHandlers,
  ) {
    this.connection = {
      connectTimeoutMs: settings.connectTimeoutMs,
      idleTimeoutMs: settings.idleTimeoutMs,
      maxHeadBytes: MAX_HEAD_BYTES,
      buffers: new ReadBuffers(KEPT_READ_BUFFERS),
    };
  }

  forward(upstream: Upstream, req: ClientMessage, res: Exchange, body?: Readable): void {
    let pool = this.pools.get(upstream);
    if (pool === undefined) {
      pool = new UpstreamPool(upstream, this.handlers, this.connection, this.settings.maxSockets);
      this.pools.set(upstream, pool);
    }
    res.upstreamHeaders ??= forwardRequestHeaders(
      req.rawHeaders,
      req.socket.remoteAddress,
      clientProto(req.socket),
      res.requestId,
    );
    const stream = body ?? (res.hasBody ? req : null);
    pool.run(new H1Attempt(res, req.method ?? 'GET', req.url ?? '/', stream));
  }

  detach(upstream: Upstream): void {
    const pool = this.pools.get(upstream);
    if (pool === undefined) return;
    this.pools.delete(upstream);
    pool.drain();
  }

  close(): void {
    for (const pool of this.pools.values()) pool.destroy();
    this.pools.clear();
  }
}
