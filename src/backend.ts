/**
 * The event-loop file server (the assignment's async server): one process per port, the shared
 * request-handling core run directly on the event loop, small files served from memory.
 *
 *   node dist/src/backend.js --port 9002        (--help lists every option)
 */
import fs from 'node:fs';
import { loadConfigOrExit } from './config/load.js';
import { backendSpecs, toServerConfig, validateServer } from './http/server-config.js';
import { errorMessage } from './errors.js';
import { createProcessLogger } from './logger.js';
import { CachedFileStore } from './http/cached-file-store.js';
import { answerRoute, createCoreContext } from './http/core.js';
import { installGracefulShutdown, listen, type Lifecycle } from './http/graceful-shutdown.js';
import { createServerShell } from './http/server-shell.js';
import { attachWsEcho } from './http/ws-echo.js';
import { BackendMetrics } from './metrics/backend-metrics.js';

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

const server = createServerShell({
  config,
  logger,
  lifecycle,
  dispatch: (route, req) => answerRoute(route, req, ctx),
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
});

try {
  await listen(server, config.port, config.host, logger, `backend serving ${config.root}`);
} catch (err) {
  logger.error(`cannot listen on ${config.host}:${config.port}: ${errorMessage(err)}`, {
    event: 'listen-error',
  });
  await logger.close();
  process.exit(1);
}
