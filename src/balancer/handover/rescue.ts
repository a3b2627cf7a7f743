/**
 * A handover nobody planned: the primary died (`kill -9`, a crash) while its workers serve. They
 * keep serving on the listening sockets and the zone they hold, and one of them, elected in the
 * zone, becomes the holder for the primary PM2 starts next: it offers the sockets and the zone at
 * the rendezvous exactly as a leaving primary's holder does, and once the taker is ready, drains
 * the old generation, itself last. So a primary's crash refuses no connection and loses no
 * operator's decision. Outside PM2 nobody would come: the workers drain instead (worker.ts).
 */
import os from 'node:os';
import type { BalancerConfig } from '../config.js';
import type { WorkerSlot } from '../../config/process-input.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { currentPm2Home, currentPm2Id, currentPm2Restarts } from '../../supervisor/config.js';
import { isPidAlive } from '../../supervisor/pm2-client.js';
import type { Zone } from '../zone.js';
import { Holder } from './holder.js';
import { HANDOVER_WAIT_MS, handoverPath, type HandedListener } from './message.js';

export interface Orphan {
  config: BalancerConfig;
  slot: WorkerSlot;
  zone: Zone;
  /** The pool's slots by upstream id, as the workers know them. */
  slots: Record<string, number>;
  /** The primary that died. */
  primary: number;
  logger: Logger;
}

/**
 * Hold the sockets and the zone for the next primary, if this worker wins the election; resolves
 * once that primary is ready (true) or none came (false); null when another worker holds them.
 */
export function rescueIfElected(orphan: Orphan): Promise<boolean> | null {
  const { config, slot, zone, logger } = orphan;
  const rendezvous = handoverPath(os.tmpdir(), process.getuid?.() ?? 0, config.host, config.port);
  if (rendezvous === null || !zone.electRescuer(process.pid)) return null;
  const listeners: HandedListener[] = [{ role: 'public', port: config.port }];
  const fds = [slot.publicFd];
  if (slot.redirectFd !== null && config.httpRedirectPort !== null) {
    listeners.push({ role: 'redirect', port: config.httpRedirectPort });
    fds.push(slot.redirectFd);
  }
  fds.push(slot.zoneFd);
  // Every process still counting in the zone is of the old generation: they drain once the next serves.
  const workers = zone
    .rows()
    .map((r) => r.pid)
    .filter((pid) => pid !== orphan.primary && isPidAlive(pid));
  const pm2Id = currentPm2Id();
  const holder = new Holder(
    {
      path: rendezvous,
      handover: { from: orphan.primary, listeners, workers, zone: true, slots: orphan.slots },
      daemonPid: 0,
      pm2: pm2Id === null ? null : { home: currentPm2Home(), id: pm2Id, restarts: currentPm2Restarts() },
      waitMs: HANDOVER_WAIT_MS,
      name: config.name,
      logLevel: config.logLevel,
      logFormat: config.logFormat,
    },
    logger,
    fds,
  );
  logger.warn(
    `the primary (pid ${orphan.primary}) is gone unasked: serving on, and holding the sockets and the zone for the next one`,
    { event: 'handover-rescue', primary: orphan.primary, workers },
  );
  return holder
    .open()
    .then(() => holder.hold())
    .catch((err: unknown) => {
      logger.error(`could not hold the sockets for the next primary: ${errorMessage(err)}`, {
        event: 'handover-failed',
      });
      return false;
    });
}
