/**
 * The socket holder: a small process that keeps a stopped primary's listening sockets open until
 * the next primary comes for them (a PM2 restart starts it only after the old one has exited), and
 * hands them over on a unix socket. Connections that arrive meanwhile wait in the kernel's accept
 * queue, and the next primary's workers accept them: none is refused. It lets the sockets go when
 * PM2 says the app is stopped or deleted (`pm2 stop`, `npm stop`), when the PM2 daemon is gone
 * (`pm2 kill`), or when no primary came in time; then the old primary's workers, if they serve on
 * after it, drain too.
 *
 * It waits in poll(2) for short turns, and asks PM2 in between: it has nothing else to do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../../errors.js';
import { isPidAlive as alive, Pm2Client } from '../../supervisor/pm2-client.js';
import type { LogFormat, Logger, LogLevel } from '../../logger.js';
import { acceptUnix, closeFd, listenUnix, sendFds } from '../../net/fd-passing.js';
import { encodeHandoff, type Handoff } from './handoff.js';
import { noPrimaryWillCome } from './holder-verdict.js';
import { drainOutlived } from './outlived-workers.js';

export interface HolderOrders {
  /** Where the next primary asks for the sockets. */
  path: string;
  handoff: Handoff;
  /** The PM2 daemon that will start the next primary; when it is gone nobody will. */
  daemonPid: number;
  /**
   * The app's pm_id in that daemon (PM2_HOME) and PM2's restart count when the old primary
   * started: once PM2 says stopped with that count, nobody will come either.
   */
  pm2: { home: string; id: number; restarts: number } | null;
  waitMs: number;
  /** The balancer's name and logging, so its lines read like the primary's. */
  name: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** Where the primary puts the sockets in the holder's descriptor table (after stdio and IPC). */
export const FIRST_HANDED_FD = 4;

/** How often the holder looks up from waiting to see whether the daemon is still there. */
const CHECK_MS = 50;
/** How often it asks PM2 about the app. */
const ASK_PM2_MS = 200;
/** A primary still draining after this long is not coming back; PM2 kills it sooner. */
const MAX_DRAIN_MS = 30_000;

export function parseOrders(text: string | undefined): HolderOrders {
  const orders = JSON.parse(text ?? 'null') as HolderOrders | null;
  const pm2 = orders?.pm2;
  if (
    orders === null ||
    typeof orders.path !== 'string' ||
    !Number.isInteger(orders.waitMs) ||
    (pm2 !== null && !(Number.isInteger(pm2?.id) && Number.isInteger(pm2?.restarts)))
  ) {
    throw new Error('the socket holder is started by the balancer primary, with its orders in LB_HOLDER');
  }
  return orders;
}

/** Bind the rendezvous: from here on the next primary can connect. */
export function openRendezvous(orders: HolderOrders): number {
  fs.mkdirSync(path.dirname(orders.path), { recursive: true, mode: 0o700 });
  return listenUnix(orders.path);
}

/** Whether PM2 has stopped or deleted the app for good (holder-verdict.ts), asked every `askMs`. */
export function watchPm2(
  orders: Pick<HolderOrders, 'pm2'>,
  logger: Logger,
  askMs = ASK_PM2_MS,
): { verdict: () => string | null; close: () => Promise<void> } {
  let verdict: string | null = null;
  let client: Pm2Client | null = null;
  let closed = false;
  const target = orders.pm2;
  const ask = async (): Promise<void> => {
    if (target === null || closed) return;
    try {
      client ??= await Pm2Client.connect({ pm2Home: target.home, launchDaemon: false, timeoutMs: 2000 });
      const [app] = await client.describe(target.id);
      verdict = noPrimaryWillCome(app, target.restarts);
    } catch (err) {
      logger.debug(`could not ask PM2 about the app: ${errorMessage(err)}`, { event: 'handoff-pm2' });
    }
    if (!closed && verdict === null) timer = setTimeout(() => void ask(), askMs);
  };
  let timer = setTimeout(() => void ask(), 0);
  return {
    verdict: () => verdict,
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await client?.disconnect();
    },
  };
}

/** Wait for the next primary and hand it the sockets; true when one took them. */
export async function holdUntilTaken(
  orders: HolderOrders,
  rendezvous: number,
  logger: Logger,
): Promise<boolean> {
  const fds = orders.handoff.listeners.map((_, i) => FIRST_HANDED_FD + i);
  const pm2 = watchPm2(orders, logger);
  // The wait starts once the old primary has gone (its workers drain first, within its grace).
  const started = Date.now();
  let deadline = Infinity;
  let why = `no balancer came for them within ${orders.waitMs}ms`;
  let handed = false;
  while (!handed && Date.now() < deadline) {
    // A turn of the event loop, for the PM2 client's replies.
    await new Promise((resolve) => setImmediate(resolve));
    const verdict = pm2.verdict();
    if (verdict !== null) {
      why = `${verdict}, so no balancer will come for them`;
      break;
    }
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
  await pm2.close();
  if (handed) {
    logger.info(`handed ${fds.length} listening sockets to the next balancer`, { event: 'handoff-done' });
    return true;
  }
  logger.info(`letting the listening sockets go: ${why}`, { event: 'handoff-abandoned' });
  drainOutlived(orders.handoff.workers, why, logger);
  return false;
}
