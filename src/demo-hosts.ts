/**
 * `npm run demo:hosts`: three hosts in network namespaces, found by the balancer through etcd, and
 * a schedule of host faults (a pulled link, etcd members stopped and killed, a new host, added
 * latency) under a steady load. Exit 0 only when no request failed, every fault happened and every
 * change reached the pool; 1 otherwise; 2 on bad options. See src/demo/run-hosts-demo.ts.
 */
import { loadConfigOrExit } from './config/load.js';
import { createProcessLogger } from './logger.js';
import { hostsDemoOptions, toHostsDemoConfig, validateHostsDemo } from './demo/hosts-config.js';
import { runHostsDemo } from './demo/run-hosts-demo.js';
import { exitWithDemo } from './demo/demo-exit.js';

const config = toHostsDemoConfig(
  loadConfigOrExit('npm run demo:hosts -- [options]', hostsDemoOptions, validateHostsDemo),
);
const logger = createProcessLogger('demo-hosts', config);

await exitWithDemo(
  logger,
  async (print, signal) => (await runHostsDemo(config, logger, print, signal)).passed,
);
