/**
 * One connection of the h1 engine to an upstream, and the attempt it carries: write the request
 * head (and the body, with backpressure), parse the response (response-parser.ts), hand the head
 * and the body to the request path, and go back to the pool when the response is complete and
 * the connection may carry another. One request at a time (no pipelining).
 *
 * Every way an attempt can end is reported once, through the engine's handlers: the response's
 * end, an error from the socket (its code kept for the retry policy), the upstream closing early
 * (ERR_UPSTREAM_BROKE_OFF), a malformed response (ERR_UPSTREAM_BAD_RESPONSE), or the request
 * path stopping the attempt (`destroy`).
 */
import net from 'node:net';
import type { Readable } from 'node:stream';
import { UpstreamError } from '../../../errors.js';
import type { Exchange, UpstreamRequest } from '../../exchange.js';
import type { Upstream } from '../../upstream.js';
import type { EngineHandlers } from '../proxy-engine.js';
import { reuseForMs } from '../upstream-agent.js';
import type { ReadBuffer, ReadBuffers } from './read-buffers.js';
import { requestHead, UnsendableRequest, type BodyFraming } from './request-head.js';
import {
  ResponseParseError,
  ResponseParser,
  type ResponseHead,
  type ResponseSink,
} from './response-parser.js';

/** A last slice shorter than this is copied before it is handed over: node's pool serves it. */
const SMALL_COPY_BYTES = Buffer.poolSize >>> 1;

/** What a connection asks of the pool it belongs to. */
export interface ConnectionOwner {
  readonly upstream: Upstream;
  readonly handlers: EngineHandlers;
  /** The connection finished a response and may carry another. */
  release(conn: UpstreamConnection): void;
  /** The connection is gone (closed, failed or not reusable). */
  forget(conn: UpstreamConnection): void;
}

export interface ConnectionSettings {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxHeadBytes: number;
  /** Where read buffers come from (one pool for the engine). */
  buffers: ReadBuffers;
}

const CHUNK_END = '0\r\n\r\n';

/** One request on its way to an upstream: the request path's handle to stop it. */
export class H1Attempt implements UpstreamRequest {
  conn: UpstreamConnection | null = null;
  /** Over: answered, failed or stopped; nothing more is reported. */
  over = false;
  /** Relay the body to the client (false: a stale attempt or a client gone; drop it). */
  relaying = false;
  /** Set by the pool while the attempt waits for a connection: it leaves the queue (and reports `error`). */
  onCancel: ((attempt: H1Attempt, error?: Error) => void) | null = null;

  constructor(
    readonly res: Exchange,
    readonly method: string,
    readonly path: string,
    readonly body: Readable | null,
  ) {}

  destroy(error?: Error): void {
    if (this.over) return;
    const conn = this.conn;
    if (conn !== null) {
      conn.abort(this, error);
      return;
    }
    // Still waiting for a connection.
    this.over = true;
    this.onCancel?.(this, error);
  }
}

export class UpstreamConnection implements ResponseSink {
  readonly socket: net.Socket;
  private readonly parser: ResponseParser;
  private attempt: H1Attempt | null = null;
  private connected = false;
  private connectTimer: NodeJS.Timeout | null = null;
  private keepAlive = false;
  private gone = false;
  private readBuffer: ReadBuffer;
  /** The last body slice of the current read, not yet relayed (see onBody). */
  private held: Buffer | null = null;
  /** The response head of the current attempt has been handed on. */
  private responded = false;
  private readonly resume = (): void => {
    this.socket.resume();
  };

