/**
 * What the two file servers' entry points share once each has built its dispatch: the node:http
 * shell with its metrics, the graceful shutdown, listening (after any warm-up) and the exit when
 * it cannot. Each entry point only says how a request is answered.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { BackendMetrics } from '../metrics/backend-metrics.js';
import { installGracefulShutdown, listen, type Lifecycle } from './graceful-shutdown.js';
import type { ServerConfig } from './server-config.js';
import { createServerShell, type Dispatch } from './server-shell.js';
import { attachWsEcho } from './ws-echo.js';

export interface FileServerParts {
  config: ServerConfig;
  logger: Logger;
  lifecycle: Lifecycle;
  dispatch: Dispatch;
  /** Words for the listening line after "listening on URL". */
  description: string;
  /** Work to finish before listening, so `ready` means ready (the thread pool starts its threads). */
  warmUp?: () => Promise<unknown>;
  /** Runs once connections have closed at shutdown, and when start-up fails. */
  cleanup?: () => Promise<void>;
}

export async function runFileServer(parts: FileServerParts): Promise<void> {
  const { config, logger, lifecycle, cleanup } = parts;
  const server = createServerShell({
    config,
    logger,
    lifecycle,
    dispatch: parts.dispatch,
    // Scrapes are answered on the main thread: a full thread pool must not hide the server's numbers.
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
    cleanup,
  });
  let step = 'start';
  try {
    await parts.warmUp?.();
    step = `listen on ${config.host}:${config.port}`;
    await listen(server, config.port, config.host, logger, parts.description);
  } catch (err) {
    logger.error(`cannot ${step}: ${errorMessage(err)}`, { event: 'listen-error' });
    await cleanup?.();
    await logger.close();
    process.exit(1);
  }
}
