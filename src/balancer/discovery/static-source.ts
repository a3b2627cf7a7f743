/**
 * The static discovery source: the pool is the `--upstreams` list, fixed for the life of the
 * process. It never sends an event; health checks alone decide who gets traffic.
 */
import type { DiscoverySource, UpstreamSpec } from './types.js';

export function createStaticDiscovery(upstreams: readonly UpstreamSpec[]): DiscoverySource {
  const members = upstreams.map((u) => ({ ...u }));
  return {
    kind: 'static',
    start: () => Promise.resolve(members.map((u) => ({ ...u }))),
    stop: () => Promise.resolve(),
  };
}
