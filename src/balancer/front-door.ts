/**
 * The front door of a balancer that shares a virtual address with another (keepalived, VRRP): a
 * planned failover hands the address over at a moment when nothing is open here, since once it
 * has moved every packet of a connection still open to this host reaches the other one and is
 * reset. `maint` answers every request with `Connection: close` and closes idle connections, waits
 * until no client connection is left (or a bound passes), then writes 1 to keepalived's track
 * file, which puts this host's VRRP instance in FAULT: the peer takes the address within an
 * advertisement or two. `ready` writes 0 and serves as before (the address stays where it is:
 * the instances run `nopreempt`). New connections must not arrive meanwhile; keeping them out is
 * the host's job (a SYN guard: src/hosts/syn-guard.ts), since a balancer cannot refuse one without
 * failing it.
 *
 * The track file is the state: a balancer that starts and finds 1 there stays in maint.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';

export type DoorState = 'open' | 'leaving' | 'maint';

/** What the door needs from the request path (one process, or a primary and its workers). */
export interface DoorSide {
  /**
   * Answer with `Connection: close` (true), or serve as before; `closeIdle` also closes the
   * connections that wait idle between requests now.
   */
  leave(on: boolean, closeIdle: boolean): void;
  /** Client connections open now, over every request-path process. */
  openConnections(): number | Promise<number>;
}

export interface DoorReport {
  state: DoorState;
  /** How long maint waited for the last connection; 0 for ready. */
  waitedMs: number;
  /** Connections still open when the address was given away (0 unless the bound was hit). */
  connectionsLeft: number;
}

/** A door report as it comes back over the admin API; throws naming what is wrong. */
export function readDoorReport(value: unknown): DoorReport {
  const v = value as Partial<Record<keyof DoorReport, unknown>> | null;
  const states: readonly unknown[] = ['open', 'leaving', 'maint'];
  if (typeof v !== 'object' || v === null || !states.includes(v.state))
    throw new Error('no front door state in the answer');
  if (typeof v.waitedMs !== 'number' || typeof v.connectionsLeft !== 'number')
    throw new Error('the front door answer lacks waitedMs or connectionsLeft');
  return { state: v.state as DoorState, waitedMs: v.waitedMs, connectionsLeft: v.connectionsLeft };
}

/** How long maint waits for the open connections to finish before it gives the address away. */
export const DOOR_WAIT_MS = 2000;
/**
 * Idle keep-alive connections are closed only after this: closing one races with the client's
 * next request on it (a reset the client sees), while a busy client gets `Connection: close` on
 * its next answer within milliseconds. What is still idle after a second is likely to stay so.
 */
const IDLE_GRACE_MS = 1000;
/** Two readings of no connection this far apart: one accepted meanwhile (the kernel's queue) shows. */
const SETTLE_MS = 50;
const POLL_MS = 25;

/**
 * The track file's words: keepalived counts any non-zero value as a fault when its weight is 0.
 * 1 is an operator's maint (kept across restarts); 2 a balancer stopped for good (the handover's
 * holder writes it, and the next start opens the door again).
 */
export const TRACK_OPEN = '0';
export const TRACK_MAINT = '1';
export const TRACK_STOPPED = '2';

/** How long a stopped front's old workers serve on once the address is given away: the other front's takeover. */
export const GIVE_AWAY_MS = 1000;

/** What a track file's text says: maint for 1, open otherwise (missing, 0, 2, junk). */
export function doorFromTrack(text: string | null): 'open' | 'maint' {
  return text?.trim() === TRACK_MAINT ? 'maint' : 'open';
}

/** Whole or not at all (keepalived reads it on every change inotify tells it of). */
export function writeTrackFile(file: string, value: string, logger: Logger): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(temporary, `${value}\n`);
    fs.renameSync(temporary, file);
  } catch (err) {
    fs.rmSync(temporary, { force: true });
    logger.error(`track file ${file} could not be written: ${errorMessage(err)}`, {
      event: 'front-door-error',
    });
  }
}

export class FrontDoor {
  state: DoorState = 'open';
  since = Date.now();
  private side: DoorSide | null = null;

  constructor(
    /** keepalived's track file for this host's instance; null: no VRRP, the door only closes. */
    readonly trackFile: string | null,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** At start: a track file left at 1 keeps this front in maint across restarts. */
  resume(side: DoorSide): void {
    this.side = side;
    if (this.trackFile === null) return;
    let text: string | null = null;
    try {
      text = fs.readFileSync(this.trackFile, 'utf8');
    } catch {
      // missing: a first start
    }
    if (doorFromTrack(text) === 'maint') {
      this.set('maint');
      side.leave(true, true);
      this.logger.warn(
        `front door in maint (track file ${this.trackFile} says so): not taking the address; POST /__lb/front/ready to open it`,
        { event: 'front-door', state: 'maint' },
      );
      return;
    }
    this.write('open');
  }

  /** Close the door: connections finish with `Connection: close`, then the address goes. */
  async maint(by: string): Promise<DoorReport> {
    const side = this.mustSide();
    if (this.state === 'maint') return { state: 'maint', waitedMs: 0, connectionsLeft: 0 };
    const started = this.clock();
    this.set('leaving');
    side.leave(true, false);
    this.logger.info(
      `front door closing (${by}): Connection: close on every answer, idle connections closed after ${IDLE_GRACE_MS}ms`,
      { event: 'front-door', state: 'leaving' },
    );
    let idleClosed = false;
    let zeroSince: number | null = null;
    let left = await side.openConnections();
    while (this.clock() - started < DOOR_WAIT_MS && this.state === 'leaving') {
      const now = this.clock();
      if (left === 0) {
        zeroSince ??= now;
        if (now - zeroSince >= SETTLE_MS) break;
      } else zeroSince = null;
      if (!idleClosed && now - started >= IDLE_GRACE_MS) {
        idleClosed = true;
        side.leave(true, true);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
      left = await side.openConnections();
    }
    const waitedMs = this.clock() - started;
    if (this.state !== 'leaving') return { state: this.state, waitedMs, connectionsLeft: left };
    this.set('maint');
    this.write('maint');
    this.logger.info(
      `front door in maint after ${waitedMs}ms: ${left === 0 ? 'no connection left' : `${left} connections still open (the ${DOOR_WAIT_MS}ms bound)`}; ` +
        `${this.trackFile === null ? 'no track file, nobody to give the address to' : 'the address goes to the other front'}`,
      { event: 'front-door', state: 'maint', waitedMs, connectionsLeft: left },
    );
    return { state: 'maint', waitedMs, connectionsLeft: left };
  }

  /** Open it again: the address comes back only when the other front gives it up. */
  ready(by: string): DoorReport {
    const side = this.mustSide();
    if (this.state !== 'open') {
      this.set('open');
      side.leave(false, false);
      this.write('open');
      this.logger.info(`front door open (${by}): serving as before, a candidate for the address again`, {
        event: 'front-door',
        state: 'open',
      });
    }
    return { state: 'open', waitedMs: 0, connectionsLeft: 0 };
  }

  private mustSide(): DoorSide {
    if (this.side === null) throw new Error('the front door is not wired to a request path yet');
    return this.side;
  }

  private set(state: DoorState): void {
    this.state = state;
    this.since = this.clock();
  }

  private write(state: DoorState): void {
    if (this.trackFile === null) return;
    writeTrackFile(this.trackFile, state === 'maint' ? TRACK_MAINT : TRACK_OPEN, this.logger);
  }
}
