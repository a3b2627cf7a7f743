/**
 * What the demo's `kill:balancer-worker` waits for, read from the balancer's status: the killed
 * worker gone and another ready in its place (the reloads are the fleet's own). Pure:
 * each takes readings and says what is still missing (null when nothing is), so a wait can name it.
 */
import type { BalancerWorker } from './lb-status.js';

const serving = (workers: readonly BalancerWorker[]): BalancerWorker[] =>
  workers.filter((w) => w.state !== 'draining');

/** The worker a `kill:balancer-worker` takes: the lowest id among the newest generation's ready ones. */
export function workerToKill(workers: readonly BalancerWorker[]): BalancerWorker | null {
  const ready = workers.filter((w) => w.state === 'ready');
  const newest = Math.max(...ready.map((w) => w.generation));
  return ready.filter((w) => w.generation === newest).sort((a, b) => a.id - b.id)[0] ?? null;
}

/**
 * After a worker was killed: it is gone, and as many workers serve as before, all ready (the
 * primary started one in its place). Returns what is missing, or null.
 */
export function replacementPending(
  before: readonly BalancerWorker[],
  killedPid: number,
  now: readonly BalancerWorker[],
): string | null {
  if (now.some((w) => w.pid === killedPid)) return `pid ${killedPid} is still listed`;
  const want = serving(before).length;
  const ready = serving(now).filter((w) => w.state === 'ready').length;
  return ready >= want ? null : `${ready} of ${want} workers ready`;
}

/** The workers that serve now and did not before: the replacement, or a reload's new generation. */
export function newWorkers(
  before: readonly BalancerWorker[],
  now: readonly BalancerWorker[],
): BalancerWorker[] {
  const old = new Set(before.map((w) => w.pid));
  return serving(now).filter((w) => !old.has(w.pid));
}
