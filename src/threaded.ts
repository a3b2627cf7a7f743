/**
 * The thread-pool file server (the assignment's thread-per-connection server). Node cannot hand a
 * socket to a thread, so the main thread owns the HTTP server (accept, parse, write) and each
 * request's work (blocking file reads, building the response, /work's hashing) runs on a bounded
 * pool of worker threads, through the same request-handling core as the backend.
 *
 *   node dist/src/threaded.js --port 46000 --threads 2        (--help lists every option)
 */
import fs from 'node:fs';
import { Piscina } from 'piscina';
import { loadConfigOrExit } from './config/load.js';
import { threadedServerSpecs, toServerConfig, validateServer } from './http/server-config.js';
import { errorMessage, InternalError } from './errors.js';
import { createProcessLogger } from './logger.js';
import { createCoreContext, type CoreResponse } from './http/core.js';
import { installGracefulShutdown, listen, type Lifecycle } from './http/graceful-shutdown.js';
import { createServerShell } from './http/server-shell.js';
import { attachWsEcho } from './http/ws-echo.js';
import { BackendMetrics } from './metrics/backend-metrics.js';
import { createPoolDispatch } from './threaded/pool-dispatch.js';
import type { PoolTask, PoolWorkerData } from './threaded/pool-task.js';

const config = toServerConfig(
  'threaded',
  loadConfigOrExit('threaded: thread-pool static file server', threadedServerSpecs, validateServer),
);
const logger = createProcessLogger(config.name, config);

const workerData: PoolWorkerData = {
  name: config.name,
  realRoot: fs.realpathSync(config.root),
  maxReadBytes: config.cacheMaxFileBytes,
};
const pool = new Piscina<PoolTask, CoreResponse>({
  filename: new URL('./threaded/pool-worker.js', import.meta.url).href,
  minThreads: config.threads,
  maxThreads: config.threads,
  maxQueue: config.maxQueue,
  idleTimeout: Number.MAX_SAFE_INTEGER,
  workerData,
});

const lifecycle: Lifecycle = { draining: false };
const mainContext = createCoreContext({
  name: config.name,
  files: {
    lookup: () => {
      throw new InternalError('ERR_WRONG_THREAD', 'files are read on the pool threads, not the main thread');
    },
  },
  isDraining: () => lifecycle.draining,
});

const server = createServerShell({
  config,
  logger,
  lifecycle,
  dispatch: createPoolDispatch({ pool, maxQueue: config.maxQueue, mainContext }),
  // Scrapes are answered on the main thread: a full pool must not hide the server's own numbers.
  metrics: new BackendMetrics({ headers: { 'X-Served-By': config.name }, onError: (m) => logger.warn(m) }),
});
// WebSocket echo at /ws/echo, closed with 1001 when the server drains.
const wsEcho = attachWsEcho(server, config.name, logger);
installGracefulShutdown({
  server,
  upgraded: wsEcho,
  lifecycle,
  graceMs: config.graceMs,
  drainDelayMs: config.drainDelayMs,
  logger,
  cleanup: () => pool.destroy(),
});

try {
  // Start every thread and load the core in it before saying we are ready.
  await Promise.all(
    Array.from({ length: config.threads }, () =>
      pool.run({
        route: { kind: 'health' },
        req: {
          method: 'GET',
          url: '/healthz',
          ifNoneMatch: undefined,
          ifModifiedSince: undefined,
          bodyBytes: 0,
        },
      }),
    ),
  );
  await listen(
    server,
    config.port,
    config.host,
    logger,
    `threaded serving ${config.root} with ${config.threads} threads (queue ${config.maxQueue})`,
  );
} catch (err) {
  logger.error(`cannot start: ${errorMessage(err)}`, { event: 'listen-error' });
  await pool.destroy();
  await logger.close();
  process.exit(1);
}
