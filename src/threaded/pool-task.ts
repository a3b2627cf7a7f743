/** What the main thread posts to a pool worker, and what the worker is started with. */
import type { CoreRequest } from '../http/core.js';
import type { Route } from '../http/route.js';

export interface PoolTask {
  route: Route;
  req: CoreRequest;
}

export interface PoolWorkerData {
  name: string;
  realRoot: string;
  maxReadBytes: number;
}
