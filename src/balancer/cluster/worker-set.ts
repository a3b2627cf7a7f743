/**
 * A primary's workers as processes: fork one on the primary's listening sockets, start a
 * generation of them, replace one that died unasked (after a second when they keep dying), drain
 * one, and talk to each over its IPC channel. What the workers say and what the primary makes of
 * it is the primary's business: this file only keeps them alive and addressable.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { WORKER_ENV } from '../../config/process-input.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { PrimarySockets } from '../handover/descriptors.js';
import type { WorkerStatus } from '../status.js';
import type { Zone } from '../zone.js';
import { isToPrimary, type ToPrimary, type ToWorker } from './messages.js';
import { overMemoryLimit } from '../worker-limits.js';

export interface WorkerEntry {
  id: number;
  child: ChildProcess;
  pid: number;
  generation: number;
  startedAt: number;
  state: WorkerStatus['state'];
  /** Its row of in-flight counts in the zone. */
  row: number;
  /** Resolves with its port when it says ready, rejects when it exits first. */
  ready: Promise<number>;
}

export interface WorkerSetOptions {
  /** The entry script the workers run, and its arguments (PM2 may wrap the process's own argv). */
  exec: string;
  args: string[];
  logger: Logger;
  /** The environment a new worker gets (it changes on reload). */
  env: () => Record<string, string | undefined>;
  /** Everything a worker says but `ready`. */
  onMessage: (entry: WorkerEntry, message: Exclude<ToPrimary, { lb: 'ready' }>) => void;
  /** A worker exited, asked or not (its counters go with it). */
  onExit: (entry: WorkerEntry) => void;
}

/** More unplanned exits than this in a minute: replacements wait a second (a crash loop). */
const CRASHES_BEFORE_BACKOFF = 5;
/** Where a worker finds what it inherits: stdio, then the IPC channel, then these. */
const WORKER_PUBLIC_FD = 4;
const WORKER_REDIRECT_FD = 5;
const WORKER_ZONE_FD = 6;

export class WorkerSet {
  private readonly entries = new Map<number, WorkerEntry>();
  private sockets: PrimarySockets | null = null;
  private shared: { fd: number; zone: Zone } | null = null;
  private crashes: number[] = [];
  private nextId = 1;
  /** Workers being replaced for their memory, by id. */
  private readonly recycling = new Set<number>();
  private generationNow = 0;
  /** Set once the primary stops or leaves: a worker that exits is not replaced. */
  stopping = false;

  constructor(private readonly options: WorkerSetOptions) {}

  get generation(): number {
    return this.generationNow;
  }

  get size(): number {
    return this.entries.size;
  }

  all(): WorkerEntry[] {
    return [...this.entries.values()];
  }

  /** The workers not draining: those that serve now or are about to. */
  serving(): WorkerEntry[] {
    return this.all().filter((e) => e.state !== 'draining');
  }

  /** The sockets and the zone every worker inherits (the primary holds them before it forks any). */
  useSockets(sockets: PrimarySockets, shared: { fd: number; zone: Zone }): void {
    this.sockets = sockets;
    this.shared = shared;
  }

  /** `count` new workers; a generation after the first when some are running already. */
  startGeneration(count: number): WorkerEntry[] {
    if (this.entries.size > 0) this.generationNow++;
    return Array.from({ length: count }, () => this.fork(this.generationNow));
  }

  /**
   * Replace `old` the zero-downtime way, as a reload does for all: a new worker of the current
   * generation first, and `old` drains only once it listens. If the new one fails to start, `old`
   * keeps serving. Resolves with the new worker, or null when it failed.
   */
  /**
   * A ready worker above --worker-max-memory (`limitBytes`, 0 for none): a new one starts, then
   * this one drains, as on a reload. One replacement at a time per worker.
   */
  recycleIfOverMemory(entry: WorkerEntry, rssBytes: number, limitBytes: number): void {
    if (entry.state !== 'ready' || this.stopping || this.recycling.has(entry.id)) return;
    if (!overMemoryLimit(rssBytes, limitBytes, Date.now() - entry.startedAt)) return;
    const { logger } = this.options;
    this.recycling.add(entry.id);
    const mb = (n: number): string => `${Math.round(n / 1024 / 1024)}MB`;
    logger.warn(
      `worker ${entry.id} (pid ${entry.pid}) uses ${mb(rssBytes)}, above --worker-max-memory ${mb(limitBytes)}: starting another, then it drains`,
      { event: 'worker-over-memory', worker: entry.id, pid: entry.pid, rssBytes, limitBytes },
    );
    void this.replaceFirst(entry).then((next) => {
      this.recycling.delete(entry.id);
      if (next === null) {
        logger.error(`worker ${entry.id}'s replacement did not start; it keeps serving`, {
          event: 'worker-over-memory-failed',
          worker: entry.id,
        });
        return;
      }
      logger.info(`worker ${next.id} (pid ${next.pid}) took over from worker ${entry.id}, which drains`, {
        event: 'worker-memory-replaced',
        worker: next.id,
        replaced: entry.id,
      });
    });
  }

