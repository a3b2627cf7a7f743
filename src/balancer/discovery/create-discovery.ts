/**
 * Pick the discovery source the config asks for. The PM2 source is imported only when it is
 * chosen, so a balancer with a static pool never loads pm2 (a large module with a daemon client);
 * the etcd source likewise, with its gRPC client.
 */
import { InternalError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { createStaticDiscovery } from './static-source.js';
import type { DiscoveryKind, DiscoverySource, UpstreamSpec } from './types.js';

export interface DiscoveryConfig {
  kind: DiscoveryKind;
  upstreams: readonly UpstreamSpec[];
  /** PM2: apps whose env has LB_POOL=<pool>. */
  pool: string;
  /** PM2: host the members listen on. */
  host: string;
  reconcileMs: number;
  /** Needed for kind etcd. */
  etcd?: { endpoints: readonly string[]; prefix: string; callTimeoutMs: number; keepaliveMs: number };
}

export async function createDiscovery(config: DiscoveryConfig, logger: Logger): Promise<DiscoverySource> {
  if (config.kind === 'static') return createStaticDiscovery(config.upstreams);
  if (config.kind === 'etcd') {
    if (config.etcd === undefined)
      throw new InternalError('ERR_DISCOVERY', 'etcd discovery needs its endpoints');
    const { createEtcdDiscovery } = await import('./etcd-source.js');
    return createEtcdDiscovery({ ...config.etcd, pool: config.pool, logger });
  }
  const { createPm2Discovery } = await import('./pm2-source.js');
  return createPm2Discovery({
    pool: config.pool,
    host: config.host,
    reconcileMs: config.reconcileMs,
    logger,
  });
}
