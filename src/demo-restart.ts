/**
 * `npm run demo:restart`: restart, SIGKILL, stop and start backends through PM2 in the middle of a
 * steady load through the balancer, and show that no request fails. Exit 0 only when none did and
 * every action happened; 1 otherwise; 2 on bad options. See src/demo/run-demo.ts.
 */
import { demoOptions, toDemoConfig, validateDemo } from './demo/config.js';
import { loadConfigOrExit } from './config/load.js';
import { createProcessLogger } from './logger.js';
import { runDemo } from './demo/run-demo.js';
import { exitWithDemo } from './demo/demo-exit.js';

const config = toDemoConfig(loadConfigOrExit('npm run demo:restart -- [options]', demoOptions, validateDemo));
const logger = createProcessLogger('demo', config);

await exitWithDemo(
  logger,
  async (print, signal) => (await runDemo(config, logger, print, signal)).summary.passed,
);
