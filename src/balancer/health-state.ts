/**
 * An upstream's health as a threshold state machine (HAProxy's fall/rise, Pingora's health map):
 * `fall` consecutive failures take it down, `rise` consecutive successes bring it back. Every
 * method says whether the state flipped, so the caller logs a line when, and only when, it did.
 *
 * An upstream starts `unknown` and is given traffic (a refused connection still takes it out at
 * once); its first check decides at once, because there is no history to smooth over.
 */

export type HealthStatus = 'unknown' | 'up' | 'down';

export interface HealthThresholds {
  fall: number;
  rise: number;
}

export interface HealthFlip {
  from: HealthStatus;
  to: HealthStatus;
  /** Consecutive results that caused it (the `rise` or `fall` count, 1 for a first check). */
  streak: number;
}

export class HealthState {
  status: HealthStatus = 'unknown';
  /** Epoch ms of the last flip (or of creation). */
  since: number;
  private successes = 0;
  private failures = 0;

  constructor(
    private readonly thresholds: HealthThresholds,
    now: number,
  ) {
    this.since = now;
  }

  /**
   * A health check succeeded. `rise` lowers the threshold for this check (1 when the supervisor
   * has just said the process is back online: one good check is proof enough).
   */
  success(now: number, rise = this.thresholds.rise): HealthFlip | undefined {
    this.failures = 0;
    this.successes++;
    if (this.status === 'up') return undefined;
    if (this.status === 'unknown' || this.successes >= rise) {
      return this.flip('up', this.successes, now);
    }
    return undefined;
  }

  /** A health check failed. */
  failure(now: number): HealthFlip | undefined {
    this.successes = 0;
    this.failures++;
    if (this.status === 'down') return undefined;
    if (this.status === 'unknown' || this.failures >= this.thresholds.fall) {
      return this.flip('down', this.failures, now);
    }
    return undefined;
  }

  /**
   * Down at once, whatever the count: a refused or reset connection while proxying, or the
   * supervisor saying the process is stopping. Successes start again from zero, so it needs the
   * full `rise` to come back.
   */
  forceDown(now: number): HealthFlip | undefined {
    this.successes = 0;
    if (this.status === 'down') return undefined;
    return this.flip('down', 1, now);
  }

  /** Take the state another process decided (a cluster primary's checks), without a flip of our own. */
  mirror(status: HealthStatus, since: number): void {
    this.status = status;
    this.since = since;
    this.successes = 0;
    this.failures = 0;
  }

  private flip(to: HealthStatus, streak: number, now: number): HealthFlip {
    const from = this.status;
    this.status = to;
    this.since = now;
    return { from, to, streak };
  }
}
