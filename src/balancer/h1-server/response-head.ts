/**
 * The head of a response on the balancer's own HTTP/1.1 server, as one string: status line,
 * headers, and the framing node:http would add (pure, no socket). A relayed response keeps the
 * upstream's Content-Length; without one, an HTTP/1.1 client gets it chunked and an HTTP/1.0
 * client gets it delimited by the connection's close. HEAD, 204 and 304 carry no body. The
 * connection's fate is said the way node:http says it (`Connection: keep-alive` with
 * `Keep-Alive: timeout=N`, or `Connection: close`), and a `Date` is added when the headers have
 * none.
 */
import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http';
import { sameName } from '../headers.js';

export interface HeadContext {
  /** The request's HTTP minor version. */
  minor: number;
  /** The request was a HEAD. */
  head: boolean;
  /** The connection may stay open after this response. */
  keepAlive: boolean;
  /** `Keep-Alive: <this>` on kept-alive answers (`timeout=5`). */
  keepAliveValue: string;
}

export interface ResponseHead {
  text: string;
  /** The body goes out in chunks (HTTP/1.1, no Content-Length). */
  chunked: boolean;
  /** The response has no body whatever is written (HEAD, 204, 304, 1xx). */
  bodiless: boolean;
  /** The connection stays open after it. */
  keepAlive: boolean;
}

const STATUS_LINES = new Map<number, string>();

function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (STATUS_LINES.size < 1000) STATUS_LINES.set(status, line);
  }
  return line;
}

let dateSecond = 0;
let dateValue = '';

/** The Date header's value, made once a second. */
export function httpDate(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(second * 1000).toUTCString();
  }
  return dateValue;
}

/**
 * Builds heads one at a time: its fields are the scratch state of the head being built, so a
 * response costs no closure and no object but the result.
 */
export class ResponseHeadBuilder {
  private text = '';
  private hasLength = false;
  private hasDate = false;
  private keepAlive = false;

  build(status: number, headers: readonly string[] | OutgoingHttpHeaders, ctx: HeadContext): ResponseHead {
    this.text = statusLine(status);
    this.hasLength = false;
    this.hasDate = false;
    this.keepAlive = ctx.keepAlive;
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) this.field(headers[i] as string, headers[i + 1] as string);
    } else {
      for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) {
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) this.field(name, v);
        else this.field(name, String(value));
      }
    }
    const bodiless = ctx.head || status === 204 || status === 304 || (status >= 100 && status < 200);
    let chunked = false;
    let text = this.text;
    let keepAlive = this.keepAlive;
    if (!bodiless && !this.hasLength) {
      if (ctx.minor >= 1) {
        chunked = true;
        text += 'Transfer-Encoding: chunked\r\n';
      } else {
        keepAlive = false;
      }
    }
    if (!this.hasDate) text += `Date: ${httpDate()}\r\n`;
    text += keepAlive
      ? `Connection: keep-alive\r\nKeep-Alive: ${ctx.keepAliveValue}\r\n\r\n`
      : 'Connection: close\r\n\r\n';
    this.text = '';
    return { text, chunked, bodiless, keepAlive };
  }

  private field(name: string, value: string): void {
    switch (name.length) {
      case 4:
        if (sameName(name, 'date')) this.hasDate = true;
        break;
      case 10:
        // The balancer's own answers say `Connection: close` when the framing cannot be trusted.
        if (sameName(name, 'connection')) {
          if (sameName(value, 'close')) this.keepAlive = false;
          return;
        }
        break;
      case 14:
        if (sameName(name, 'content-length')) this.hasLength = true;
        break;
      case 17:
        // Framing is this server's to decide.
        if (sameName(name, 'transfer-encoding')) return;
        break;
    }
    this.text += `${name}: ${value}\r\n`;
  }
}
