/**
 * Header rules of a reverse proxy (RFC 9110 section 7.6.1, what Caddy and Go's ReverseProxy do),
 * as pure functions over plain header objects and raw header arrays:
 *
 * - hop-by-hop headers describe one connection and are never passed on, in either direction, nor
 *   any header the Connection header names (except the ones that frame the message);
 * - `X-Forwarded-For`, `-Proto` and `-Host` are set from what the balancer saw. They are replaced,
 *   not appended to: the balancer trusts no proxy in front of it, so a client cannot forge them;
 * - `X-Request-ID` is the one request-id.ts settled on, sent upstream and back to the client;
 * - with `--via`, this front's entry is appended to the response's Via (via.ts);
 * - requests whose framing could be read two ways are refused before they reach an upstream.
 *
 * node:http's parser has already refused Content-Length together with Transfer-Encoding, and
 * duplicate or malformed Content-Length; what is left to check is here.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Lower-case names that never cross the proxy (requests). */
const REQUEST_HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  // node:http has already answered `100 Continue` to the client; the upstream must not wait for one.
  'expect',
] as const;

/** What the client spoke to the balancer, for X-Forwarded-Proto: `https` on a TLS connection. */
export function clientProto(socket: object | null | undefined): 'http' | 'https' {
  return (socket as { encrypted?: boolean } | null | undefined)?.encrypted === true ? 'https' : 'http';
}

/** `name` equals `lower` (given in lower case) ignoring ASCII case, without allocating a copy. */
export function sameName(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = name.charCodeAt(i);
    const l = lower.charCodeAt(i);
    // An upper-case ASCII letter plus 0x20 is its lower-case form.
    if (c !== l && (c < 0x41 || c > 0x5a || c + 0x20 !== l)) return false;
  }
  return true;
}

/** Names a `Connection` header may not remove: they frame the message or route it. */
const PROTECTED = new Set(['host', 'content-length', 'transfer-encoding']);

/**
 * Why a request must be refused (400) before proxying, or undefined. Reads the raw headers once:
 * no Host or several (RFC 9112 section 3.2; HTTP/1.0 may omit it), or a Transfer-Encoding other
 * than exactly `chunked` (RFC 9112 section 6.1: anything else cannot be framed safely by both sides).
 */
export function requestFramingProblem(
  rawHeaders: readonly string[],
  hostRequired = true,
): string | undefined {
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (sameName(name, 'host')) {
      if (++hosts > 1) return 'more than one Host header';
    } else if (sameName(name, 'transfer-encoding')) {
      const value = (rawHeaders[i + 1] ?? '').trim().toLowerCase();
      if (value !== 'chunked') return `Transfer-Encoding "${value}" is not supported (only chunked)`;
    }
  }
  return hosts === 0 && hostRequired ? 'no Host header (HTTP/1.1 requires one)' : undefined;
}

/** True when the request carries a body (a positive Content-Length, or chunked), from its raw headers. */
export function hasRequestBody(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (sameName(name, 'transfer-encoding')) return true;
    if (sameName(name, 'content-length') && (rawHeaders[i + 1] ?? '').trim() !== '0') return true;
  }
  return false;
}

/**
 * Turn the client's headers into the upstream's, in place (the proxy library copies them once
 * more on its own): drop hop-by-hop headers, set the X-Forwarded trio. `Transfer-Encoding: chunked`
 * stays: node:http re-chunks the body it streams on, which frames it the same way.
 */
export function prepareForwardHeaders(
  headers: IncomingHttpHeaders,
  clientAddress: string | undefined,
  proto: 'http' | 'https',
  requestId?: string,
): void {
  const connection = headers.connection;
  if (connection !== undefined) {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '' && !PROTECTED.has(name)) delete headers[name];
    }
  }
  for (const name of REQUEST_HOP_BY_HOP) {
    if (headers[name] !== undefined) delete headers[name];
  }
  headers['x-forwarded-for'] = clientAddress ?? '';
  headers['x-forwarded-proto'] = proto;
  if (headers.host !== undefined) headers['x-forwarded-host'] = headers.host;
  else if (headers['x-forwarded-host'] !== undefined) delete headers['x-forwarded-host'];
  if (requestId !== undefined) headers['x-request-id'] = requestId;
}

/** The raw name is X-Request-ID (length first: most names are ruled out by it alone). */
function isRequestId(name: string): boolean {
  return name.length === 12 && sameName(name, 'x-request-id');
}

/**
 * Names dropped from a raw request header list: the hop-by-hop ones, the client's X-Forwarded
 * trio (replaced, as above), and Transfer-Encoding, because an engine that takes raw headers frames
 * the body it sends itself (chunked when there is no Content-Length).
 */
