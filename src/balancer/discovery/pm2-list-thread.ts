/**
 * `pm2 list` on a worker thread (pm2-list-worker.ts), for PM2 discovery's reconcile: the main
 * thread only receives the slim records. If the worker cannot run, the list is read on the main
 * thread as before (`fallback`), so discovery never stops over it.
 */
import { Worker } from 'node:worker_threads';
import { SupervisorError } from '../../errors.js';
import type { Pm2App } from '../../supervisor/pm2-app.js';

export interface ListWorkerData {
  pm2Home: string;
  timeoutMs: number;
}
export type ListRequest = { type: 'list'; id: number } | { type: 'close' };
export type ListReply = { id: number; apps: Pm2App[] } | { id: number; error: string };

interface Pending {
  resolve: (apps: Pm2App[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class Pm2ListThread {
  private worker: Worker | null;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly data: ListWorkerData,
    private readonly fallback: () => Promise<Pm2App[]>,
  ) {
    // Run from the TypeScript source (tests under tsx), a worker could not load the .ts worker
    // file (tsx's loader does not reach worker threads), so the list is read here instead.
    this.worker = import.meta.url.endsWith('.ts') ? null : this.startWorker(data);
  }

  private startWorker(data: ListWorkerData): Worker | null {
    try {
      const worker = new Worker(new URL('./pm2-list-worker.js', import.meta.url), { workerData: data });
      worker.unref();
      worker.on('message', (reply: ListReply) => this.settle(reply));
      worker.on('error', () => this.abandon());
      worker.on('exit', () => this.abandon());
      return worker;
    } catch {
      return null;
    }
  }

  list(): Promise<Pm2App[]> {
    const worker = this.worker;
    if (worker === null) return this.fallback();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new SupervisorError(
            'ERR_PM2_TIMEOUT',
            `pm2 list gave no answer in ${this.data.timeoutMs + 1000}ms`,
          ),
        );
      }, this.data.timeoutMs + 1000);
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ type: 'list', id } satisfies ListRequest);
    });
  }

  close(): void {
    const worker = this.worker;
    this.worker = null;
    worker?.postMessage({ type: 'close' } satisfies ListRequest);
    setTimeout(() => void worker?.terminate(), 1000).unref();
  }

  private settle(reply: ListReply): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    clearTimeout(pending.timer);
    if ('apps' in reply) pending.resolve(reply.apps);
    else pending.reject(new SupervisorError('ERR_PM2_LIST', reply.error));
  }

  /** The worker is gone (or never started): waiting calls and later ones use the fallback. */
  private abandon(): void {
    this.worker = null;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      this.fallback().then(p.resolve, p.reject);
    }
  }
}
