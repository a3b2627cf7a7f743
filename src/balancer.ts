/**
 * The load balancer: a health-checked round-robin reverse proxy in front of the backends
 * (port 44444, status on 127.0.0.1:44445). This file only wires the config, the logger and the
 * signals to the parts in src/balancer/.
 */
import { balancerSpecs, resolveDiscovery, toBalancerConfig, validateBalancer } from './balancer/config.js';
import { loadConfigOrExit } from './config/load.js';
import { runningUnderPm2 } from './config/process-input.js';
import { ConfigError, errorMessage } from './errors.js';
import { loadTlsCredentials, type TlsCredentials } from './balancer/tls-credentials.js';
import { installGracefulShutdown } from './http/graceful-shutdown.js';
import { createProcessLogger } from './logger.js';
import { LoadBalancer } from './balancer/load-balancer.js';
import { attachDashboard } from './dashboard/attach.js';

const config = toBalancerConfig(
  loadConfigOrExit('balancer: health-checked round-robin load balancer', balancerSpecs, validateBalancer),
);
const logger = createProcessLogger(config.name, config);

/** The certificate and key, checked before anything listens; a bad pair is a config error (exit 2). */
function tlsOrExit(): TlsCredentials | undefined {
  if (config.tls === null) return undefined;
  try {
    return loadTlsCredentials(config.tls);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`balancer: ${err.message}\n`);
    process.exit(2);
  }
}

const balancer = new LoadBalancer({
  config,
  discoveryKind: resolveDiscovery(config.discovery, runningUnderPm2()),
  logger,
  tls: tlsOrExit(),
});
// The dashboard (GET /) and Prometheus metrics (GET /metrics) on the admin listener.
attachDashboard(balancer, logger);

installGracefulShutdown({
  server: balancer.server,
  upgraded: balancer.upgrades.tunnels,
  lifecycle: balancer.handler,
  graceMs: config.graceMs,
  logger,
  cleanup: () => balancer.close(),
});

try {
  await balancer.start();
  process.send?.('ready');
} catch (err) {
  logger.error(`could not start: ${errorMessage(err)}`, { event: 'start-failed' });
  await logger.close();
  process.exit(1);
}
