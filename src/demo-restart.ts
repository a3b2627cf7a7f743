/**
 * `npm run demo:restart`: restart, SIGKILL, stop and start backends through PM2 in the middle of a
 * steady load through the balancer, and show that no request fails. Exit 0 only when none did and
 * every action happened; 1 otherwise; 2 on bad options. See src/demo/run-demo.ts.
 */
import { demoOptions, toDemoConfig, validateDemo } from './demo/config.js';
import { loadConfigOrExit } from './config/load.js';
import { errorMessage } from './errors.js';
import { createProcessLogger } from './logger.js';
import { runDemo } from './demo/run-demo.js';

const config = toDemoConfig(loadConfigOrExit('npm run demo:restart -- [options]', demoOptions, validateDemo));
const logger = createProcessLogger('demo', config);

// Ctrl-C stops the load but still reports and puts back what the demo changed; a second one kills.
const interrupted = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => interrupted.abort());
}

let code = 1;
try {
  const { summary } = await runDemo(
    config,
    logger,
    (line) => process.stdout.write(`${line}\n`),
    interrupted.signal,
  );
  code = summary.passed ? 0 : 1;
} catch (err) {
  logger.error(`the demo could not run: ${errorMessage(err)}`);
}
await logger.close();
// loadtest and PM2 may keep timers and sockets; the demo is over, so leave now.
process.exit(code);
