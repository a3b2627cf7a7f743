/**
 * One request and its response on the balancer's own HTTP/1.1 server: the request path's
 * `Exchange` (exchange.ts) written straight to the client's socket. The head is held until the
 * first body bytes (or the end), so a response that fits goes out in one system call (a corked
 * writev of head and body). The connection (inbound-connection.ts) says when it is over: 'close'
 * once the response has been handed to the socket or the client went away, 'drain' when the
 * client has read what was relayed.
 */
import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { ACTIVE_NOW, type Watched } from '../deadline-watch.js';
import type { Exchange, ExchangeOwner, UpstreamRequest } from '../exchange.js';
import type { ReplayableBody } from '../request-body.js';
import type { RequestIdSource } from '../request-id.js';
import type { Upstream } from '../upstream.js';
import type { InboundRequest } from './inbound-request.js';
import type { ResponseHeadBuilder } from './response-head.js';

/** The connection, as its response sees it. */
export interface ResponseLine {
  readonly socket: Socket;
  readonly heads: ResponseHeadBuilder;
  /** `Keep-Alive: <this>` (the server's keep-alive timeout in seconds). */
  readonly keepAliveValue: string;
  /** The whole response is on the socket. */
  responseEnded(res: InboundExchange): void;
}

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';
const LAST_CHUNK_AFTER_DATA = `${CRLF}${LAST_CHUNK}`;

export class InboundExchange extends EventEmitter implements Exchange {
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
  queueTimer: NodeJS.Timeout | null = null;
  requestId = '';
  requestIdSource: RequestIdSource = 'made';
  bytesSent = 0;

  statusCode = 200;
  headersSent = false;
  destroyed = false;
  writableFinished = false;
  shouldKeepAlive: boolean;
  /** 'close' was emitted. */
  closed = false;
  /** The head, until the first bytes after it go out. */
  private head: string | null = null;
  private chunked = false;
  private bodiless = false;

  constructor(
    readonly req: InboundRequest,
    private readonly line: ResponseLine,
    keepAlive: boolean,
  ) {
    super();
    this.shouldKeepAlive = keepAlive;
  }

  get writableLength(): number {
    return this.line.socket.writableLength;
  }

  /** The client is still sending its request, or has not read what was relayed so far. */
  get clientBusy(): boolean {
    return !this.req.complete || this.line.socket.writableNeedDrain;
  }

  writeHead(statusCode: number, headers: string[] | OutgoingHttpHeaders): this {
    if (this.headersSent) return this;
    this.statusCode = statusCode;
    // A response sent before its request has arrived whole ends the connection: what is left of
    // the request cannot be told from the next one.
    const built = this.line.heads.build(statusCode, headers, {
      minor: this.req.httpVersionMinor,
      head: this.req.method === 'HEAD',
      keepAlive: this.shouldKeepAlive && this.req.complete,
      keepAliveValue: this.line.keepAliveValue,
    });
    this.shouldKeepAlive = built.keepAlive;
    this.chunked = built.chunked;
    this.bodiless = built.bodiless;
    this.head = built.text;
    this.headersSent = true;
    return this;
  }

  write(chunk: Buffer | string, written?: (err?: Error | null) => void): boolean {
    if (this.destroyed || this.writableFinished) return false;
    if (!this.headersSent) this.writeHead(this.statusCode, {});
    if (this.bodiless || chunk.length === 0) {
      this.flushHead();
      if (written !== undefined) process.nextTick(written);
    } else {
      this.send(chunk, CRLF, written);
    }
    return !this.line.socket.writableNeedDrain;
  }

  relay(chunk: Buffer, written?: (err?: Error | null) => void): boolean {
    this.lastActivity = ACTIVE_NOW;
    this.bytesSent += chunk.length;
    return this.write(chunk, written);
  }

  end(chunk?: Buffer | string): this {
    if (this.destroyed || this.writableFinished) return this;
    if (!this.headersSent) {
      const length =
        chunk === undefined ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      this.writeHead(this.statusCode, { 'Content-Length': length });
    }
    if (chunk !== undefined && chunk.length > 0 && !this.bodiless) this.send(chunk, LAST_CHUNK_AFTER_DATA);
    else if (this.chunked) this.line.socket.write(`${this.head ?? ''}${LAST_CHUNK}`, 'latin1');
    else this.flushHead();
    this.head = null;
    this.writableFinished = true;
    this.line.responseEnded(this);
    return this;
  }

  /**
   * Body bytes on the socket, after the head while it is held (one corked writev). Chunked, they
   * go as one chunk followed by `tail`: CRLF, or CRLF and the last chunk when they end the body.
   */
  private send(chunk: Buffer | string, tail: string, written?: (err?: Error | null) => void): void {
    const socket = this.line.socket;
    const head = this.head ?? '';
    this.head = null;
    if (this.chunked) {
      const size = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      socket.cork();
      socket.write(`${head}${size.toString(16)}${CRLF}`, 'latin1');
      socket.write(chunk);
      socket.write(tail, 'latin1', written);
      socket.uncork();
    } else if (head !== '') {
      socket.cork();
      socket.write(head, 'latin1');
      socket.write(chunk, written);
      socket.uncork();
    } else {
      socket.write(chunk, written);
    }
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.line.socket.destroy();
    return this;
  }

  /** Once, when the response is over either way (the connection calls it). */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }

  private flushHead(): void {
    if (this.head === null) return;
    this.line.socket.write(this.head, 'latin1');
    this.head = null;
  }
}
