/**
 * The zone a cluster shares, as its primary holds it: the one handed over with the sockets (the
 * old generation still counts in it), or a new one; and the sweep that clears the rows of
 * processes that are gone (a killed worker, an old generation, the last primary), so their
 * requests stop counting as in flight.
 */
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { isPidAlive } from '../../supervisor/pm2-client.js';
import { createSharedMemory, mapSharedMemory } from './shared-memory.js';
import { Zone, ZONE_BYTES } from '../zone.js';

/** The zone, and its descriptor (which the workers inherit and a handover carries). */
export interface SharedZone {
  fd: number;
  zone: Zone;
}

/** The handed-over zone, or a new one (none came, or it is not one this version reads). */
export function openSharedZone(handed: number | null, logger: Logger): SharedZone {
  if (handed !== null) {
    try {
      return { fd: handed, zone: new Zone(mapSharedMemory(handed), false) };
    } catch (err) {
      logger.warn(`the handed-over zone cannot be used, starting a new one: ${errorMessage(err)}`, {
        event: 'zone-new',
      });
    }
  }
  const fd = createSharedMemory(ZONE_BYTES);
  return { fd, zone: new Zone(mapSharedMemory(fd), true) };
}

/** Clear every row whose process is gone, except `keep` (rows of workers not started yet). */
export function sweepRows(zone: Zone, keep: ReadonlySet<number>): void {
  for (const { row, pid } of zone.rows()) {
    if (!keep.has(row) && pid !== process.pid && !isPidAlive(pid)) zone.releaseRow(row);
  }
}
