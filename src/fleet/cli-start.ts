/**
 * `npm start`: start whatever part of the fleet is not running under PM2 (running it twice is
 * harmless), wait until every app is online and healthy, and print the URLs to open.
 *
 *   node dist/src/fleet/cli-start.js [--port-offset N] [--timeout 60s]   (--help lists all)
 */
import { loadConfigOrExit } from '../config/load.js';
import { startSpecs, validateStart } from './config.js';
import { errorMessage } from '../errors.js';
import { createProcessLogger } from '../logger.js';
import { ensureFleet } from './fleet.js';
import { formatStartSummary } from './start-summary.js';

const config = loadConfigOrExit('npm start: run the fleet under PM2', startSpecs, validateStart);
const logger = createProcessLogger('start', config);

try {
  const fleet = await ensureFleet({
    portOffset: config.portOffset,
    logger,
    pm2Home: config.pm2Home,
    timeoutMs: config.timeoutMs,
  });
  process.stdout.write(
    `\n${formatStartSummary({
      apps: fleet.apps,
      started: [...fleet.startedByUs, ...fleet.restartedByUs],
      publicHost: config.publicHost,
      pm2Home: fleet.pm2Home,
      portOffset: config.portOffset,
    })}`,
  );
  await logger.close();
} catch (err) {
  logger.error(errorMessage(err), { event: 'start-failed' });
  await logger.close();
  process.exit(1);
}
