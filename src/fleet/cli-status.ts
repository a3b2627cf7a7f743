/**
 * `npm run status`: the fleet's apps in PM2 (its namespace alone; `pm2 ls` lists every project's).
 * Never starts a daemon: with none running, it says so.
 *
 *   node dist/src/fleet/cli-status.js [--pm2-home DIR]   (--help lists all)
 */
import { FLEET_NAMESPACE } from '../config/common.js';
import { loadConfigOrExit } from '../config/load.js';
import { statusSpecs } from './config.js';
import { SupervisorError, errorMessage } from '../errors.js';
import { createProcessLogger } from '../logger.js';
import { withPm2 } from '../supervisor/pm2-client.js';
import { formatStatusTable } from './status-table.js';

const config = loadConfigOrExit('npm run status: the fleet under PM2', statusSpecs);
const logger = createProcessLogger('status', config);

try {
  const apps = await withPm2({ pm2Home: config.pm2Home, launchDaemon: false }, (pm2) => pm2.list());
  process.stdout.write(formatStatusTable(FLEET_NAMESPACE, apps));
} catch (err) {
  if (err instanceof SupervisorError && err.code === 'ERR_PM2_DAEMON_DOWN') {
    process.stdout.write(`No PM2 daemon runs in ${config.pm2Home}: the fleet is not running.\n`);
  } else {
    logger.error(errorMessage(err), { event: 'status-failed' });
    process.exitCode = 1;
  }
}
await logger.close();
