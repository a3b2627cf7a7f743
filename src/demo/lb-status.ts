/**
 * The demo's view of the balancer's `GET /__lb/status`: each upstream's name, whether it is in
 * rotation, its state, PM2's status of its process and its served count; the balancer's reload
 * count and its workers. The document itself is checked by the balancer's own reader
 * (src/balancer/status-reader.ts); the worker fields the demo acts on are checked here.
 */
import { InternalError } from '../errors.js';
import { readBalancerStatus } from '../balancer/status-reader.js';
import type { UpstreamStatus, WorkerStatus } from '../balancer/status.js';
import type { UpstreamView } from './types.js';

/** One of the balancer's request-path workers, as the demo needs it. */
export type BalancerWorker = Pick<WorkerStatus, 'id' | 'pid' | 'generation' | 'state'>;

const WORKER_STATES: ReadonlySet<string> = new Set<WorkerStatus['state']>(['starting', 'ready', 'draining']);

function toUpstream(u: UpstreamStatus): UpstreamView {
  return {
    name: u.name,
    inRotation: u.available,
    state: u.state,
    pm2Status: u.pm2?.status ?? null,
    served: u.served,
  };
}

export interface LbStatus {
  /** Whether the balancer retries failed attempts elsewhere. */
  retries: boolean;
  upstreams: UpstreamView[];
  /** Zero-downtime reloads done since the balancer started. */
  reloads: number;
  workers: BalancerWorker[];
}

function shapeError(where: string, wanted: string): InternalError {
  return new InternalError('ERR_STATUS_SHAPE', `balancer status: ${where} is not ${wanted}`);
}

function toWorker(raw: unknown, i: number): BalancerWorker {
  const w = raw as Partial<Record<keyof BalancerWorker, unknown>> | null;
  if (typeof w !== 'object' || w === null) throw shapeError(`workers[${i}]`, 'an object');
  for (const key of ['id', 'pid', 'generation'] as const) {
    if (typeof w[key] !== 'number') throw shapeError(`workers[${i}].${key}`, 'a number');
  }
  if (typeof w.state !== 'string' || !WORKER_STATES.has(w.state)) {
    throw shapeError(`workers[${i}].state`, 'one of starting, ready, draining');
  }
  return {
    id: w.id as number,
    pid: w.pid as number,
    generation: w.generation as number,
    state: w.state as BalancerWorker['state'],
  };
}

/** A status document; throws, naming the field, when it is not what the balancer writes. */
export function parseLbStatus(body: unknown): LbStatus {
  const status = readBalancerStatus(body);
  const reloads: unknown = status.balancer.reloads;
  if (typeof reloads !== 'number') throw shapeError('balancer.reloads', 'a number');
  const workers: unknown = status.workers;
  if (!Array.isArray(workers)) throw shapeError('workers', 'a list');
  return {
    retries: status.balancer.retries,
    upstreams: status.upstreams.map(toUpstream),
    reloads,
    workers: workers.map(toWorker),
  };
}

/**
 * The upstreams that should be in rotation and are not: every one listed, and every `expected`
 * name even when the status no longer lists it (PM2 discovery drops a stopped app), less `excluded`.
 */
export function notInRotation(
  upstreams: readonly UpstreamView[],
  expected: Iterable<string>,
  excluded: ReadonlySet<string> = new Set(),
): string[] {
  const missing = new Set<string>();
  for (const u of upstreams) if (!u.inRotation) missing.add(u.name);
  const listed = new Set(upstreams.map((u) => u.name));
  for (const name of expected) if (!listed.has(name)) missing.add(name);
  for (const name of excluded) missing.delete(name);
  return [...missing].sort();
}
