/**
 * The proxy timeout and the response head's deadline without a timer per request: attempts in
 * progress sit in a list, and one interval timer (a quarter of the shorter timeout, between 10
 * and 500 ms) finds those whose upstream has been silent too long, or has not finished its
 * response head in time. Arming and disarming a socket timer on every request cost more than the
 * rest of the balancer's own request path; linking an attempt into a list costs a few field writes
 * (the list runs through the attempts themselves, as node's timer lists do: no allocation, no
 * hashing). The price is precision: a timeout fires up to two ticks (a second at most) late.
 *
 * "Silent" counts from the later of: the attempt's start, the last response bytes relayed, and
 * the last time the client was the one holding things up (still uploading its request, which
 * node:http's request timeout bounds, or not reading the response).
 */

/** What the watch needs from an attempt in progress; the link fields belong to the watch. */
export interface Watched {
  /**
   * Coarse ms (the watch's clock) of the last sign of life from the upstream. The request path
   * writes ACTIVE_NOW instead of reading a clock; the next tick turns it into a time.
   */
  lastActivity: number;
  /**
   * Since when (the watch's clock) the upstream owes its response head: the attempt's start, or
   * the last tick at which the client was still sending. Written by the watch only.
   */
  headSince: number;
  /** The upstream's final response head has arrived: only silence counts from then on. */
  readonly responded: boolean;
  /** The client is still sending its request, or not reading the response fast enough. */
  readonly clientBusy: boolean;
  watchPrev: Watched | null;
  watchNext: Watched | null;
}

export const ACTIVE_NOW = -1;

/**
 * Why an attempt expired: its upstream sent nothing for the proxy timeout (`silence`), or did
 * not finish its response head within the head timeout (`head`), however many bytes of it
 * trickled in (an upstream sending a header byte every 300 ms is never silent).
 */
export type Expiry = 'silence' | 'head';

export interface DeadlineTimeouts {
  /** The proxy timeout: no byte from the upstream for this long. */
  silenceMs: number;
  /** The response head must be complete this long after the attempt started (at most silenceMs). */
  headMs: number;
}

export class DeadlineWatch<T extends Watched> {
  /** Most recently watched first. */
  private head: Watched | null = null;
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  /** A clock that moves once per tick. */
  now: number;
  private readonly tickMs: number;

  private readonly silenceMs: number;
  private readonly headMs: number;

  constructor(
    timeouts: DeadlineTimeouts,
    private readonly expired: (item: T, why: Expiry) => void,
    private readonly clock: () => number = Date.now,
  ) {
    this.silenceMs = timeouts.silenceMs;
    this.headMs = Math.min(timeouts.headMs, timeouts.silenceMs);
    // At most 500 ms: relayed bytes are dated at the next tick, so a timeout can fire up to two
    // ticks late, and the project promises a second (docs/hardening.md).
    this.tickMs = Math.max(10, Math.min(500, Math.floor(this.headMs / 4)));
    this.now = clock();
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  get size(): number {
    return this.count;
  }

  watch(item: T): void {
    if (item.watchPrev !== null || this.head === item) return;
    // The clock, not the last tick's reading: dated a tick early, an attempt would expire early.
    item.lastActivity = item.headSince = this.now = this.clock();
    item.watchNext = this.head;
    if (this.head !== null) this.head.watchPrev = item;
    this.head = item;
    this.count++;
  }

  unwatch(item: T): void {
    if (item.watchPrev === null && this.head !== item) return;
    if (item.watchPrev !== null) item.watchPrev.watchNext = item.watchNext;
    else this.head = item.watchNext;
    if (item.watchNext !== null) item.watchNext.watchPrev = item.watchPrev;
    item.watchPrev = null;
    item.watchNext = null;
    this.count--;
  }

  /** One pass: expire the silent ones and the ones whose head is late. Public for tests. */
  tick(): void {
    const now = (this.now = this.clock());
    let item = this.head;
    while (item !== null) {
      const next = item.watchNext;
      if (item.clientBusy) {
        // The upstream may wait for the whole request before it answers: neither clock runs.
        item.lastActivity = item.headSince = now;
      } else {
        if (item.lastActivity === ACTIVE_NOW) item.lastActivity = now;
        const why: Expiry | null =
          now - item.lastActivity >= this.silenceMs
            ? 'silence'
            : !item.responded && now - item.headSince >= this.headMs
              ? 'head'
              : null;
        if (why !== null) {
          this.unwatch(item as T);
          this.expired(item as T, why);
        }
      }
      item = next;
    }
  }
}
