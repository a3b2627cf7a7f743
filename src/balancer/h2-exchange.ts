/**
 * The request path's exchange on HTTP/2 (node:http2's compatibility API, which the TLS listener
 * builds through its `Http2ServerRequest` and `Http2ServerResponse` options). The request shows
 * the request path HTTP/1.1 headers (h2-headers.ts), so selection, retries, own answers, the
 * access log and the engines treat an HTTP/2 client exactly as an HTTP/1.1 one.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Http2ServerResponse, type Http2ServerRequest, type ServerHttp2Stream } from 'node:http2';
import { ACTIVE_NOW, type Watched } from './deadline-watch.js';
import type { Exchange, ExchangeOwner, UpstreamRequest } from './exchange.js';
import { headerObject, http1RequestHeaders } from './h2-headers.js';
import type { ReplayableBody } from './request-body.js';
import type { RequestIdSource } from './request-id.js';
import type { Upstream } from './upstream.js';

/**
 * Give an HTTP/2 request the HTTP/1.1 header lists the request path reads. Own properties shadow
 * the compatibility API's getters; the header object is built only if an engine asks for it (the
 * http-proxy engine edits it in place, so it is built once).
 */
export function showAsHttp1(req: Http2ServerRequest): void {
  // A stream that ended with its headers has no body; any other may send DATA frames.
  const raw = http1RequestHeaders(req.rawHeaders, !req.stream.endAfterHeaders);
  let headers: IncomingHttpHeaders | undefined;
  Object.defineProperty(req, 'rawHeaders', { value: raw, configurable: true });
  Object.defineProperty(req, 'headers', {
    get: () => (headers ??= headerObject(raw)),
    configurable: true,
  });
}

export class Http2Exchange extends Http2ServerResponse implements Exchange {
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
  /** No meaning on HTTP/2 (a draining listener sends GOAWAY); kept so the request path need not ask. */
  shouldKeepAlive = true;

  constructor(stream: ServerHttp2Stream) {
    super(stream);
    // The compatibility API has no `destroyed` of its own; the stream's is the one that matters.
    Object.defineProperty(this, 'destroyed', { get: () => this.stream.destroyed });
  }

  /** Node accepts a raw [name, value, ...] list here as node:http does; @types/node lacks that form. */
  override writeHead(statusCode: number, headers?: OutgoingHttpHeaders | string[]): this;
  override writeHead(statusCode: number, statusMessage: string, headers?: OutgoingHttpHeaders): this;
  override writeHead(
    statusCode: number,
    messageOrHeaders?: string | OutgoingHttpHeaders | string[],
    headers?: OutgoingHttpHeaders,
  ): this {
    if (typeof messageOrHeaders === 'string') return super.writeHead(statusCode, messageOrHeaders, headers);
    return super.writeHead(statusCode, messageOrHeaders as OutgoingHttpHeaders);
  }

  get clientBusy(): boolean {
    return !this.req.complete || this.stream.writableNeedDrain;
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
}
