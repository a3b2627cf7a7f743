/**
 * The old generation: workers a primary left serving when PM2 restarted it. Their one owner is the
 * holder, which drains them (SIGTERM) once the next primary's workers serve, or when it knows none
 * will come; each worker also drains itself after SERVE_ON_MS, the safety net. Only a process that
 * is still a balancer worker gets the signal: a pid from the handover may belong to someone else
 * by the time it is read.
 */
import fs from 'node:fs';
import { WORKER_ENV } from '../../config/process-input.js';
import { signalPid } from '../../supervisor/pm2-client.js';
import type { Logger } from '../../logger.js';

/** True when `pid` runs a balancer worker (its environment names a worker slot). */
export function isBalancerWorker(pid: number): boolean {
  try {
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
    return environ.split('\0').some((entry) => entry.startsWith(`${WORKER_ENV.id}=`));
  } catch {
    return false; // gone, someone else's, or no /proc: not ours to signal
  }
}

/** SIGTERM each worker of the old generation that is still one, and say which were told, and why. */
export function drainOldGeneration(pids: readonly number[], why: string, logger: Logger): void {
  if (pids.length === 0) return;
  const told = pids.filter((pid) => isBalancerWorker(pid) && signalPid(pid, 'SIGTERM'));
  logger.info(
    `the last balancer's workers drain now (${why}): ${told.length > 0 ? `pids ${told.join(', ')}` : 'none was still serving'}`,
    { event: 'handover-drain', pids: told },
  );
}
