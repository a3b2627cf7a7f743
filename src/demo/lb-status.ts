/**
 * The demo's view of the balancer's `GET /__lb/status`: each upstream's name, whether it is in
 * rotation, its state, PM2's status of its process and its served count. The document itself is
 * checked by the balancer's own reader (src/balancer/status-reader.ts).
 */
import { readBalancerStatus } from '../balancer/status-reader.js';
import type { UpstreamStatus } from '../balancer/status.js';
import type { UpstreamView } from './types.js';

function toUpstream(u: UpstreamStatus): UpstreamView {
  return {
    name: u.name,
    inRotation: u.available,
    state: u.state,
    pm2Status: u.pm2?.status ?? null,
    served: u.served,
  };
}

export interface LbStatus {
  /** Whether the balancer retries failed attempts elsewhere. */
  retries: boolean;
  upstreams: UpstreamView[];
}

/** A status document; throws, naming the field, when it is not what the balancer writes. */
export function parseLbStatus(body: unknown): LbStatus {
  const status = readBalancerStatus(body);
  return { retries: status.balancer.retries, upstreams: status.upstreams.map(toUpstream) };
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
