/**
 * The socket holder: a small process that keeps a stopped primary's listening sockets open until
 * the next primary comes for them (a PM2 restart starts it only after the old one has exited), and
 * hands them over on a unix socket. Connections that arrive meanwhile wait in the kernel's accept
 * queue, and the next primary's workers accept them: none is refused. When no primary comes in
 * time (`pm2 stop`) or the PM2 daemon is gone (`pm2 kill`), it lets the sockets go.
 *
 * It blocks in poll(2) between short checks: it has nothing else to do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../../errors.js';
import type { LogFormat, Logger, LogLevel } from '../../logger.js';
import { acceptUnix, closeFd, listenUnix, sendFds } from '../../net/fd-passing.js';
import { encodeHandoff, type Handoff } from './handoff.js';

export interface HolderOrders {
  /** Where the next primary asks for the sockets. */
  path: string;
  handoff: Handoff;
  /** The PM2 daemon that will start the next primary; when it is gone nobody will. */
  daemonPid: number;
  waitMs: number;
  /** The balancer's name and logging, so its lines read like the primary's. */
  name: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** Where the primary puts the sockets in the holder's descriptor table (after stdio and IPC). */
export const FIRST_HANDED_FD = 4;

/** How often the holder looks up from waiting to see whether the daemon is still there. */
const CHECK_MS = 100;
/** A primary still draining after this long is not coming back; PM2 kills it sooner. */
const MAX_DRAIN_MS = 30_000;

export function parseOrders(text: string | undefined): HolderOrders {
  const orders = JSON.parse(text ?? 'null') as HolderOrders | null;
  if (orders === null || typeof orders.path !== 'string' || !Number.isInteger(orders.waitMs)) {
    throw new Error('the socket holder is started by the balancer primary, with its orders in LB_HOLDER');
  }
  return orders;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Bind the rendezvous: from here on the next primary can connect. */
export function openRendezvous(orders: HolderOrders): number {
  fs.mkdirSync(path.dirname(orders.path), { recursive: true, mode: 0o700 });
  return listenUnix(orders.path);
}

/** Wait for the next primary and hand it the sockets; true when one took them. */
export function holdUntilTaken(orders: HolderOrders, rendezvous: number, logger: Logger): boolean {
  const fds = orders.handoff.listeners.map((_, i) => FIRST_HANDED_FD + i);
  // The wait starts once the old primary has gone (its workers drain first, within its grace).
  const started = Date.now();
  let deadline = Infinity;
  let why = `no balancer came for them within ${orders.waitMs}ms`;
  let handed = false;
  while (!handed && Date.now() < deadline) {
    if (deadline === Infinity && (!alive(orders.handoff.from) || Date.now() - started > MAX_DRAIN_MS))
      deadline = Date.now() + orders.waitMs;
    if (orders.daemonPid > 0 && !alive(orders.daemonPid)) {
      why = 'the PM2 daemon is gone, so no balancer will come for them';
      break;
    }
    const conn = acceptUnix(rendezvous, CHECK_MS);
    if (conn === null) continue;
    try {
      sendFds(conn, fds, encodeHandoff(orders.handoff));
      handed = true;
    } catch (err) {
      logger.warn(`a balancer asked for the sockets but the handover failed: ${errorMessage(err)}`, {
        event: 'handoff-failed',
      });
    } finally {
      closeFd(conn);
    }
  }
  closeFd(rendezvous);
  fs.rmSync(orders.path, { force: true });
  if (handed) {
    logger.info(`handed ${fds.length} listening sockets to the next balancer`, { event: 'handoff-done' });
    return true;
  }
  logger.info(`letting the listening sockets go: ${why}`, { event: 'handoff-abandoned' });
  return false;
}
