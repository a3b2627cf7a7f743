/**
 * What the demo's balancer and fleet actions wait for, read from the balancer's status: a reload
 * counted, a killed worker replaced, a restarted backend back in rotation in its new process. Pure:
 * each takes readings and says what is still missing (null when nothing is), so a wait can name it.
 */
import type { BalancerWorker, LbStatus } from './lb-status.js';

const serving = (workers: readonly BalancerWorker[]): BalancerWorker[] =>
  workers.filter((w) => w.state !== 'draining');

/** The worker a `kill:balancer-worker` takes: the lowest id among the newest generation's ready ones. */
export function workerToKill(workers: readonly BalancerWorker[]): BalancerWorker | null {
  const ready = workers.filter((w) => w.state === 'ready');
  const newest = Math.max(...ready.map((w) => w.generation));
  return ready.filter((w) => w.generation === newest).sort((a, b) => a.id - b.id)[0] ?? null;
}

/** After a reload was asked for: the count went up and every serving worker is ready. */
export function reloadPending(reloadsBefore: number, now: LbStatus): string | null {
  if (now.reloads <= reloadsBefore) return `the reload count is still ${now.reloads}`;
  const starting = serving(now.workers).filter((w) => w.state !== 'ready');
  return starting.length === 0 ? null : `${starting.length} new workers not ready yet`;
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

/**
 * After PM2 restarted a backend: the balancer lists it in rotation, in its new process (a status
 * still showing the old pid is the old process's last reading).
 */
export function rotationPending(app: string, pid: number | null, now: LbStatus): string | null {
  const upstream = now.upstreams.find((u) => u.name === app);
  if (upstream === undefined) return `${app} is not in the balancer's pool`;
  if (pid !== null && now.pids[app] !== pid)
    return `${app} is listed with pid ${now.pids[app] ?? '-'}, not ${pid}`;
  return upstream.inRotation ? null : `${app} is not in rotation`;
}

/** The backends a rolling reload takes, one at a time, in name order: the balancer's pool. */
export function rollingOrder(status: LbStatus): string[] {
  return status.upstreams.map((u) => u.name).sort();
}
