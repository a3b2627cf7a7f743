/**
 * The holder: a small process that keeps a stopped primary's listening sockets open until the
 * next primary comes for them (a PM2 restart starts it only after the old one has exited), and
 * hands them over at the rendezvous, a unix socket. Connections that arrive meanwhile wait in the
 * kernel's accept queue, and the old generation (the old primary's workers, when they serve on)
 * keeps accepting them: none is refused.
 *
 * It is the one owner of the old generation: once the taker says it is ready it drains those
 * workers and goes; a taker that goes away first leaves it holding for the next. It lets the
 * sockets go (and drains the old generation) when PM2 says the app is stopped or deleted
 * (`pm2 stop`, `npm stop`), when the PM2 daemon is gone (`pm2 kill`), or when no primary came in
 * time. Evented: node's own unix-socket server, timers for the watches, the addon only to send.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { errorMessage } from '../../errors.js';
import { isPidAlive as alive, Pm2Client } from '../../supervisor/pm2-client.js';
import type { LogFormat, Logger, LogLevel } from '../../logger.js';
import { sendFds } from './fd-passing.js';
import { noPrimaryWillCome } from './holder-verdict.js';
import { encodeHandover, TAKER_READY, type Handover } from './message.js';
import { drainOldGeneration } from './old-generation.js';
import { GIVE_AWAY_MS, TRACK_STOPPED, writeTrackFile } from '../front-door.js';

export interface HolderOrders {
  /** The rendezvous: where the next primary asks for the sockets. */
  path: string;
  handover: Handover;
  /** The PM2 daemon that will start the next primary; when it is gone nobody will. */
  daemonPid: number;
  /**
   * The app's pm_id in that daemon (PM2_HOME) and PM2's restart count when the old primary
   * started: once PM2 says stopped with that count, nobody will come either.
   */
  pm2: { home: string; id: number; restarts: number } | null;
  waitMs: number;
  /**
   * keepalived's track file when this balancer is a front (front-door.ts): when nobody will come,
   * the address goes to the other front before the old generation stops serving, so the clients'
   * new connections go there instead of being refused here.
   */
  trackFile?: string | null;
  /** The balancer's name and logging, so its lines read like the primary's. */
  name: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** Where the primary puts the sockets in the holder's descriptor table (after stdio and IPC). */
export const FIRST_HANDED_FD = 4;

/** How often the holder looks whether the old primary and the PM2 daemon are still there. */
const WATCH_MS = 50;
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
    throw new Error('the holder is started by the balancer primary, with its orders in LB_HOLDER');
  }
  return orders;
}

/**
 * Whether PM2 has stopped or deleted the app for good (holder-verdict.ts), asked every `askMs`;
 * `onVerdict` hears it once.
 */
export function watchPm2(
  orders: Pick<HolderOrders, 'pm2'>,
  logger: Logger,
  askMs = ASK_PM2_MS,
  onVerdict: (why: string) => void = () => undefined,
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
      logger.debug(`could not ask PM2 about the app: ${errorMessage(err)}`, { event: 'handover-pm2' });
    }
    if (closed) return;
    if (verdict === null) timer = setTimeout(() => void ask(), askMs);
    else onVerdict(verdict);
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

const soNobody = (verdict: string): string => `${verdict}, so no balancer will come for them`;

function listen(server: net.Server, file: string): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.rmSync(file, { force: true }); // a holder that died left it behind
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The inode at `file`, so a holder removes only the rendezvous it made. */
function inodeOf(file: string): number | null {
  try {
    return fs.statSync(file).ino;
  } catch {
    return null;
  }
}

export class Holder {
  private readonly server = net.createServer({ pauseOnConnect: true }, (c) => this.onTaker(c));
  private readonly fds: number[];
  private taker: net.Socket | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private inode: number | null = null;
  private readonly started = Date.now();
  private watch: NodeJS.Timeout | null = null;
  private pm2: ReturnType<typeof watchPm2> | null = null;
  private finished: (handed: boolean) => void = () => undefined;

