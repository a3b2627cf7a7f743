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

/** Response fields HTTP/2 forbids (RFC 9113 section 8.2.2); node refuses a response that has one. */
function isConnectionSpecific(name: string): boolean {
  switch (name.length) {
    case 2:
      return name === 'te';
    case 7:
      return name === 'upgrade';
    case 10:
      return name === 'connection' || name === 'keep-alive';
    case 14:
      return name === 'http2-settings';
    case 16:
      return name === 'proxy-connection';
    case 17:
      return name === 'transfer-encoding';
    default:
      return false;
  }
}

/**
 * A response head for node's `stream.respond` from an HTTP/1.1-style raw list ([name, value, ...],
 * already without hop-by-hop headers, headers.ts): lower-case names, the fields HTTP/2 forbids
 * dropped (so an odd upstream cannot make `respond` throw), repeated Set-Cookie kept as separate
 * fields and any other repeated field joined with ", " (one field, as node:http's header object
 * has it: node refuses repeats of a field it knows as single-valued). Pure; a new object.
 */
export function http2ResponseHeaders(
  status: number,
  raw: readonly string[],
): Record<string, string | string[] | number> {
  const headers: Record<string, string | string[] | number> = { ':status': status };
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    if (name === '' || name.charCodeAt(0) === 58 /* ':' */ || isConnectionSpecific(name)) continue;
    const value = raw[i + 1] ?? '';
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else if (name === 'set-cookie') headers[name] = [String(seen), value];
    else headers[name] = `${String(seen)}, ${value}`;
  }
  return headers;
}

/** An object of headers (the balancer's own answers) as a raw list, for `http2ResponseHeaders`. */
export function rawHeaderList(
  headers: Readonly<Record<string, string | number | readonly string[] | undefined>>,
): string[] {
  const raw: string[] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'object') for (const one of value) raw.push(name, one);
    else raw.push(name, String(value));
  }
  return raw;
}
