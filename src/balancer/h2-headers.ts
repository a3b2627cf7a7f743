/**
 * An HTTP/2 request's header list as the HTTP/1.1 upstreams get it, as nginx converts it (RFC 9113
 * section 8.3): pseudo-headers go (`:authority` becomes Host when the request has none), the
 * cookie crumbs HTTP/2 sends separately are joined with "; " (section 8.2.3), and a body that has
 * no Content-Length is marked chunked, since HTTP/2 frames it and HTTP/1.1 needs to. Node's
 * HTTP/2 layer has already refused connection-specific headers and a `te` other than trailers.
 * Pure.
 */
import { sameName } from './headers.js';

export function http1RequestHeaders(raw: readonly string[], hasBody: boolean): string[] {
  const out: string[] = [];
  let authority: string | undefined;
  let host = false;
  let length = false;
  let cookies: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (name === ':authority') authority = value;
      continue;
    }
    if (sameName(name, 'cookie')) {
      (cookies ??= []).push(value);
      continue;
    }
    if (sameName(name, 'host')) host = true;
    else if (sameName(name, 'content-length')) length = true;
    out.push(name, value);
  }
  if (!host && authority !== undefined) out.unshift('host', authority);
  if (cookies !== undefined) out.push('cookie', cookies.join('; '));
  if (hasBody && !length) out.push('transfer-encoding', 'chunked');
  return out;
}

/** The same list as node:http's header object: lower-case names, repeated values joined with ", ". */
export function headerObject(raw: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    const value = raw[i + 1] ?? '';
    const seen = headers[name];
    headers[name] = seen === undefined ? value : `${seen}, ${value}`;
  }
  return headers;
}
