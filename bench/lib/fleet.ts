/**
 * Makes sure the PM2 fleet runs, through the supervisor module, and stops afterwards only what it
 * started. The supervisor's `ensureFleet` is loaded when needed (runs against explicit
 * --target-url servers never touch PM2 at all).
 */
import { SupervisorError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';

export interface FleetHandle {
  /** PM2 app names this run started (and will stop). */
  startedByUs: string[];
  stop(): Promise<void>;
}

type EnsureFleet = (options: {
  portOffset: number;
  logger: Logger;
  pm2Home?: string;
}) => Promise<FleetHandle>;

export async function ensureFleetRunning(portOffset: number, logger: Logger): Promise<FleetHandle> {
  // A variable specifier: resolved at run time next to this file (dist/src/supervisor/fleet.js).
  const specifier = '../../src/supervisor/fleet.js';
  let ensureFleet: EnsureFleet | undefined;
  try {
    ({ ensureFleet } = (await import(specifier)) as { ensureFleet?: EnsureFleet });
  } catch (err) {
    throw new SupervisorError(
      'ERR_FLEET_MODULE',
      'the supervisor module (src/supervisor/fleet.ts) could not be loaded',
      {
        cause: err,
      },
    );
  }
  if (typeof ensureFleet !== 'function') {
    throw new SupervisorError('ERR_FLEET_MODULE', 'src/supervisor/fleet.ts does not export ensureFleet');
  }
  return ensureFleet({ portOffset, logger });
}
