/**
 * What the two file servers' entry points share once each has built its dispatch: the node:http
 * shell with its metrics, the graceful shutdown, listening (after any warm-up) and the exit when
 * it cannot. Each entry point only says how a request is answered.
 */
import type { Server } from 'node:http';
import { pm2Instance } from '../config/process-input.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { listenOn } from '../net/listen.js';
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
    const instance = pm2Instance();
    if (instance !== null && instance > 0) await waitForOwnPort(server, config, logger, instance);
    await listen(server, config.port, config.host, logger, parts.description);
  } catch (err) {
    logger.error(`cannot ${step}: ${errorMessage(err)}`, { event: 'listen-error' });
    await cleanup?.();
    await logger.close();
    process.exit(1);
  }
}

/**
 * `pm2 scale` of a fork-mode server starts a second process for the same port, where only one can
 * listen. Crash-looping on EADDRINUSE would help nobody, so a later instance waits, with one clear
 * line, until the port is free (the first instance was deleted, by `pm2 scale NAME 1` say), then
 * serves. The balancer counts one upstream per port and ignores the waiting process.
 */
async function waitForOwnPort(
  server: Server,
  config: ServerConfig,
  logger: Logger,
  instance: number,
): Promise<void> {
  let said = false;
  for (;;) {
    try {
      await listenOn(server, config.port, config.host);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
    if (!said) {
      said = true;
      logger.warn(
        `${config.name} is instance ${instance} of a fork-mode app and port ${config.port} is taken (by instance 0); ` +
          `one port serves one process: waiting for it to be free (npx pm2 scale ${config.name} 1 removes this one)`,
        { event: 'duplicate-instance', instance },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, PORT_RETRY_MS));
  }
}

const PORT_RETRY_MS = 1000;
