/**
 * One upstream as the balancer keeps it: who it is (from discovery), its health state machine, and
 * the counters the status page shows. A class with fixed fields, because the request path reads
 * and bumps them on every request. What every worker must agree on (may it be selected, its
 * weight, its requests in flight) lives in its slot of the shared zone (zone.ts), written by
 * the pool that owns the decisions and read by every copy of the pool.
 */
import type { Pm2ProcessState, UpstreamOrigin, UpstreamSpec } from './discovery/types.js';
import { HealthState, type HealthThresholds } from './health-state.js';
import type { Candidate } from './selection.js';
import type { AdminState, Zone } from './zone.js';
import { hostPort } from '../net/address.js';

export interface CheckResult {
  ok: boolean;
  /** Round-trip time of the check in ms (also for failures, up to the timeout). */
  ms: number;
  /** Epoch ms when it finished. */
  at: number;
  /** What went wrong ("503", "ECONNREFUSED", "timeout after 500ms"), null when ok. */
  error: string | null;
  /** The check got no answer within its timeout (as opposed to a refusal or a bad status). */
  timedOut?: boolean;
  /** Proxied responses the upstream gave while the check was waiting. */
  servedDuring?: number;
  /** The check could not be made: the balancer itself was out of descriptors or ports. */
  local?: boolean;
}

/**
 * What a check result says about health. A check that timed out while the upstream kept answering
 * proxied requests proves it is busy, not dead: counting it would let an overload (every backend
 * slow at once) take the whole pool out and turn slowness into 503s for everyone. Such a result is
 * inconclusive; a refusal, a bad status, or a silence with no traffic answered still counts.
 */
export function checkVerdict(result: CheckResult): 'success' | 'failure' | 'inconclusive' {
  if (result.ok) return 'success';
  // The balancer's own EMFILE says nothing about the upstream.
  if (result.local === true) return 'inconclusive';
  if (result.timedOut === true && (result.servedDuring ?? 0) > 0) return 'inconclusive';
  return 'failure';
}

export class Upstream implements Candidate {
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** host:port (IPv6 in brackets), the Host of a request that came without one. */
  readonly authority: string;
  /** The weight discovery gave it; an operator's weight, when set, wins. */
  specWeight: number;
  adminWeight: number | null = null;
  /** What an operator decided: ready (in rotation when healthy), drain, or maint. */
  admin: AdminState = 'ready';
  pm2: Pm2ProcessState | null;
  /** Where discovery found it (the pool fills it in for sources that do not say). */
  origin: UpstreamOrigin;
  readonly health: HealthState;
  /** Why it last changed state, for the status page. */
  reason = 'not checked yet';
  /** Left the pool (discovery); kept alive only until its in-flight requests finish. */
  removed = false;

  /** Requests being proxied to it now by this process (open tunnels included). */
  inFlight = 0;
  /** Upgraded connections (WebSockets) tunnelled to it now. */
  tunnels = 0;
  /** Tunnel bytes sent to it, and received from it, since it joined. */
  tunnelBytesUp = 0;
  tunnelBytesDown = 0;
  /** Attempts sent to it (retries included). */
  attempts = 0;
  /** Responses it gave (any status). */
  served = 0;
  /** Failed attempts (refused, reset, timed out, garbage) and failed health checks. */
  failures = 0;
  lastCheck: CheckResult | null = null;
  /** PM2 said it is online again: the next good check brings it back, whatever `rise` says. */
  rejoinOnNextCheck = false;

  constructor(
    spec: UpstreamSpec,
    thresholds: HealthThresholds,
    now: number,
    private readonly zone: Zone,
    /** Its place in the zone. */
    readonly slot: number,
    /** This process's row of in-flight counts. */
    private readonly row: number,
  ) {
    this.id = spec.id;
    this.name = spec.name;
    this.host = spec.host;
    this.port = spec.port;
    this.authority = hostPort(spec.host, spec.port);
    this.specWeight = spec.weight ?? 1;
    this.pm2 = spec.pm2 ?? null;
    this.origin = spec.origin ?? { source: 'static', host: null };
    this.health = new HealthState(thresholds, now);
  }

  /** Hot path: may it get a new request (every worker reads the same slot). */
  get available(): boolean {
    return !this.removed && this.zone.selectable(this.slot);
  }

  /** The weight in force, as every worker sees it. */
  get weight(): number {
    return this.zone.weight(this.slot);
  }

  /** Requests in flight to it from every worker. */
  get load(): number {
    return this.zone.inFlight(this.slot);
  }

  /** A request (or tunnel) to it starts, or ends: counted here and in the zone. */
  enter(): void {
    this.inFlight++;
    this.zone.addInFlight(this.row, this.slot, 1);
  }

  leave(): void {
    this.inFlight--;
    this.zone.addInFlight(this.row, this.slot, -1);
  }

  /** Write the decision (health, admin state, weight) to the zone (the owning pool does this). */
  refresh(): void {
    if (this.removed) return;
    this.zone.decide(this.slot, {
      down: this.health.status === 'down',
      admin: this.admin,
      weight: this.adminWeight ?? this.specWeight,
    });
  }
}
