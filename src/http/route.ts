/**
 * What a request asks for, from its method and target alone. Pure, no I/O: the answer for every
 * refusal (status, reason, `Allow`) is decided here, so both servers refuse the same things the
 * same way before any file or thread is touched.
 */
import { resolveRequestPath } from './safe-path.js';

export type Route =
  | { kind: 'health' }
  | { kind: 'work'; ms: number }
  | { kind: 'file'; relPath: string }
  | { kind: 'post' }
  | { kind: 'error'; status: number; reason: string; allow?: string };

export interface RouteOptions {
  /** Largest `ms` for `/work`; 0 turns the route off. */
  workCapMs: number;
}

export const ALLOWED_METHODS = 'GET, HEAD, POST';

const HEALTH: Route = { kind: 'health' };
const POST: Route = { kind: 'post' };

export function routeRequest(
  method: string | undefined,
  url: string | undefined,
  options: RouteOptions,
): Route {
  if (method === 'POST') return POST;
  if (method !== 'GET' && method !== 'HEAD') {
    return {
      kind: 'error',
      status: 405,
      reason: `method ${method ?? '(none)'} is not allowed`,
      allow: ALLOWED_METHODS,
    };
  }
  const target = url ?? '';
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  if (rawPath === '/healthz') return HEALTH;
  if (rawPath === '/work') return workRoute(q < 0 ? '' : target.slice(q + 1), options.workCapMs);
  const resolved = resolveRequestPath(rawPath);
  if (!resolved.ok) return { kind: 'error', status: resolved.status, reason: resolved.reason };
  return { kind: 'file', relPath: resolved.relPath };
}

function workRoute(query: string, capMs: number): Route {
  if (capMs === 0) return { kind: 'error', status: 404, reason: '/work is turned off (--work-cap-ms 0)' };
  const raw = new URLSearchParams(query).get('ms');
  if (raw === null || !/^\d{1,9}$/.test(raw)) {
    return { kind: 'error', status: 400, reason: '/work needs ms=N, a whole number of milliseconds' };
  }
  const ms = Number(raw);
  if (ms < 1 || ms > capMs) {
    return { kind: 'error', status: 400, reason: `/work ms must be from 1 to ${capMs} (--work-cap-ms)` };
  }
  return { kind: 'work', ms };
}
