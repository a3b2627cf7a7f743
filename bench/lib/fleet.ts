/**
 * Makes sure the PM2 fleet runs, through the supervisor module, and stops afterwards only what
 * this run started (the supervisor's Fleet.stop() undoes exactly what ensureFleet did). Apps this
 * run starts get the given log level: per-request access lines cost the servers throughput, so
 * the benchmark starts them with `warn` unless told otherwise. A fleet found running is measured
 * as it is.
 */
import { ensureFleet } from '../../src/supervisor/fleet.js';
import type { LogLevel, Logger } from '../../src/logger.js';

export interface FleetHandle {
  /** PM2 app names this run started or restarted (and will stop again). */
  startedByUs: string[];
  stop(): Promise<void>;
}

export async function ensureFleetRunning(
  portOffset: number,
  logger: Logger,
  options: { logLevel: LogLevel; timeoutMs: number },
): Promise<FleetHandle> {
  const fleet = await ensureFleet({
    portOffset,
    logger,
    env: { LOG_LEVEL: options.logLevel },
    timeoutMs: options.timeoutMs,
  });
  return { startedByUs: [...fleet.startedByUs, ...fleet.restartedByUs], stop: () => fleet.stop() };
}
