/**
 * The thread-pool server's dispatch: which requests go to a worker thread, and what a full queue
 * answers. Files and /work run in the pool (blocking file reads, CPU). /healthz, POST counts and
 * refusals need neither disk nor CPU and are answered on the main thread by the same core, so a
 * saturated pool never makes the process look dead to a health checker.
 */
import type { Piscina } from 'piscina';
import { answerRoute, errorResponse, type CoreContext, type CoreResponse } from '../http/core.js';
import type { Dispatch } from '../http/server-shell.js';
import type { Route } from '../http/route.js';
import type { PoolTask } from './pool-task.js';

export function runsInPool(route: Route): boolean {
  return route.kind === 'file' || route.kind === 'work';
}

export interface PoolDispatchOptions {
  pool: Piscina<PoolTask, CoreResponse>;
  maxQueue: number;
  /** Context for what the main thread answers itself; its file store is never used. */
  mainContext: CoreContext;
}

/** Seconds a client is told to wait when the queue is full. */
const RETRY_AFTER_S = 1;

export function createPoolDispatch({ pool, maxQueue, mainContext }: PoolDispatchOptions): Dispatch {
  const busy = (): CoreResponse =>
    errorResponse(503, `all threads are busy and ${maxQueue} requests are waiting`, mainContext.name, {
      'Retry-After': String(RETRY_AFTER_S),
    });
  return (route, req) => {
    if (!runsInPool(route)) return answerRoute(route, req, mainContext);
    if (pool.queueSize >= maxQueue) return busy();
    return pool.run({ route, req }).catch((err: unknown) => {
      // Piscina enforces the same bound itself; losing that race is still just "busy".
      if (err instanceof Error && /queue is at limit/i.test(err.message)) return busy();
      throw err;
    });
  };
}