  constructor(
    private readonly orders: HolderOrders,
    private readonly logger: Logger,
    /** The descriptors, in the handover's order; by default where the leaving primary put them. */
    fds?: number[],
  ) {
    const count = orders.handover.listeners.length + (orders.handover.zone ? 1 : 0);
    this.fds = fds ?? Array.from({ length: count }, (_, i) => FIRST_HANDED_FD + i);
  }

  /** Bind the rendezvous: from here on the next primary can connect. */
  async open(): Promise<void> {
    await listen(this.server, this.orders.path);
    this.inode = inodeOf(this.orders.path);
  }

  /** Hold until a taker is ready (true) or nobody will come (false); the old generation drains. */
  hold(): Promise<boolean> {
    const done = new Promise<boolean>((resolve) => (this.finished = resolve));
    this.pm2 = watchPm2(this.orders, this.logger, ASK_PM2_MS, (verdict) =>
      this.nobodyComes(soNobody(verdict)),
    );
    this.watch = setInterval(() => this.look(), WATCH_MS);
    this.look();
    return done;
  }

  /** The old primary's exit starts the wait for the next; the daemon's exit ends it. */
  private look(): void {
    const { handover, daemonPid, waitMs } = this.orders;
    if (daemonPid > 0 && !alive(daemonPid)) {
      this.nobodyComes('the PM2 daemon is gone, so no balancer will come for them');
      return;
    }
    if (this.deadline === null && this.taker === null) {
      if (!alive(handover.from) || Date.now() - this.started > MAX_DRAIN_MS) {
        this.deadline = setTimeout(
          () => this.nobodyComes(`no balancer came for them within ${waitMs}ms`),
          waitMs,
        );
      }
    }
  }

  private nobodyComes(why: string): void {
    // A taker on the line decides first: it either says ready or goes, and then this is asked again.
    if (this.taker !== null) return;
    this.logger.info(`letting the listening sockets go: ${why}`, {
      event: 'handover-abandoned',
    });
    void this.finish(false, why);
  }

  private onTaker(conn: net.Socket): void {
    if (this.taker !== null) {
      conn.destroy(); // one taker at a time; the other binds its own
      return;
    }
    conn.on('error', () => undefined);
    try {
      sendFds(conn, this.fds, encodeHandover(this.orders.handover));
    } catch (err) {
      this.logger.warn(`a balancer asked for the sockets but the handover failed: ${errorMessage(err)}`, {
        event: 'handover-failed',
      });
      conn.destroy();
      return;
    }
    this.taker = conn;
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = null;
    this.logger.info(
      `handed ${this.orders.handover.listeners.length} listening sockets to the next balancer`,
      {
        event: 'handover',
      },
    );
    let said = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      said += chunk;
      if (said.includes(TAKER_READY)) void this.finish(true, "the next balancer's workers are ready");
    });
    conn.on('close', () => {
      if (this.taker !== conn || said.includes(TAKER_READY)) return;
      this.taker = null;
      this.logger.warn('the next balancer went before it was ready; holding the sockets for another', {
        event: 'handover-failed',
      });
      const verdict = this.pm2?.verdict() ?? null;
      if (verdict !== null) this.nobodyComes(soNobody(verdict));
      else this.look();
    });
    conn.resume();
  }

  private async finish(handed: boolean, why: string): Promise<void> {
    if (this.watch !== null) clearInterval(this.watch);
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.watch = null;
    this.deadline = null;
    this.taker?.destroy();
    this.server.close();
    // A later holder may have made its own rendezvous at the same path: that one is not ours.
    if (this.inode !== null && inodeOf(this.orders.path) === this.inode) {
      fs.rmSync(this.orders.path, { force: true });
    }
    await this.pm2?.close();
    if (handed) this.logger.info('the next balancer serves: handover done', { event: 'handover-done' });
    const trackFile = this.orders.trackFile ?? null;
    if (!handed && trackFile !== null) {
      writeTrackFile(trackFile, TRACK_STOPPED, this.logger);
      this.logger.info(
        `giving the front's address away (track file ${trackFile}); the old workers serve until it has moved`,
        { event: 'front-door', state: 'stopped' },
      );
      await new Promise((r) => setTimeout(r, GIVE_AWAY_MS));
    }
    drainOldGeneration(this.orders.handover.workers, why, this.logger);
    this.finished(handed);
  }
}
