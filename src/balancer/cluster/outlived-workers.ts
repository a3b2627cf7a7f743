/**
 * Workers a primary left behind when PM2 restarted it: they serve on the handed-over sockets until
 * the next primary's workers are ready (or until the holder knows none will come), then drain on
 * SIGTERM. Only a process that is still a balancer worker gets the signal: a pid from the handoff
 * may belong to someone else by the time it is read.
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

/** SIGTERM each outlived worker that is still one, and say which were told, and why. */
export function drainOutlived(pids: readonly number[], why: string, logger: Logger): void {
  const told = pids.filter((pid) => isBalancerWorker(pid) && signalPid(pid, 'SIGTERM'));
  if (pids.length > 0) {
    logger.info(
      `the last balancer's workers drain now (${why}): ${told.length > 0 ? `pids ${told.join(', ')}` : 'none was still serving'}`,
      { event: 'outlived-drain', pids: told },
    );
  }
}
