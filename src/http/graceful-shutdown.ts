/**
 * A file server's life under a supervisor (PM2): announce readiness after listen, and on SIGINT or
 * SIGTERM drain: /healthz turns 503, the listener closes, idle keep-alive sockets close at once,
 * in-flight requests finish (answered with `Connection: close`), and whatever is still open after
 * the grace period is cut. Then the caller's cleanup runs and the process exits 0. Nothing a client
 * or a proxy holds open can keep the process alive past the grace period.
 */
import type { Server } from 'node:http';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { httpUrl } from '../net/address.js';
import { listenRetrying } from '../net/listen.js';
import { announceStopping } from './stopping-notice.js';

/** Shared, mutable: the request path reads `draining` to answer 503 and close connections. */
export interface Lifecycle {
  draining: boolean;
}

/**
 * Listen (retrying while the port is taken: src/net/listen.ts), log `{event: 'listening', port,
 * host}` and tell a supervisor we are ready.
 */
export async function listen(
  server: Server,
  port: number,
  host: string,
  logger: Logger,
  what: string,
): Promise<number> {
  const actual = await listenRetrying(server, port, host, { logger, what: what.split(' ')[0] ?? what });
  logger.info(`${what} listening on ${httpUrl(host, actual)}`, {
    event: 'listening',
    port: actual,
    host,
  });
  process.send?.('ready');
  return actual;
}

/** What draining needs of a listener; node:http's Server has it, the balancer's TLS listener too. */
export interface DrainableServer {
  close(callback?: (err?: Error) => void): unknown;
  closeIdleConnections(): void;
  closeAllConnections(): void;
}

/**
 * Connections that left HTTP (WebSockets, the balancer's tunnels): node:http no longer tracks
 * them, yet the listener's close waits for them, so the owner closes them itself.
 */
export interface UpgradedConnections {
  /** Draining began: close them (at once, or spread out) within `graceMs`. */
  drain(graceMs: number): void;
  /** The grace period is over: cut whatever is left. */
  closeAll(): void;
}

export interface ShutdownOptions {
  server: DrainableServer;
  upgraded?: UpgradedConnections;
  lifecycle: Lifecycle;
  graceMs: number;
  /**
   * Keep accepting this long after the signal (healthz already 503, every response
   * `Connection: close`), so a balancer takes us out of rotation before the port closes. Part of
   * `graceMs`, not added to it.
   */
  drainDelayMs?: number;
  logger: Logger;
  /** Runs after the last connection closed (close a thread pool, flush something). */
  cleanup?: (() => Promise<void>) | undefined;
}

/** Exit with an error if draining itself hangs (a bug): a supervisor must never wait forever. */
const BACKSTOP_MS = 3000;

export function installGracefulShutdown(options: ShutdownOptions): void {
  const { server, lifecycle, graceMs, logger } = options;
  let stopping = false;

  const finish = async (): Promise<void> => {
    try {
      await options.cleanup?.();
    } catch (err) {
      logger.error(`cleanup failed: ${errorMessage(err)}`, { event: 'shutdown-error' });
    }
    logger.info('stopped', { event: 'stopped' });
    await logger.close();
    process.exit(0);
  };

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn(`${signal} again: closing every connection now`, { event: 'force-close', signal });
      server.closeAllConnections();
      options.upgraded?.closeAll();
      return;
    }
    stopping = true;
    lifecycle.draining = true;
    // Tell PM2's bus first: the balancer's discovery takes us out of rotation on this notice.
    announceStopping(signal);
    logger.info(`${signal}: shutting down, in-flight requests have ${graceMs}ms to finish`, {
      event: 'shutdown',
      signal,
      graceMs,
    });
    const closeListener = (): void => {
      server.close(() => void finish());
      server.closeIdleConnections();
      options.upgraded?.drain(Math.max(0, graceMs - drainDelayMs));
    };
    const drainDelayMs = Math.min(options.drainDelayMs ?? 0, graceMs);
    if (drainDelayMs > 0) setTimeout(closeListener, drainDelayMs).unref();
    else closeListener();
    setTimeout(() => {
      logger.warn(`grace period of ${graceMs}ms is over: closing the remaining connections`, {
        event: 'force-close',
      });
      server.closeAllConnections();
      options.upgraded?.closeAll();
    }, graceMs).unref();
    setTimeout(() => {
      logger.error('shutdown did not finish; exiting anyway', { event: 'shutdown-error' });
      process.exit(1);
    }, graceMs + BACKSTOP_MS).unref();
  };

  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
