/**
 * Operators change a running balancer (HAProxy's runtime API `set server <b>/<s> state
 * ready|drain|maint` and `set weight`; Caddy's and nginx Plus's APIs), on the admin listener:
 *
 *   POST /__lb/upstreams/<name>/drain       no new requests or tunnels; what is in flight finishes
 *   POST /__lb/upstreams/<name>/maint       out at once, no health checks, kept across PM2 restarts
 *   POST /__lb/upstreams/<name>/ready       back (in rotation when its health allows)
 *   POST /__lb/upstreams/<name>/weight/<n>  0 to 256 (0: no new requests)
 *
 * Each answers that upstream's status. The path is parsed here (pure); the guard (admin-guard.ts)
 * has already said who may ask.
 */
import type { AdminDecision } from './pool.js';
import { ADMIN_STATES, MAX_WEIGHT, type AdminState } from './zone.js';

export const UPSTREAMS_PATH = '/__lb/upstreams/';

export type ControlRequest =
  | { ok: true; name: string; decision: AdminDecision; words: string }
  | { ok: false; status: 400 | 404; reason: string };

/** `/__lb/upstreams/backend-9003/weight/3` -> the upstream's name and the decision asked for. */
export function parseControlPath(path: string): ControlRequest {
  const parts = path.slice(UPSTREAMS_PATH.length).split('/');
  const [rawName = '', action = '', value, ...rest] = parts;
  let name: string;
  try {
    name = decodeURIComponent(rawName);
  } catch {
    return { ok: false, status: 400, reason: `"${rawName}" is not a well-formed upstream name` };
  }
  if (name === '' || action === '') {
    return { ok: false, status: 404, reason: `use ${UPSTREAMS_PATH}<name>/(drain|maint|ready|weight/<n>)` };
  }
  if (action === 'weight') {
    if (value === undefined || rest.length > 0 || !/^\d{1,3}$/.test(value) || Number(value) > MAX_WEIGHT) {
      return {
        ok: false,
        status: 400,
        reason: `the weight must be a whole number from 0 to ${MAX_WEIGHT}, not "${value ?? ''}"`,
      };
    }
    return { ok: true, name, decision: { weight: Number(value) }, words: `weight ${value}` };
  }
  if (!ADMIN_STATES.includes(action as AdminState) || value !== undefined) {
    return {
      ok: false,
      status: 400,
      reason: `"${[action, value, ...rest].filter((p) => p !== undefined).join('/')}" is not a state: use drain, maint, ready or weight/<n>`,
    };
  }
  return { ok: true, name, decision: { admin: action as AdminState }, words: action };
}
