/**
 * The load balancer: a health-checked round-robin reverse proxy in front of the backends
 * (port 44444, status on 127.0.0.1:44445). This file only wires the config, the logger and the
 * signals to the parts in src/balancer/: with `--workers 1` one process does everything; with
 * more, this process is the cluster's primary and its children are the request-path workers, unless
 * the native addons a cluster needs do not load: then one process serves, and says why.
 */
import { fileURLToPath } from 'node:url';
import { balancerSpecs, resolveDiscovery, validateBalancer, type BalancerConfig } from './balancer/config.js';
import { readBalancerSettings } from './balancer/config-source.js';
import { ClusterPrimary } from './balancer/cluster/primary.js';
import { runWorker } from './balancer/cluster/worker.js';
import { loadConfigOrExit, orExit } from './config/load.js';
import { processInput, runningUnderPm2, workerSlot } from './config/process-input.js';
import { errorMessage } from './errors.js';
import { loadTlsCredentials, type TlsCredentials } from './balancer/tls-credentials.js';
import { loadAdminToken } from './balancer/admin-token.js';
import { installGracefulShutdown } from './http/graceful-shutdown.js';
import { createProcessLogger, type Logger } from './logger.js';
import { LoadBalancer } from './balancer/load-balancer.js';
import { attachDashboard } from './dashboard/attach.js';
import { addonsProblem } from './balancer/native-addons.js';

const TITLE = 'balancer: health-checked round-robin load balancer';
// Flags and the environment first (--help, exit 2), then the env file they may name.
loadConfigOrExit(TITLE, balancerSpecs, validateBalancer);
const settings = orExit(TITLE, () => readBalancerSettings(processInput()));
const { config } = settings;

/** The certificate and key, checked before anything listens; a bad pair is a config error. */
function tlsOf(c: BalancerConfig): TlsCredentials | undefined {
  return c.tls === null ? undefined : loadTlsCredentials(c.tls);
}
const tls = orExit('balancer', () => tlsOf(config));
const adminToken = orExit('balancer', () => loadAdminToken(config.adminTokenFile));
const discoveryKind = resolveDiscovery(config.discovery, runningUnderPm2());

/** What `step` gives, or a logged reason and exit 1 (PM2 restarts the app). */
async function orExitAsync<T>(logger: Logger, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    logger.error(`could not start: ${errorMessage(err)}`, { event: 'start-failed' });
    await logger.close();
    process.exit(1);
  }
}

async function startOrExit(logger: Logger, start: () => Promise<unknown>): Promise<void> {
  await orExitAsync(logger, start);
  process.send?.('ready');
}

const slot = workerSlot();
// A cluster needs the native addons (the workers' shared zone, the handover's descriptors). Without
// them the balancer still serves, as one process, rather than leave the site down over a build step.
const nativeProblem = slot === null && config.workers > 1 ? addonsProblem() : null;
if (slot !== null) {
  const logger = createProcessLogger(`${config.name}#${slot.id}`, config);
  try {
    await runWorker(config, slot, logger, tls);
  } catch (err) {
    logger.error(`worker could not start: ${errorMessage(err)}`, { event: 'start-failed' });
    await logger.close();
    process.exit(1);
  }
} else if (config.workers > 1 && nativeProblem === null) {
  const logger = createProcessLogger(config.name, config);
  // The sockets and the zone come first: from the last primary's handover, or new.
  const primary = await orExitAsync(logger, () =>
    ClusterPrimary.create({
      settings,
      discoveryKind,
      logger,
      adminToken,
      exec: fileURLToPath(import.meta.url),
      args: [...processInput().argv],
      holderExec: fileURLToPath(new URL('./balancer-holder.js', import.meta.url)),
      reread: () => {
        const next = readBalancerSettings(processInput());
        tlsOf(next.config); // a certificate that does not load refuses the reload
        return next;
      },
    }),
  );
  attachDashboard(primary, logger);
  const exitAfter = (going: Promise<void>): void => {
    void going.then(async () => {
      logger.info('stopped', { event: 'stopped' });
      await logger.close();
      process.exit(0);
    });
  };
  const stop = (signal: NodeJS.Signals): void => exitAfter(primary.stop(signal));
  // PM2 stops, restarts and reloads with SIGINT alike: the handover leaves a copy of the sockets
  // to a holder for the next primary, and the workers either serve on (then this process leaves at
  // once) or drain first. Anywhere else SIGINT is a plain stop.
  const handOverOrStop = async (): Promise<void> => {
    const handed = runningUnderPm2() ? await primary.handOver() : 'nothing';
    if (handed === 'sockets-and-workers') exitAfter(primary.leave());
    else stop('SIGINT');
  };
  process.on('SIGINT', () => void handOverOrStop());
  process.on('SIGTERM', stop);
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading', { event: 'reload-asked' });
    void primary.reload();
  });
  await startOrExit(logger, () => primary.start());
} else {
  const logger = createProcessLogger(config.name, config);
  const singleProcessReason =
    nativeProblem === null
      ? null
      : `--workers ${config.workers} needs the native addons, which did not load: ${nativeProblem}`;
  if (singleProcessReason !== null) {
    logger.warn(
      `${singleProcessReason}; serving as one process (as --workers 1), without zero-downtime reloads`,
      {
        event: 'single-process',
        workersAsked: config.workers,
      },
    );
  }
  const balancer = new LoadBalancer({
    config: singleProcessReason === null ? config : { ...config, workers: 1 },
    discoveryKind,
    logger,
    adminToken,
    singleProcessReason,
    ...(tls === undefined ? {} : { tls }),
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
  // One process has no second to serve while it reloads: a reload needs --workers 2 or more.
  process.on('SIGHUP', () =>
    logger.warn('SIGHUP: a reload needs --workers 2 or more; this balancer runs in one process', {
      event: 'reload-refused',
    }),
  );
  await startOrExit(logger, () => balancer.start());
}
