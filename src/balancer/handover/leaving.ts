/**
 * The leaving side of a handover: PM2 is stopping this primary (a stop, restart or reload: PM2
 * does not say which) and starts the next one once it has exited. So a holder outside PM2's tree
 * takes a copy of the listening sockets first; the next primary takes them from it, and if nobody
 * comes within HANDOVER_WAIT_MS, the holder lets them go.
 *
 * When PM2 waits for this process alone (`treekill: false`, as the fleet's ecosystem sets), the
 * workers serve on after it has gone, as the old generation, until the next primary's are ready
 * (nginx's old workers, HAProxy's old process): the primary then leaves at once, and no request
 * waits for a restart. When PM2 waits for the whole tree, the workers drain first, as on a stop.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import { HOLDER_ENV, pm2LogFiles } from '../../config/process-input.js';
import { errorMessage } from '../../errors.js';
import type { Logger, LogFormat, LogLevel } from '../../logger.js';
import { currentPm2Home, currentPm2Id, currentPm2Restarts } from '../../supervisor/config.js';
import type { HolderOrders } from './holder.js';
import { HANDOVER_WAIT_MS, SERVE_ON_MS, type HandedListener } from './message.js';

/** What was handed on: nothing (a plain stop follows), the sockets, or the sockets and the workers. */
export type HandedOn = 'nothing' | 'sockets' | 'sockets-and-workers';

/** How long a holder may take to say it holds the sockets before the primary stops as usual. */
const HOLDER_START_MS = 3000;
/** How long a leaving primary waits for its workers to have heard that they serve on. */
const SERVE_ON_TOLD_MS = 1000;

export interface LeavingPrimary {
  /** The rendezvous path for this listening address. */
  rendezvous: string;
  /** Each listener and its descriptor, the public one first. */
  listeners: { listener: HandedListener; fd: number }[];
  /** The shared zone's descriptor, and each member's slot in it. */
  zone: { fd: number; slots: Record<string, number> };
  /** The workers that serve on (none when PM2 waits for the whole tree). */
  servingOn: { pid: number; tell: (ms: number, heard: () => void) => boolean }[];
  holderExec: string;
  /** keepalived's track file of a front (front-door.ts): the holder gives the address away after a stop. */
  trackFile: string | null;
  env: Record<string, string | undefined>;
  name: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  logger: Logger;
}

export async function leaveToNext(leaving: LeavingPrimary): Promise<HandedOn> {
  const { logger, servingOn } = leaving;
  const pm2Id = currentPm2Id();
  const orders: HolderOrders = {
    path: leaving.rendezvous,
    handover: {
      from: process.pid,
      listeners: leaving.listeners.map((l) => l.listener),
      workers: servingOn.map((w) => w.pid),
      zone: true,
      slots: leaving.zone.slots,
    },
    daemonPid: process.ppid,
    pm2: pm2Id === null ? null : { home: currentPm2Home(), id: pm2Id, restarts: currentPm2Restarts() },
    waitMs: HANDOVER_WAIT_MS,
    trackFile: leaving.trackFile,
    name: leaving.name,
    logLevel: leaving.logLevel,
    logFormat: leaving.logFormat,
  };
  const fds = [...leaving.listeners.map((l) => l.fd), leaving.zone.fd];
  if (!(await startHolder(leaving, orders, fds))) return 'nothing';
  if (servingOn.length === 0) {
    logger.info(
      `SIGINT from PM2: the listening sockets wait in a holder for the next balancer (at most ${HANDOVER_WAIT_MS}ms); new connections queue there meanwhile`,
      { event: 'handover' },
    );
    return 'sockets';
  }
  await Promise.all(servingOn.map((w) => tellToServeOn(w.tell)));
  logger.info(
    `SIGINT from PM2: leaving the listening sockets to a holder and ${servingOn.length} workers serving on them until the next balancer's are ready (at most ${SERVE_ON_MS}ms)`,
    { event: 'handover', workers: orders.handover.workers },
  );
  return 'sockets-and-workers';
}

/** Resolves once the worker has the message (or could not get it: it then drains on its own). */
function tellToServeOn(tell: LeavingPrimary['servingOn'][number]['tell']): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, SERVE_ON_TOLD_MS);
    const heard = (): void => {
      clearTimeout(timer);
      resolve();
    };
    if (!tell(SERVE_ON_MS, heard)) heard();
  });
}

function startHolder(leaving: LeavingPrimary, orders: HolderOrders, fds: number[]): Promise<boolean> {
  const { logger } = leaving;
  // PM2 reads this process's output through pipes it drops when the process exits: the holder,
  // which outlives it, appends to PM2's log files itself.
  const files = pm2LogFiles();
  const out = files === null ? [] : [fs.openSync(files.out, 'a'), fs.openSync(files.err, 'a')];
  const stdio: StdioOptions = ['ignore', out[0] ?? 'inherit', out[1] ?? 'inherit', 'ipc', ...fds];
  return new Promise((resolve) => {
    const holder = spawn(process.execPath, [leaving.holderExec], {
      // Its own session: not part of the tree PM2 signals, and it outlives this process.
      detached: true,
      stdio,
      env: { ...leaving.env, [HOLDER_ENV]: JSON.stringify(orders) },
    });
    const done = (ok: boolean, why?: string): void => {
      clearTimeout(timer);
      holder.removeAllListeners();
      if (!ok) {
        logger.warn(`the holder did not start (${why ?? '?'}); stopping without a handover`, {
          event: 'handover-failed',
        });
        holder.kill('SIGKILL');
      }
      if (holder.connected) holder.disconnect();
      holder.unref();
      for (const fd of out) fs.closeSync(fd);
      resolve(ok);
    };
    const timer = setTimeout(() => done(false, `no word within ${HOLDER_START_MS}ms`), HOLDER_START_MS);
    holder.once('message', () => done(true));
    holder.once('error', (err) => done(false, errorMessage(err)));
    holder.once('exit', (code) => done(false, `it exited with code ${code ?? '?'}`));
  });
}
