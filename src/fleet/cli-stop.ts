/**
 * `npm stop`: stop the fleet and remove its apps from PM2 (its namespace alone; other projects'
 * apps in the same daemon stay). Never starts a daemon: with none running, or no app of the fleet
 * in it, there is nothing to stop, which is not an error (`npm start` is idempotent, so is this).
 *
 *   node dist/src/fleet/cli-stop.js [--pm2-home DIR]   (--help lists all)
 */
import { FLEET_NAMESPACE } from '../config/common.js';
import { loadConfigOrExit } from '../config/load.js';
import { stopSpecs } from './config.js';
import { SupervisorError, errorMessage } from '../errors.js';
import { createProcessLogger } from '../logger.js';
import { withPm2 } from '../supervisor/pm2-client.js';

const config = loadConfigOrExit('npm stop: stop the fleet and remove it from PM2', stopSpecs);
const logger = createProcessLogger('stop', config);
const say = (line: string) => process.stdout.write(`${line}\n`);

try {
  const options = { pm2Home: config.pm2Home, launchDaemon: false, timeoutMs: config.timeoutMs };
  const stopped = await withPm2(options, async (pm2) => {
    const names = (await pm2.list())
      .filter((app) => app.namespace === FLEET_NAMESPACE)
      .map((app) => app.name);
    // PM2 resolves a namespace to its apps and stops each (SIGINT, its kill_timeout) before removing it.
    if (names.length > 0) await pm2.delete(FLEET_NAMESPACE);
    return names;
  });
  if (stopped.length === 0) say(`npm stop: nothing to stop (no app of ${FLEET_NAMESPACE} in PM2)`);
  else say(`npm stop: stopped and removed ${stopped.length} apps: ${stopped.join(', ')}`);
} catch (err) {
  if (err instanceof SupervisorError && err.code === 'ERR_PM2_DAEMON_DOWN') {
    say(`npm stop: nothing to stop (no PM2 daemon runs in ${config.pm2Home})`);
  } else {
    logger.error(errorMessage(err), { event: 'stop-failed' });
    process.exitCode = 1;
  }
}
await logger.close();
