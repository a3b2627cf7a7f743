/**
 * One upstream as the balancer keeps it: who it is (from discovery), its health state machine, and
 * the counters the status page shows. A class with fixed fields, because the request path reads
 * and bumps them on every request.
 */
import type { Pm2ProcessState, UpstreamSpec } from './discovery/types.js';
import { HealthState, type HealthThresholds } from './health-state.js';
import type { Candidate } from './selection.js';

export interface CheckResult {
  ok: boolean;
  /** Round-trip time of the check in ms (also for failures, up to the timeout). */
  ms: number;
  /** Epoch ms when it finished. */
  at: number;
  /** What went wrong ("503", "ECONNREFUSED", "timeout after 500ms"), null when ok. */
  error: string | null;
}

export class Upstream implements Candidate {
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  weight: number;
  pm2: Pm2ProcessState | null;
  readonly health: HealthState;
  /** Why it last changed state, for the status page. */
  reason = 'not checked yet';
  /** Kept in step with health and membership; what selection reads on every request. */
  available = true;
  /** Left the pool (discovery); kept alive only until its in-flight requests finish. */
  removed = false;

  /** Requests being proxied to it now. */
  inFlight = 0;
  /** Attempts sent to it (retries included). */
  attempts = 0;
  /** Responses it gave (any status). */
  served = 0;
  /** Failed attempts (refused, reset, timed out, garbage) and failed health checks. */
  failures = 0;
  lastCheck: CheckResult | null = null;

  constructor(spec: UpstreamSpec, thresholds: HealthThresholds, now: number) {
    this.id = spec.id;
    this.name = spec.name;
    this.host = spec.host;
    this.port = spec.port;
    this.weight = spec.weight ?? 1;
    this.pm2 = spec.pm2 ?? null;
    this.health = new HealthState(thresholds, now);
  }

  /** Recompute `available` after a health flip or a membership change. */
  refresh(): void {
    this.available = !this.removed && this.health.status !== 'down';
  }
}