  private async replaceFirst(old: WorkerEntry): Promise<WorkerEntry | null> {
    const next = this.fork(this.generationNow);
    try {
      await next.ready;
    } catch {
      return null;
    }
    if (old.state !== 'draining') this.drain(old);
    return next;
  }

  drain(e: WorkerEntry): void {
    e.state = 'draining';
    this.send(e, { lb: 'drain' });
  }

  kill(signal: NodeJS.Signals): void {
    for (const e of this.entries.values()) e.child.kill(signal);
  }

  /** Close every IPC channel: the workers take it as their primary leaving them. */
  disconnect(): void {
    for (const e of this.entries.values()) if (e.child.connected) e.child.disconnect();
  }

  /** False when the worker cannot take it (it is exiting); `sent` runs once it is written. */
  send(entry: WorkerEntry, message: ToWorker, sent: () => void = () => undefined): boolean {
    if (!entry.child.connected) return false;
    try {
      entry.child.send(message, undefined, {}, sent);
      return true;
    } catch {
      // It is exiting; its 'exit' handler does the bookkeeping.
      return false;
    }
  }

  private fork(generation: number): WorkerEntry {
    const { sockets, shared } = this;
    if (sockets === null || shared === null) {
      throw new Error('the primary forks workers only once it holds its sockets and its zone');
    }
    const { logger } = this.options;
    const id = this.nextId++;
    // The row is claimed before the child exists (it reads it from its environment); its owner
    // becomes the child's pid as soon as there is one, so a sweep can tell a dead worker's row.
    const row = shared.zone.claimRow(process.pid);
    if (row === -1) throw new Error('every row of the zone is taken: too many workers at once');
    const child = fork(this.options.exec, this.options.args, {
      env: {
        ...this.options.env(),
        [WORKER_ENV.id]: String(id),
        [WORKER_ENV.publicFd]: String(WORKER_PUBLIC_FD),
        ...(sockets.redirect === null ? {} : { [WORKER_ENV.redirectFd]: String(WORKER_REDIRECT_FD) }),
        [WORKER_ENV.zoneFd]: String(WORKER_ZONE_FD),
        [WORKER_ENV.row]: String(row),
      },
      // The same session as the primary (PM2's tree), the same log files.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', sockets.public, sockets.redirect ?? 'ignore', shared.fd],
    });
    shared.zone.ownRow(row, child.pid ?? 0);
    let markReady: (port: number) => void = () => undefined;
    let markFailed: (err: Error) => void = () => undefined;
    const ready = new Promise<number>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    // Rejections are awaited by whoever waits for this worker; an unwatched one must not crash us.
    ready.catch(() => undefined);
    const entry: WorkerEntry = {
      id,
      child,
      pid: child.pid ?? 0,
      generation,
      startedAt: Date.now(),
      state: 'starting',
      row,
      ready,
    };
    this.entries.set(id, entry);
    // A send to a worker that is exiting fails later, as an 'error' event (EPIPE): its 'exit'
    // handler does the bookkeeping, so the error is only noted.
    child.on('error', (err) =>
      logger.debug(`worker ${id}: ${errorMessage(err)}`, { event: 'worker-ipc-error' }),
    );
    child.on('message', (message: unknown) => {
      if (!isToPrimary(message)) return;
      if (message.lb !== 'ready') {
        this.options.onMessage(entry, message);
        return;
      }
      if (entry.state === 'starting') entry.state = 'ready';
      logger.debug(`worker ${id} (pid ${entry.pid}) ready`, {
        event: 'worker-ready',
        worker: id,
        pid: entry.pid,
        generation,
      });
      markReady(message.port);
    });
    child.on('exit', (code, signal) => {
      this.entries.delete(id);
      shared.zone.releaseRow(row);
      this.options.onExit(entry);
      markFailed(new Error(`worker ${id} exited (${signal ?? `code ${code}`}) before it listened`));
      if (entry.state === 'draining' || this.stopping) {
        logger.debug(`worker ${id} drained and exited`, { event: 'worker-exit', worker: id });
        return;
      }
      this.replace(entry, code, signal);
    });
    return entry;
  }

  /** A worker died unasked: start another at once (after a second when they keep dying). */
  private replace(entry: WorkerEntry, code: number | null, signal: string | null): void {
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < 60_000), now];
    const backoff = this.crashes.length > CRASHES_BEFORE_BACKOFF ? 1000 : 0;
    this.options.logger.warn(
      `worker ${entry.id} (pid ${entry.pid}) exited (${signal ?? `code ${code}`}); starting another${backoff > 0 ? ` in ${backoff}ms` : ''}`,
      { event: 'worker-replaced', worker: entry.id, code, signal },
    );
    const restart = (): void => {
      if (!this.stopping) this.fork(this.generationNow);
    };
    if (backoff > 0) setTimeout(restart, backoff).unref();
    else restart();
  }
}
