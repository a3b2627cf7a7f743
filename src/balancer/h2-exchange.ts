/**
 * The request path's exchange on HTTP/2, over node's core stream API: one `ServerHttp2Stream` is
 * both the request (its readable side is the body) and where the response goes (`respond`, then
 * `write`/`end`). The stream is given the fields the request path reads of a request, with
 * HTTP/1.1 headers (h2-headers.ts), so selection, retries, own answers, the access log and the
 * engines treat an HTTP/2 client exactly as an HTTP/1.1 one. node's compatibility API
 * (`Http2ServerRequest`/`Http2ServerResponse`) built two more streams' worth of objects and
 * listeners per request on top of this, to show the same things.
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { constants, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { ExchangeError } from '../errors.js';
import { ACTIVE_NOW, type Watched } from './deadline-watch.js';
import type { Exchange, ExchangeOwner, UpstreamRequest } from './exchange.js';
import { headerObject, http1RequestHeaders, http2ResponseHeaders, rawHeaderList } from './h2-headers.js';
import type { ReplayableBody } from './request-body.js';
import type { RequestIdSource } from './request-id.js';
import type { Upstream } from './upstream.js';

/**
 * An HTTP/2 stream that is also the request the request path reads (node's compatibility layer
 * hangs its own fields on the stream the same way). The fields are set once, in one order, when
 * the stream arrives.
 */
export interface Http2ClientStream extends ServerHttp2Stream {
  method: string;
  url: string;
  /** HTTP/1.1-shaped: no pseudo-headers, Host from :authority, one Cookie. */
  rawHeaders: string[];
  headers: IncomingHttpHeaders;
  /** The TLS connection the stream's session runs on. */
  socket: Socket;
  /** The body has been read to its end (or there was none). */
  complete: boolean;
  httpVersionMajor: number;
  httpVersionMinor: number;
  /** Where the stream's 'close' is passed on. */
  exchange: Http2Exchange;
}

/** Headers for a response whose head the request path never wrote (it always does). */
const NO_HEADERS: string[] = [];

export class Http2Exchange extends EventEmitter implements Exchange {
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
  /** No meaning on HTTP/2 (a draining listener sends GOAWAY); kept so the request path need not ask. */
  shouldKeepAlive = true;
  readonly req: Http2ClientStream;
  /** The same object as `req`, seen as the response's stream. */
  private readonly stream: ServerHttp2Stream;

  constructor(stream: ServerHttp2Stream, rawHeaders: readonly string[], socket: Socket) {
    super();
    this.stream = stream;
    // A stream that ended with its headers has no body; any other may send DATA frames.
    const hasBody = !stream.endAfterHeaders;
    const raw = http1RequestHeaders(rawHeaders, hasBody);
    const req = stream as Http2ClientStream;
    req.method = pseudoHeader(rawHeaders, ':method');
    req.url = pseudoHeader(rawHeaders, ':path');
    req.rawHeaders = raw;
    // Built at once (a fraction of a microsecond): only the http-proxy engines read it, but a
    // getter would have to be defined on every stream.
    req.headers = headerObject(raw);
    req.socket = socket;
    req.complete = !hasBody;
    req.httpVersionMajor = 2;
    req.httpVersionMinor = 0;
    req.exchange = this;
    this.req = req;
    // 'on', not 'once': each is emitted once, and once() wraps its listener in a new closure.
    stream.on('close', onStreamClose);
    if (hasBody) stream.on('end', onBodyEnd);
  }

  get headersSent(): boolean {
    return this.stream.headersSent;
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  /**
   * The whole response went out. A stream the client reset (or whose connection broke) counts as
   * not finished even once node has ended its writable side for it: that is a 499.
   */
  get writableFinished(): boolean {
    const stream = this.stream;
    return stream.writableFinished && !stream.aborted && stream.rstCode === constants.NGHTTP2_NO_ERROR;
  }

  get writableLength(): number {
    return this.stream.writableLength;
  }

  get clientBusy(): boolean {
    return !this.req.complete || this.stream.writableNeedDrain;
  }

  /**
   * `respond` with the head in HTTP/2's terms (h2-headers.ts). A stream the client has already
   * reset takes no head: the request is being accounted for as the client's (499).
   */
  writeHead(statusCode: number, headers: string[] | OutgoingHttpHeaders): this {
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return this;
    this.statusCode = statusCode;
    stream.respond(
      http2ResponseHeaders(statusCode, Array.isArray(headers) ? headers : rawHeaderList(headers)),
    );
    return this;
  }

  write(chunk: Buffer | string): boolean {
    // After a head that ends the stream (HEAD, 204, 304) a body is dropped, not an error that resets it.
    if (this.stream.writableEnded) return true;
    return this.stream.write(chunk);
  }

  end(chunk?: Buffer | string): this {
    const stream = this.stream;
    if (!stream.headersSent) this.writeHead(this.statusCode, NO_HEADERS);
    if (stream.writableEnded || stream.destroyed) return this;
    if (chunk === undefined) stream.end();
    else stream.end(chunk);
    // Answered before the client finished sending its body (an own answer): RST_STREAM NO_ERROR once
    // the response is out asks it to stop (RFC 9113 section 8.1), as nginx does; else the unread
    // body would hold the stream open.
    if (!this.req.complete) stream.close(constants.NGHTTP2_NO_ERROR);
    return this;
  }

  /** RST_STREAM: INTERNAL_ERROR, so the client knows the response was not whole. */
  destroy(error?: Error): this {
    this.stream.destroy(
      error ?? new ExchangeError('ERR_RESPONSE_CUT', 'the response could not be finished and was cut'),
    );
    return this;
  }

  /**
   * `written` is not passed on: an HTTP/2 session may hold the bytes past its write callback, so a
   * relayed buffer is never reused on this protocol.
   */
  relay(chunk: Buffer): boolean {
    this.lastActivity = ACTIVE_NOW;
    this.bytesSent += chunk.length;
    return this.write(chunk);
  }

  // 'drain' is the stream's: listeners go straight to it. 'close' is this object's own (emitted
  // when the stream closes), so its listeners are called with the exchange as `this`.
  override on(event: string | symbol, listener: (...args: unknown[]) => void): this {
    if (event === 'drain') this.stream.on(event, listener);
    else super.on(event, listener);
    return this;
  }

  override once(event: string | symbol, listener: (...args: unknown[]) => void): this {
    if (event === 'drain') this.stream.once(event, listener);
    else super.once(event, listener);
    return this;
  }

  override removeListener(event: string | symbol, listener: (...args: unknown[]) => void): this {
    if (event === 'drain') this.stream.removeListener(event, listener);
    else super.removeListener(event, listener);
    return this;
  }

  override off(event: string | symbol, listener: (...args: unknown[]) => void): this {
    return this.removeListener(event, listener);
  }
}

/** The value of a pseudo-header (they come first, so this stops early); '' when it is missing. */
function pseudoHeader(raw: readonly string[], name: string): string {
  for (let i = 0; i < raw.length; i += 2) {
    const field = raw[i] ?? '';
    if (field === name) return raw[i + 1] ?? '';
    if (field.charCodeAt(0) !== 58 /* ':' */) break;
  }
  return '';
}

function onStreamClose(this: Http2ClientStream): void {
  this.exchange.emit('close');
}

function onBodyEnd(this: Http2ClientStream): void {
  this.complete = true;
}
