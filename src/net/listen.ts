/** Listening as a promise: resolves with the port actually bound (the one asked for, or a free one for 0). */
import type { Server } from 'node:net';
import type { Logger } from '../logger.js';

/**
 * The accept queue asked of the kernel (which caps it at net.core.somaxconn, 4096 by default
 * since Linux 5.4). node's 511 overflowed when 3,000 clients connected at once: the kernel
 * dropped their handshakes' last step, and the connections were accepted a second or three late
 * (their timeouts starting late with them) or never, while each client thought it was connected.
 */
export const LISTEN_BACKLOG = 4096;

export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** TIME_WAIT lasts 60 s on Linux; a little longer covers a process still draining. */
export const LISTEN_RETRY_MS = 75_000;
export const LISTEN_RETRY_INTERVAL_MS = 1000;

export interface ListenRetryOptions {
  logger: Logger;
  /** Names the listener on the retry lines ("balancer", "admin"). */
  what: string;
  retryForMs?: number;
  intervalMs?: number;
}

/**
 * Listen, and when the port is taken (EADDRINUSE) try again for a bounded time, with a log line
 * each try, as nginx retries `bind()` before giving up. A port can be held for up to a minute
 * after a benchmark, or by a process that is still exiting; a listener that gave up at once would
 * crash-loop under PM2 until PM2 stops restarting it (about 11 s of backoff) and the fleet would
 * stay down. Retrying keeps the process alive, so it comes up as soon as the port frees.
 */
export async function listenRetrying(
  server: Server,
  port: number,
  host: string,
  options: ListenRetryOptions,
): Promise<number> {
  const retryForMs = options.retryForMs ?? LISTEN_RETRY_MS;
  const intervalMs = options.intervalMs ?? LISTEN_RETRY_INTERVAL_MS;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await listenOn(server, port, host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const waited = Date.now() - started;
      if (code !== 'EADDRINUSE' || port === 0 || waited + intervalMs > retryForMs) throw err;
      options.logger.warn(
        `${options.what}: ${host}:${port} is in use (try ${attempt}); trying again in ${intervalMs}ms, ` +
          `for up to ${Math.round((retryForMs - waited) / 1000)}s more`,
        { event: 'listen-retry', port, host, attempt, listener: options.what },
      );
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/** Listening on a socket that is already bound and listening (inherited or handed over). */
export function listenOnFd(server: Server, fd: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}
