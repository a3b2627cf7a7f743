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
import { InternalError } from './errors.js';
import { createProcessLogger } from './logger.js';
import { createCoreContext, type CoreResponse } from './http/core.js';
import type { Lifecycle } from './http/graceful-shutdown.js';
import { runFileServer } from './http/run-file-server.js';
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

/** Start every thread and load the core in it before saying we are ready. */
function startThreads(): Promise<unknown> {
  return Promise.all(
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
}

await runFileServer({
  config,
  logger,
  lifecycle,
  dispatch: createPoolDispatch({ pool, maxQueue: config.maxQueue, mainContext }),
  description: `threaded serving ${config.root} with ${config.threads} threads (queue ${config.maxQueue})`,
  warmUp: startThreads,
  cleanup: () => pool.destroy(),
});
