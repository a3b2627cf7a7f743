/**
 * Which upgrade requests the balancer passes on, and the request head an upstream gets. Pure, from
 * the request line and raw headers alone (as nginx and HAProxy decide before choosing a server):
 *
 * - `Upgrade: h2c` is never forwarded: an upstream that accepts it would speak HTTP/2 straight past
 *   the proxy's rules ("h2c smuggling"); `h2` is not an upgrade token at all (RFC 9113 section 3.1);
 * - only GET may upgrade (RFC 6455 section 4.1; HTTP/1.1 upgrades on other methods carry a body the
 *   tunnel would mix with the new protocol's bytes), and an upgrade request has no body;
 * - the rest of the framing rules are the ordinary request's (headers.ts).
 */
import {
  appendVia,
  forwardRequestHeaders,
  hasRequestBody,
  requestFramingProblem,
  sameName,
} from './headers.js';

export interface UpgradeRequest {
  method: string;
  url: string;
  rawHeaders: readonly string[];
}

/** The protocols named by the Upgrade header, lower case, in order. */
export function upgradeProtocols(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (!sameName(rawHeaders[i] ?? '', 'upgrade')) continue;
    for (const token of (rawHeaders[i + 1] ?? '').split(',')) {
      const protocol = token.trim().toLowerCase();
      if (protocol !== '') out.push(protocol);
    }
  }
  return out;
}

/** Why an upgrade request is refused with 400 before any upstream sees it, or undefined. */
export function upgradeRefusal(req: UpgradeRequest): string | undefined {
  const protocols = upgradeProtocols(req.rawHeaders);
  if (protocols.length === 0) return 'Connection: upgrade without an Upgrade header';
  const h2 = protocols.find((p) => p === 'h2c' || p === 'h2' || p.startsWith('h2c/'));
  if (h2 !== undefined) {
    return `Upgrade: ${h2} is never forwarded (an HTTP/2 upgrade through a proxy bypasses its rules)`;
  }
  if (req.method !== 'GET') return `an upgrade must be a GET, not ${req.method}`;
  if (hasRequestBody(req.rawHeaders)) return 'an upgrade request must not carry a body';
  if (req.url.charCodeAt(0) !== 47 /* '/' */) return `the upgrade target must be a path, not ${req.url}`;
  return requestFramingProblem(req.rawHeaders, true);
}

/**
 * The upstream's request headers, as a raw list: the ordinary forwarding rules (hop-by-hop
 * headers dropped, X-Forwarded-* set), then the two hop-by-hop headers an upgrade needs on the next
 * hop as well, as nginx sets them (`proxy_set_header Upgrade $http_upgrade; Connection "upgrade"`).
 */
export function upgradeRequestHeaders(
  rawHeaders: readonly string[],
  clientAddress: string | undefined,
  proto: 'http' | 'https',
  requestId?: string,
): string[] {
  const out = forwardRequestHeaders(rawHeaders, clientAddress, proto, requestId);
  out.push('Connection', 'upgrade', 'Upgrade', upgradeProtocols(rawHeaders).join(', '));
  return out;
}

/** The upstream's headers with `via` appended to its Via (--via); the same list when there is none. */
function withVia(upstreamRawHeaders: readonly string[], via: string | undefined): readonly string[] {
  if (via === undefined) return upstreamRawHeaders;
  const copy = [...upstreamRawHeaders];
  appendVia(copy, via);
  return copy;
}

/**
 * The client's `101 Switching Protocols` head: the upstream's headers, end-to-end ones only, plus
 * Upgrade (and this front's Via entry, with `via`).
 */
export function switchingProtocolsHead(upstreamRawHeaders: readonly string[], via?: string): string {
  const headers = withVia(upstreamRawHeaders, via);
  let head = 'HTTP/1.1 101 Switching Protocols\r\n';
  let upgrade = '';
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] ?? '';
    const value = headers[i + 1] ?? '';
    if (sameName(name, 'upgrade')) upgrade = value;
    else if (!isHopByHop(name)) head += `${name}: ${value}\r\n`;
  }
  return `${head}Connection: upgrade\r\nUpgrade: ${upgrade}\r\n\r\n`;
}

/**
 * Head of a non-101 answer to an upgrade request, relayed as an ordinary response that ends the
 * connection (the client asked to leave HTTP; it gets this one answer, then the close).
 */
export function relayedResponseHead(
  statusCode: number,
  statusMessage: string,
  upstreamRawHeaders: readonly string[],
  via?: string,
): string {
  const headers = withVia(upstreamRawHeaders, via);
  let head = `HTTP/1.1 ${statusCode} ${statusMessage}\r\n`;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] ?? '';
    if (!isHopByHop(name)) head += `${name}: ${headers[i + 1] ?? ''}\r\n`;
  }
  return `${head}Connection: close\r\n\r\n`;
}

function isHopByHop(name: string): boolean {
  return (
    sameName(name, 'connection') ||
    sameName(name, 'keep-alive') ||
    sameName(name, 'transfer-encoding') ||
    sameName(name, 'proxy-connection') ||
    sameName(name, 'upgrade') ||
    sameName(name, 'trailer')
  );
}
