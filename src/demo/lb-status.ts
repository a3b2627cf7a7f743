/**
 * Reads the balancer's `GET /__lb/status` into the demo's view of each upstream. Pure and strict
 * about what it needs (a list of upstreams with names), lenient about the rest.
 */
import type { UpstreamView } from './types.js';

type Loose = Record<string, unknown>;

const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);

/** States in which the balancer sends an upstream requests, when it does not say so outright. */
const ROTATION_STATES = new Set(['healthy', 'up']);

function toUpstream(raw: unknown): UpstreamView | null {
  if (!isObject(raw)) return null;
  const name = typeof raw.name === 'string' ? raw.name : typeof raw.id === 'string' ? raw.id : null;
  if (name === null) return null;
  const state = typeof raw.state === 'string' ? raw.state : 'unknown';
  const explicit = [raw.inRotation, raw.available].find((v) => typeof v === 'boolean');
  const pm2 = isObject(raw.pm2) ? raw.pm2 : null;
  return {
    name,
    inRotation: typeof explicit === 'boolean' ? explicit : ROTATION_STATES.has(state),
    state,
    pm2Status: typeof pm2?.status === 'string' ? pm2.status : null,
    served: typeof raw.served === 'number' ? raw.served : null,
  };
}

export interface LbStatus {
  /** Whether the balancer retries failed attempts elsewhere; null when it does not say. */
  retries: boolean | null;
  upstreams: UpstreamView[];
}

/** A status document; throws when it has no list of upstreams. */
export function parseLbStatus(body: unknown): LbStatus {
  const list = isObject(body) ? body.upstreams : undefined;
  if (!Array.isArray(list)) throw new Error('the status has no "upstreams" list');
  const balancer = isObject(body) && isObject(body.balancer) ? body.balancer : {};
  return {
    retries: typeof balancer.retries === 'boolean' ? balancer.retries : null,
    upstreams: list.map(toUpstream).filter((u): u is UpstreamView => u !== null),
  };
}

/**
 * The upstreams that should be in rotation and are not: every one listed, and every `expected`
 * name even when the status no longer lists it (PM2 discovery drops a stopped app), less `excluded`.
 */
export function notInRotation(
  upstreams: readonly UpstreamView[],
  expected: Iterable<string>,
  excluded: ReadonlySet<string> = new Set(),
): string[] {
  const missing = new Set<string>();
  for (const u of upstreams) if (!u.inRotation) missing.add(u.name);
  const listed = new Set(upstreams.map((u) => u.name));
  for (const name of expected) if (!listed.has(name)) missing.add(name);
  for (const name of excluded) missing.delete(name);
  return [...missing].sort();
}
