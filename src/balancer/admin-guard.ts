/**
 * Who may change the balancer through its admin listener (Caddy's admin API: loopback by default,
 * origin checks; HAProxy's runtime API behind a socket). Pure: a request's method and headers in,
 * a refusal or nothing out. A browser page on another site cannot drive a mutating route: it
 * cannot send `Content-Type: application/json` without a CORS preflight (which is refused), a
 * foreign `Origin` is refused, and so is a `Host` that is not the listener's own address (DNS
 * rebinding). Off loopback a bearer token is required, compared in constant time.
 */
import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { hostPort } from '../net/address.js';

export interface AdminIdentity {
  /** The address the admin listener is bound to, and its port. */
  host: string;
  port: number;
  /** Required as `Authorization: Bearer <token>` when set. */
  token: string | null;
}

export interface Refusal {
  status: 401 | 403 | 405 | 415;
  reason: string;
  headers?: Record<string, string>;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '::1'];

/**
 * Whether `authority` (a Host header, an Origin's host) names this listener: its own address, and
 * loopback's names when it is on loopback. Bound to every address (0.0.0.0, ::), any address
 * literal with its port is its own, and no DNS name is: a rebound name is what this refuses.
 */
export function isOwnAuthority(authority: string, identity: Pick<AdminIdentity, 'host' | 'port'>): boolean {
  const wanted = authority.toLowerCase();
  if (identity.host === '0.0.0.0' || identity.host === '::') {
    const m = /^(\[[0-9a-f:.]+\]|[^:]+):(\d+)$/.exec(wanted);
    if (m === null || Number(m[2]) !== identity.port) return false;
    const name = (m[1] ?? '').replace(/^\[|\]$/g, '');
    return isIP(name) !== 0 || name === 'localhost';
  }
  const names = LOOPBACK_NAMES.includes(identity.host) ? LOOPBACK_NAMES : [identity.host];
  return names.some((h) => hostPort(h, identity.port).toLowerCase() === wanted);
}

/** Null when the request may change the balancer; otherwise what to answer. */
export function refuseMutation(
  method: string | undefined,
  headers: IncomingHttpHeaders,
  identity: AdminIdentity,
): Refusal | null {
  if (method !== 'POST') {
    return {
      status: 405,
      reason: `this route changes the balancer: POST only, not ${method ?? '?'}`,
      headers: { Allow: 'POST' },
    };
  }
  if (!isOwnAuthority(headers.host ?? '', identity)) {
    return { status: 403, reason: `Host "${headers.host ?? ''}" is not this admin listener's address` };
  }
  const origin = headers.origin;
  if (origin !== undefined && !isOwnAuthority(authorityOf(origin), identity)) {
    return { status: 403, reason: `a page from ${origin} may not change the balancer` };
  }
  if (identity.token !== null && !tokenMatches(headers.authorization, identity.token)) {
    return {
      status: 401,
      reason: 'a valid Authorization: Bearer <token> is required',
      headers: { 'WWW-Authenticate': 'Bearer' },
    };
  }
  const type = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    return {
      status: 415,
      reason: `Content-Type must be application/json, not "${headers['content-type'] ?? ''}"`,
    };
  }
  return null;
}

/** `http://127.0.0.1:44445` -> `127.0.0.1:44445`; anything that is not an http(s) origin -> ''. */
function authorityOf(origin: string): string {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return '';
    return url.host.toLowerCase();
  } catch {
    return '';
  }
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1] ?? '';
  // Hashes of equal length, so the comparison takes the same time whatever was sent.
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(token).digest();
  return crypto.timingSafeEqual(a, b) && given.length > 0;
}
