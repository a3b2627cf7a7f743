/**
 * `npm run reload`: a rolling reload of the running fleet, one app at a time, each back before the
 * next, the balancer last through its zero-downtime reload. `npm run reload:balancer`: that last
 * step alone (SIGHUP to the balancer's primary). Never starts a daemon.
 *
 *   node dist/src/fleet/cli-reload.js [--balancer] [--port-offset N] [--pm2-home DIR]   (--help lists all)
 */
import { loadConfigOrExit } from '../config/load.js';
import { processEnv } from '../config/process-input.js';
import { errorMessage } from '../errors.js';
import { createProcessLogger } from '../logger.js';
import { withPm2 } from '../supervisor/pm2-client.js';
import { reloadSpecs } from './config.js';
import { loadFleetApps } from './ecosystem.js';
import { reloadBalancer, reloadFleet } from './rolling-reload.js';

const config = loadConfigOrExit(
  'npm run reload: reload the fleet under PM2 without losing a request',
  reloadSpecs,
);
const logger = createProcessLogger('reload', config);

try {
  const apps = loadFleetApps(processEnv(), config.portOffset);
  await withPm2({ pm2Home: config.pm2Home, launchDaemon: false }, async (pm2) => {
    const options = { pm2, apps, logger, timeoutMs: config.timeoutMs };
    if (config.balancerOnly) await reloadBalancer(options);
    else await reloadFleet(options);
  });
  await logger.close();
} catch (err) {
  logger.error(`reload failed: ${errorMessage(err)}`, { event: 'reload-failed' });
  await logger.close();
  process.exit(1);
}
