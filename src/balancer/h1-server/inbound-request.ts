/**
 * A client's request as the balancer's own HTTP/1.1 server hands it to the request path: the
 * fields the path reads (the `ClientMessage` of client-message.ts) on one class, and the body as a
 * Readable the connection pushes into. Backpressure runs from the reader to the client: the
 * connection stops reading its socket while the reader has enough, and `_read` starts it again.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { RequestHead } from './request-head.js';

/** What the request asks of its connection: more body bytes. */
export interface BodySource {
  wantBody(): void;
}

/** Header names node:http keeps once (a repeat is dropped), as IncomingMessage.headers does. */
const SINGLE = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

export class InboundRequest extends Readable {
  method: string;
  url: string;
  readonly rawHeaders: string[];
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor: number;
  readonly httpVersion: string;
  /** The whole request (head and body) has arrived. */
  complete: boolean;
  private headerObject: IncomingHttpHeaders | undefined;
  /** No body, and the end not yet pushed. */
  private bodiless: boolean;

  constructor(
    head: RequestHead,
    readonly socket: Socket,
    private readonly source: BodySource,
    hasBody: boolean,
  ) {
    super();
    this.method = head.method;
    this.url = head.target;
    this.rawHeaders = head.rawHeaders;
    this.httpVersionMinor = head.minor;
    this.httpVersion = head.minor === 1 ? '1.1' : '1.0';
    this.complete = !hasBody;
    this.bodiless = !hasBody;
  }

  /** IncomingMessage.headers, built on first use (the h1 and undici engines read raw headers only). */
  get headers(): IncomingHttpHeaders {
    if (this.headerObject !== undefined) return this.headerObject;
    const headers: Record<string, string | string[]> = {};
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = (raw[i] ?? '').toLowerCase();
      const value = raw[i + 1] ?? '';
      const had = headers[name];
      if (had === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
      else if (Array.isArray(had)) had.push(value);
      else if (!SINGLE.has(name)) headers[name] = `${had}, ${value}`;
    }
    this.headerObject = headers;
    return headers;
  }

  override _read(): void {
    // A request without a body ends when first read (the http-proxy engines pipe every request):
    // ending it up front would cost every request a tick for a stream nobody reads.
    if (this.bodiless) {
      this.bodiless = false;
      this.push(null);
    } else this.source.wantBody();
  }
}
