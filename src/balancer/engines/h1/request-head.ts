/**
 * The request head the h1 engine writes upstream, as one latin1 string: request line, the
 * forwarded headers (headers.ts has already dropped hop-by-hop ones and Transfer-Encoding), and
 * the framing of the body it sends. Pure.
 *
 * node:http's (and node:http2's) parser has vetted what the client sent, but a value or target
 * that would split the head in two (CR, LF, NUL, another control byte) is refused here all the
 * same: it would be a second request smuggled onto a shared upstream connection.
 */
import { sameName } from '../../headers.js';

/**
 * Whether `text` has a byte a request line or field value may never carry (a control byte or DEL;
 * HTAB is allowed in values). A loop over the characters: a regular expression per header value
 * cost 2-3 % of the balancer's CPU per request, most of it in calling it.
 */
function hasForbiddenByte(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}
/** A method is a token (RFC 9110 section 9.1). */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export class UnsendableRequest extends Error {
  override readonly name = 'UnsendableRequest';
}

/** How the body goes upstream: none, as given (Content-Length), or chunked by the engine. */
export type BodyFraming = 'none' | 'length' | 'chunked';

export interface RequestHead {
  head: string;
  framing: BodyFraming;
}

export function requestHead(
  method: string,
  path: string,
  headers: readonly string[],
  hasBody: boolean,
  /**
   * The upstream's host:port, the Host of a request that came without one (HTTP/1.0 may omit it;
   * the head goes out as HTTP/1.1, which requires it), as nginx sends its upstream's name.
   */
  authority = '',
): RequestHead {
  if (!METHOD.test(method)) throw new UnsendableRequest(`invalid method ${JSON.stringify(method)}`);
  if (path.length === 0 || path.includes(' ') || hasForbiddenByte(path)) {
    throw new UnsendableRequest('invalid request target');
  }
  let head = `${method} ${path} HTTP/1.1\r\n`;
  let hasLength = false;
  let hasHost = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    // Names come from a parser that accepts tokens only; values are what could split the head.
    if (hasForbiddenByte(value)) {
      throw new UnsendableRequest(`header ${JSON.stringify(name)} has a byte that cannot be sent`);
    }
    if (!hasLength && name.length === 14 && sameName(name, 'content-length')) hasLength = true;
    else if (!hasHost && name.length === 4 && sameName(name, 'host')) hasHost = true;
    head += `${name}: ${value}\r\n`;
  }
  if (!hasHost && authority !== '') head += `Host: ${authority}\r\n`;
  let framing: BodyFraming = 'none';
  if (hasBody) {
    framing = hasLength ? 'length' : 'chunked';
    if (!hasLength) head += 'Transfer-Encoding: chunked\r\n';
  }
  return { head: `${head}\r\n`, framing };
}
