/**
 * Pick the discovery source the config asks for. The PM2 source is imported only when it is
 * chosen, so a balancer with a static pool never loads pm2 (a large module with a daemon client).
 */
import type { Logger } from '../../logger.js';
import { createStaticDiscovery } from './static-source.js';
import type { DiscoverySource, UpstreamSpec } from './types.js';

export interface DiscoveryConfig {
  kind: 'static' | 'pm2';
  upstreams: readonly UpstreamSpec[];
  /** PM2: apps whose env has LB_POOL=<pool>. */
  pool: string;
  /** PM2: host the members listen on. */
  host: string;
  reconcileMs: number;
}

export async function createDiscovery(config: DiscoveryConfig, logger: Logger): Promise<DiscoverySource> {
  if (config.kind === 'static') return createStaticDiscovery(config.upstreams);
  const { createPm2Discovery } = await import('./pm2-source.js');
  return createPm2Discovery({
    pool: config.pool,
    host: config.host,
    reconcileMs: config.reconcileMs,
    logger,
  });
}
