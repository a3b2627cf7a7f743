/**
 * A first-come, first-served gate of a fixed number of slots, for bench/slow-server.ts: a job
 * starts at once while a slot is free, otherwise when one comes free, in arrival order. It models
 * the capped worker (or database) pool that makes a real slow upstream queue, rather than serve
 * any number of requests side by side. A waiting job can be cancelled (its client went away), so
 * a queue left behind by a finished load drains at once. Pure: no I/O, no timers.
 */
export class SlotGate {
  private busy = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly slots: number) {
    if (!Number.isInteger(slots) || slots < 1)
      throw new RangeError(`slots must be a whole number >= 1, got ${slots}`);
  }

  /** Jobs holding a slot. */
  get inService(): number {
    return this.busy;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `start` now if a slot is free, else once one is; the job must call `leave()` when done.
   * Returns a cancel function: true when the job was still waiting (it will never start), false
   * when it had started already (it still holds its slot until `leave()`).
   */
  enter(start: () => void): () => boolean {
    if (this.busy < this.slots) {
      this.busy++;
      start();
      return () => false;
    }
    this.waiting.push(start);
    return () => {
      const at = this.waiting.indexOf(start);
      if (at < 0) return false;
      this.waiting.splice(at, 1);
      return true;
    };
  }

  /** A job is done: its slot goes to the longest-waiting job, if any. */
  leave(): void {
    if (this.busy === 0) throw new RangeError('leave() without a job in service');
    const next = this.waiting.shift();
    if (next === undefined) this.busy--;
    else next();
  }
}
