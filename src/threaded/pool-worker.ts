/**
 * Runs inside each piscina worker thread: the shared request-handling core with a blocking file
 * store. A small file's bytes are transferred to the main thread (moved, not copied).
 */
import { workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { answerRoute, createCoreContext, type CoreResponse } from '../http/core.js';
import type { PoolTask, PoolWorkerData } from './pool-task.js';
import { SyncFileStore } from './sync-file-store.js';

const data = workerData as PoolWorkerData;
const ctx = createCoreContext({
  name: data.name,
  files: new SyncFileStore({ realRoot: data.realRoot, maxReadBytes: data.maxReadBytes }),
  // Shutdown is the main thread's business; it answers /healthz itself.
  isDraining: () => false,
});

export default async function runTask(task: PoolTask): Promise<unknown> {
  const response = await answerRoute(task.route, task.req, ctx);
  return withTransfer(response);
}

function withTransfer(response: CoreResponse): unknown {
  const { body } = response;
  // Only a buffer that owns its whole memory may be moved (pooled Buffers share theirs).
  if (body instanceof Uint8Array && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength) {
    return move({ [transferableSymbol]: [body.buffer], [valueSymbol]: response });
  }
  return response;
}