  constructor(
    private readonly owner: ConnectionOwner,
    private readonly settings: ConnectionSettings,
    first: H1Attempt,
  ) {
    this.parser = new ResponseParser(settings.maxHeadBytes);
    this.readBuffer = settings.buffers.take();
    const { host, port } = owner.upstream;
    this.attempt = first;
    first.conn = this;
    // Reads land in this connection's own buffer (no allocation per read, no stream machinery
    // per chunk); a read whose bytes are still queued for the client gets a fresh one.
    this.socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: () => this.readBuffer.bytes,
        callback: (n: number, buf: Uint8Array) => this.onRead(n, buf),
      },
    });
    this.connectTimer = setTimeout(() => this.connectTimedOut(), settings.connectTimeoutMs);
    this.socket.once('connect', () => this.onConnect());
    this.socket.on('end', () => this.onSocketEnd());
    this.socket.on('error', (err: Error) => this.fail(err));
    this.socket.on('close', () => this.onClose());
  }

  /** Carry `attempt` on this (idle, connected) connection. */
  start(attempt: H1Attempt): void {
    this.attempt = attempt;
    attempt.conn = this;
    this.send(attempt);
  }

  /** Stop the current attempt (the request path gave up on it): the connection cannot be reused. */
  abort(attempt: H1Attempt, error?: Error): void {
    if (this.attempt !== attempt || attempt.over) return;
    this.end(attempt, error ?? null);
    this.close();
  }

  /** Close the connection (idle, or at shutdown). */
  close(): void {
    if (this.gone) return;
    this.gone = true;
    this.clearConnectTimer();
    this.socket.destroy();
    this.owner.forget(this);
  }

  // ---- the request ----

  private onConnect(): void {
    this.connected = true;
    this.clearConnectTimer();
    const attempt = this.attempt;
    if (attempt !== null && !attempt.over) this.send(attempt);
  }

  private send(attempt: H1Attempt): void {
    const res = attempt.res;
    let head: string;
    let framing: BodyFraming;
    try {
      ({ head, framing } = requestHead(
        attempt.method,
        attempt.path,
        res.upstreamHeaders ?? [],
        attempt.body !== null,
        this.owner.upstream.authority,
      ));
    } catch (err) {
      if (!(err instanceof UnsendableRequest)) throw err;
      // Nothing was written: the connection stays good for the next request.
      this.attempt = null;
      attempt.conn = null;
      const { upstream } = this.owner;
      this.report(
        attempt,
        new UpstreamError('ERR_UPSTREAM_UNSENDABLE', upstream.id, err.message, { cause: err }),
      );
      this.owner.release(this);
      return;
    }
    this.parser.expect(attempt.method);
    this.responded = false;
    this.owner.handlers.onRequestSent(attempt, res, this.owner.upstream);
    // The request path may have given up on the attempt just now (it was stale).
    if (attempt.over || this.gone) return;
    this.socket.write(head, 'latin1');
    if (attempt.body !== null) this.sendBody(attempt, attempt.body, framing === 'chunked');
  }

  private sendBody(attempt: H1Attempt, body: Readable, chunked: boolean): void {
    const socket = this.socket;
    const onData = (chunk: Buffer): void => {
      if (attempt.over || this.attempt !== attempt) return;
      let ok: boolean;
      if (chunked) {
        if (chunk.length === 0) return;
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        ok = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else {
        ok = socket.write(chunk);
      }
      if (!ok) {
        body.pause();
        socket.once('drain', () => body.resume());
      }
    };
    body.on('data', onData);
    body.once('end', () => {
      if (chunked && !attempt.over && this.attempt === attempt) socket.write(CHUNK_END, 'latin1');
    });
  }

  // ---- the response ----

  private onRead(nread: number, buf: Uint8Array): boolean {
    const chunk = Buffer.from(buf.buffer, buf.byteOffset, nread);
    const current = this.readBuffer;
    this.onData(chunk);
    // Relayed bytes sit in the client's write queue until written: the buffer is theirs until
    // then, and goes back to the pool after (ReadBuffer.written).
    if (current.pending !== 0) {
      current.detached = true;
      this.readBuffer = this.settings.buffers.take();
    }
    return true;
  }

  private onData(chunk: Buffer): void {
    const attempt = this.attempt;
    if (attempt === null || attempt.over) {
      // Bytes on an idle connection: nothing asked for them. It cannot be trusted with a request.
      this.close();
      return;
    }
    attempt.res.lastActivity = -1;
    let used: number;
    try {
      used = this.parser.execute(chunk, this);
    } catch (err) {
      if (!(err instanceof ResponseParseError)) throw err;
      this.failParse(attempt, err);
      return;
    }
    // The response goes on in the next read: what was held back of this one goes out now.
    this.relayHeld();
    if (used < chunk.length && !this.gone) {
      // More than the response: with one request at a time that is a confused upstream. The
      // response itself was complete; the connection is not used again.
      this.close();
    }
  }

  onHead(head: ResponseHead): void {
    const attempt = this.attempt as H1Attempt;
    this.keepAlive = head.keepAlive;
    this.responded = true;
    if (this.keepAlive) this.noteKeepAliveHint(head.rawHeaders);
    attempt.relaying = this.owner.handlers.onResponse(
      attempt.res,
      this.owner.upstream,
      head.status,
      head.rawHeaders,
    );
  }

  onBody(chunk: Buffer): void {
    const attempt = this.attempt;
    if (attempt === null || !attempt.relaying || attempt.over) return;
    // One slice is held back: when it turns out to be the last, it goes out with the response's
    // end, in one write with the head (node:http's end(chunk)) instead of a write and an end.
    this.relayHeld();
    this.held = chunk;
  }

  /** Relay the held slice; the client not keeping up stops reading the upstream until it drains. */
  private relayHeld(): void {
    const chunk = this.held;
    if (chunk === null) return;
    this.held = null;
    const attempt = this.attempt;
    if (attempt === null || !attempt.relaying || attempt.over) return;
    const res = attempt.res;
    const buffer = this.readBuffer;
    buffer.pending++;
    if (res.relay(chunk, buffer.written)) return;
    this.socket.pause();
    res.once('drain', this.resume);
  }

  onEnd(): void {
    const attempt = this.attempt;
    if (attempt === null) return;
    const relaying = attempt.relaying && !attempt.over;
    const last = this.held;
    this.held = null;
    attempt.over = true;
    attempt.conn = null;
    this.attempt = null;
    if (relaying) {
      if (last === null) attempt.res.end();
      else {
        attempt.res.bytesSent += last.length;
        if (last.length < SMALL_COPY_BYTES) {
          // A small last slice goes out as a copy (from node's shared pool, no allocation of its
          // own), so the read buffer stays with the connection. Over TLS and HTTP/2 a client write
          // never completes at once, and left to it the buffer was lost: a fresh 64 KiB for every
          // response, and the garbage collector's work that comes with it.
          attempt.res.end(Buffer.from(last));
        } else {
          attempt.res.end(last);
          // end(chunk) writes at once; what the kernel did not take waits in the queue, and the
          // buffer is left to it (never reused).
          if (attempt.res.writableLength > 0) this.readBuffer.forfeit();
        }
      }
    }
    if (this.gone) return;
    if (this.keepAlive && !this.socket.destroyed) {
      this.socket.resume();
      this.owner.release(this);
    } else {
      this.close();
    }
  }

  /**
   * Parked in the pool at `now` (ms): the pool's sweep closes it once idle past `idleUntil`,
   * shorter than the upstream's own keep-alive (one sweep timer per pool, not a timer per request).
   */
  park(now: number): void {
    this.idleUntil = now + this.idleMs;
  }

  /** When an idle connection is closed by the pool's sweep. */
  idleUntil = 0;
  private idleMs = 0;

  private noteKeepAliveHint(rawHeaders: readonly string[]): void {
    const idleMs = reuseForMs(rawHeaders, this.settings.idleTimeoutMs);
    if (idleMs === undefined) this.keepAlive = false;
    else this.idleMs = idleMs;
  }

  // ---- endings ----

  private onSocketEnd(): void {
    // The upstream finished its side: a body read until close is complete now; anything else was cut.
    const attempt = this.attempt;
    if (attempt !== null && !attempt.over) {
      try {
        this.parser.closed(this);
      } catch (err) {
        if (!(err instanceof ResponseParseError)) throw err;
        this.fail(
          new UpstreamError(
            'ERR_UPSTREAM_BROKE_OFF',
            this.owner.upstream.id,
            `${this.owner.upstream.name} closed the connection ${this.responded ? 'during' : 'before'} the response`,
          ),
        );
        return;
      }
    }
    this.close();
  }

  private onClose(): void {
    const attempt = this.attempt;
    if (attempt !== null && !attempt.over) {
      this.fail(
        new UpstreamError(
          'ERR_UPSTREAM_BROKE_OFF',
          this.owner.upstream.id,
          `${this.owner.upstream.name} closed the connection ${this.responded ? 'during' : 'before'} the response`,
        ),
      );
    }
    if (!this.gone) {
      this.gone = true;
      this.clearConnectTimer();
      this.owner.forget(this);
    }
  }

  private failParse(attempt: H1Attempt, err: ResponseParseError): void {
    const upstream = this.owner.upstream;
    const message =
      err.problem === 'unasked-upgrade'
        ? `${upstream.name} answered 101 Switching Protocols to a request that asked for no upgrade`
        : `${upstream.name} sent a malformed response: ${err.message}`;
    this.end(attempt, new UpstreamError('ERR_UPSTREAM_BAD_RESPONSE', upstream.id, message, { cause: err }));
    this.close();
  }

  /** A socket error, or the connection lost: the current attempt fails with it. */
  private fail(err: Error): void {
    const attempt = this.attempt;
    if (attempt !== null && !attempt.over) this.end(attempt, err);
    this.close();
  }

  private connectTimedOut(): void {
    this.connectTimer = null;
    if (this.connected) return;
    const { upstream } = this.owner;
    const ms = this.settings.connectTimeoutMs;
    this.fail(
      new UpstreamError(
        'ERR_UPSTREAM_CONNECT_TIMEOUT',
        upstream.id,
        `no connection to ${upstream.host}:${upstream.port} within ${ms}ms`,
      ),
    );
  }

  private clearConnectTimer(): void {
    if (this.connectTimer === null) return;
    clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  /** The attempt is over; `error` (if any) goes to the request path. */
  private end(attempt: H1Attempt, error: Error | null): void {
    attempt.over = true;
    attempt.conn = null;
    this.held = null;
    if (this.attempt === attempt) this.attempt = null;
    attempt.res.removeListener('drain', this.resume);
    if (error !== null) this.report(attempt, error);
  }

  private report(attempt: H1Attempt, error: Error): void {
    attempt.over = true;
    this.owner.handlers.onError(error, attempt.res, this.owner.upstream);
  }
}
