/**
 * The event-loop file server (the assignment's async server): one process per port, the shared
 * request-handling core run directly on the event loop, small files served from memory.
 *
 *   node dist/src/backend.js --port 9002        (--help lists every option)
 */
import fs from 'node:fs';
import { loadConfigOrExit } from './config/load.js';
import { backendSpecs, toServerConfig, validateServer } from './http/server-config.js';
import { createProcessLogger } from './logger.js';
import { CachedFileStore } from './http/cached-file-store.js';
import { answerRoute, createCoreContext } from './http/core.js';
import type { Lifecycle } from './http/graceful-shutdown.js';
import { runFileServer } from './http/run-file-server.js';

const config = toServerConfig(
  'backend',
  loadConfigOrExit('backend: event-loop static file server', backendSpecs, validateServer),
);
const logger = createProcessLogger(config.name, config);

const lifecycle: Lifecycle = { draining: false };
const files = new CachedFileStore({
  realRoot: fs.realpathSync(config.root),
  maxCachedBytes: config.cacheMaxFileBytes,
  validMs: config.cacheValidMs,
});
const ctx = createCoreContext({ name: config.name, files, isDraining: () => lifecycle.draining });

await runFileServer({
  config,
  logger,
  lifecycle,
  dispatch: (route, req) => answerRoute(route, req, ctx),
  description: `backend serving ${config.root}`,
});
