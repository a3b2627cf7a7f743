/**
 * Makes sure the PM2 fleet runs, through the supervisor module, and stops afterwards only what
 * this run started (the supervisor's Fleet.stop() undoes exactly what ensureFleet did). Apps this
 * run starts get the given log level: per-request access lines cost the servers throughput, so
 * the benchmark starts them with `warn` unless told otherwise. A fleet found running is measured
 * as it is.
 */
import type { FleetPorts } from './bench-config.js';
import { processEnv } from '../../src/config/process-input.js';
import { errorMessage } from '../../src/errors.js';
import { loadFleetApps } from '../../src/fleet/ecosystem.js';
import { ensureFleet } from '../../src/fleet/fleet.js';
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

/**
 * Where the fleet's async, threaded and balancer apps listen, read from ecosystem.config.cjs (so
 * PORT_OFFSET and the file's own port variables mean the same here as for PM2). Falls back to the
 * default ports, with a warning, when the file cannot be read.
 */
export function fleetTargetPorts(portOffset: number, logger: Logger): FleetPorts {
  try {
    const ports: FleetPorts = {};
    for (const app of loadFleetApps(processEnv(), portOffset)) {
      if (app.role === 'async' || app.role === 'threaded' || app.role === 'balancer')
        ports[app.role] ??= app.port;
    }
    return ports;
  } catch (err) {
    logger.warn(
      `could not read the ecosystem file for the targets' ports (${errorMessage(err)}); using the defaults`,
    );
    return {};
  }
}