function isDroppedFromRequest(name: string): boolean {
  switch (name.length) {
    case 2:
      return sameName(name, 'te');
    case 6:
      return sameName(name, 'expect');
    case 7:
      return sameName(name, 'upgrade') || sameName(name, 'trailer');
    case 10:
      return sameName(name, 'connection') || sameName(name, 'keep-alive');
    case 15:
      return sameName(name, 'x-forwarded-for');
    case 16:
      return sameName(name, 'proxy-connection') || sameName(name, 'x-forwarded-host');
    case 17:
      return sameName(name, 'transfer-encoding') || sameName(name, 'x-forwarded-proto');
    case 19:
      return sameName(name, 'proxy-authorization');
    default:
      return false;
  }
}

/**
 * The names a Connection header lists for removal, in lower case (undefined when it lists none,
 * which is the usual case: `keep-alive` or `close`). Framing and routing headers are never removed.
 */
function namedByConnection(raw: readonly string[]): Set<string> | undefined {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (!sameName(raw[i] ?? '', 'connection')) continue;
    const value = raw[i + 1] ?? '';
    if (sameName(value, 'keep-alive') || sameName(value, 'close')) continue;
    for (const token of value.split(',')) {
      const lower = token.trim().toLowerCase();
      if (lower !== '' && lower !== 'close' && lower !== 'keep-alive' && !PROTECTED.has(lower)) {
        (named ??= new Set()).add(lower);
      }
    }
  }
  return named;
}

/**
 * The raw-list form of prepareForwardHeaders, for engines that take the request's raw headers
 * ([name, value, name, value...]): a new list with the same rules, built in one pass without the
 * header object node:http would otherwise build for the request. With `requestId`, the client's
 * X-Request-ID gives way to it.
 */
export function forwardRequestHeaders(
  raw: readonly string[],
  clientAddress: string | undefined,
  proto: 'http' | 'https',
  requestId?: string,
): string[] {
  const named = namedByConnection(raw);
  const out: string[] = [];
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    if (isDroppedFromRequest(name)) continue;
    if (requestId !== undefined && isRequestId(name)) continue;
    if (named !== undefined && named.has(name.toLowerCase())) continue;
    if (host === undefined && sameName(name, 'host')) host = value;
    out.push(name, value);
  }
  out.push('X-Forwarded-For', clientAddress ?? '', 'X-Forwarded-Proto', proto);
  if (host !== undefined) out.push('X-Forwarded-Host', host);
  if (requestId !== undefined) out.push('X-Request-ID', requestId);
  return out;
}

function isResponseHopByHop(name: string): boolean {
  // Switch on the length first: most names are ruled out by it alone.
  switch (name.length) {
    case 7:
      return sameName(name, 'upgrade') || sameName(name, 'trailer');
    case 10:
      return sameName(name, 'connection') || sameName(name, 'keep-alive');
    case 16:
      return sameName(name, 'proxy-connection');
    case 17:
      // node:http frames the relayed body itself (chunked for HTTP/1.1 clients when needed).
      return sameName(name, 'transfer-encoding');
    case 18:
      return sameName(name, 'proxy-authenticate');
    default:
      return false;
  }
}

/**
 * The upstream's raw header list ([name, value, name, value...]) without hop-by-hop headers and
 * those its Connection header names, ready for `writeHead`. A new array: node:http reads the
 * response's own raw headers again later (the agent looks for a Keep-Alive hint). With
 * `requestId`, the client gets that X-Request-ID whatever the upstream sent; with `via`, that
 * entry is appended to the upstream's Via (or is the Via).
 */
export function forwardResponseHeaders(raw: readonly string[], requestId?: string, via?: string): string[] {
  const named = namedByConnection(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (isResponseHopByHop(name)) continue;
    if (requestId !== undefined && isRequestId(name)) continue;
    if (named !== undefined && named.has(name.toLowerCase())) continue;
    out.push(name, raw[i + 1] ?? '');
  }
  if (requestId !== undefined) out.push('X-Request-ID', requestId);
  if (via !== undefined) appendVia(out, via);
  return out;
}

/**
 * Append a Via entry to a raw header list ([name, value, ...]) in place: to the value of its last
 * Via (the field is a comma list, in the order the message passed through), or as a new Via.
 */
export function appendVia(raw: string[], entry: string): void {
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    const name = raw[i] ?? '';
    if (name.length === 3 && sameName(name, 'via')) {
      const value = (raw[i + 1] ?? '').trim();
      raw[i + 1] = value === '' ? entry : `${value}, ${entry}`;
      return;
    }
  }
  raw.push('Via', entry);
}
