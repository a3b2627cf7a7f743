/**
 * A balancer in this process, as the tests and the multi-host bench run it: configured from a
 * command line as a user would write one, on ports the system picks, and stopped whole (listener,
 * open connections, discovery, health checks) when the caller is done with it.
 */
import type { Logger } from '../logger.js';
import { buildBalancerConfig } from './config.js';
import type { DiscoveryKind, DiscoverySource } from './discovery/types.js';
import { LoadBalancer } from './load-balancer.js';

export interface InProcessBalancer {
  lb: LoadBalancer;
  port: number;
  adminPort: number;
  /** Close the listener at once (open connections too) and the control plane behind it. */
  stop: () => Promise<void>;
}

export async function startInProcessBalancer(options: {
  /** Every option but the ports (both are 0: the ones bound are returned). */
  args: readonly string[];
  discoveryKind: DiscoveryKind;
  logger: Logger;
  /** A source the caller drives, instead of the one the options name. */
  discovery?: DiscoverySource;
}): Promise<InProcessBalancer> {
  const config = buildBalancerConfig({
    argv: ['--port', '0', '--admin-port', '0', ...options.args],
    env: {},
  });
  const lb = new LoadBalancer({
    config,
    discoveryKind: options.discoveryKind,
    logger: options.logger,
    ...(options.discovery === undefined ? {} : { discovery: options.discovery }),
  });
  const { port, adminPort } = await lb.start();
  return {
    lb,
    port,
    adminPort,
    stop: async () => {
      await new Promise<void>((resolve) => {
        lb.server.close(() => resolve());
        lb.server.closeAllConnections();
      });
      await lb.close();
    },
  };
}
