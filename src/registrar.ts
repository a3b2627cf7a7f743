/**
 * The registrar: a small PM2 app on each host that writes the host's PM2 pool (the apps with
 * LB_POOL) into etcd, where the balancers' etcd discovery reads it. This file only wires the config,
 * the logger and the signals to src/registrar/registrar.ts.
 */
import { createEtcdClient } from './balancer/discovery/etcd-client.js';
import { createPm2Discovery } from './balancer/discovery/pm2-source.js';
import { loadConfigOrExit } from './config/load.js';
import { errorMessage } from './errors.js';
import { createProcessLogger } from './logger.js';
import { registrarSpecs, toRegistrarConfig } from './registrar/config.js';
import { Registrar } from './registrar/registrar.js';

const config = toRegistrarConfig(
  loadConfigOrExit("registrar: writes this host's PM2 pool into etcd", registrarSpecs),
);
const logger = createProcessLogger(config.name, config);

const registrar = new Registrar({
  client: createEtcdClient(config.etcd),
  source: createPm2Discovery({
    pool: config.pool,
    host: config.address,
    reconcileMs: config.reconcileMs,
    logger,
  }),
  prefix: config.etcd.prefix,
  pool: config.pool,
  hostName: config.hostName,
  leaseTtlS: config.leaseTtlS,
  logger,
});

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal}: unregistering and stopping`);
  void registrar
    .stop()
    .catch((err: unknown) => logger.warn(`stop: ${errorMessage(err)}`))
    .finally(() => void logger.close().finally(() => process.exit(0)));
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

try {
  await registrar.start();
  logger.info(
    `registrar for host ${config.hostName} (${config.address}): pool ${config.pool} into ` +
      `${config.etcd.prefix}/pools/${config.pool}/${config.hostName}/ on ${config.etcd.endpoints.join(',')}, ` +
      `lease ${config.leaseTtlS}s`,
    { event: 'ready' },
  );
  process.send?.('ready');
} catch (err) {
  logger.error(`could not start: ${errorMessage(err)}`, { event: 'start-failed' });
  await logger.close();
  process.exit(1);
}
