/**
 * At most one log line per interval for an event that can happen thousands of times a second
 * (running out of descriptors under load): the first occurrence is logged at once, later ones are
 * counted, and the next line says how many were left out. Pure: the caller passes the clock.
 */
export class LogGate {
  private lastAt = Number.NEGATIVE_INFINITY;
  private skipped = 0;

  constructor(private readonly intervalMs = 1000) {}

  /** Undefined: stay quiet. A number: log now; it is how many were left out since the last line. */
  pass(now: number): number | undefined {
    if (now - this.lastAt < this.intervalMs) {
      this.skipped++;
      return undefined;
    }
    this.lastAt = now;
    const skipped = this.skipped;
    this.skipped = 0;
    return skipped;
  }
}
