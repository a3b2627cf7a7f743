/**
 * The set of upstreams (Pingora's backend set): discovery feeds membership in, health results and
 * proxy failures feed state in, selection reads `available` out. Every state change goes through
 * here, so each one gives exactly one log line and one `pool-change` event.
 */
import type { Logger } from '../logger.js';
import { formatMs } from '../report/format.js';
import type { DiscoveryKind, UpstreamSpec } from './discovery/types.js';
import type { BalancerEvents, PoolChange } from './events.js';
import type { HealthFlip, HealthStatus, HealthThresholds } from './health-state.js';
import { policyFor, type SelectionPolicy } from './selection.js';
import { checkVerdict, Upstream, type CheckResult } from './upstream.js';

export interface PoolOptions {
  thresholds: HealthThresholds;
  logger: Logger;
  events: BalancerEvents;
  clock?: () => number;
  /**
   * A cluster worker's copy of the primary's pool: it logs and emits nothing (the primary does,
   * once), and a passive failure goes to `onTakeOut` so the primary takes the upstream out for all.
   */
  replica?: { onTakeOut(upstream: Upstream, reason: string): void };
}

/** One upstream's health as the primary decided it, sent to every worker. */
export interface UpstreamHealth {
  id: string;
  status: HealthStatus;
  since: number;
  reason: string;
  lastCheck: CheckResult | null;
}

export class Pool {
  /** Rotation order; replaced (never mutated) on membership changes, so a running loop is safe. */
  members: readonly Upstream[] = [];
  private readonly byId = new Map<string, Upstream>();
  private policy: SelectionPolicy<Upstream> = policyFor<Upstream>([]);
  private readonly thresholds: HealthThresholds;
  private readonly logger: Logger;
  private readonly events: BalancerEvents;
  private readonly clock: () => number;
  private readonly replica: PoolOptions['replica'];
  private availabilityListeners: (() => void)[] = [];

  constructor(options: PoolOptions) {
    this.thresholds = options.thresholds;
    this.logger = options.logger;
    this.events = options.events;
    this.clock = options.clock ?? Date.now;
    this.replica = options.replica;
  }

  /** Called after any change that may have made an upstream available (waiting requests retry). */
  onAvailability(listener: () => void): void {
    this.availabilityListeners = [...this.availabilityListeners, listener];
  }

  /** Every member's health, for the workers (the primary's side). */
  healthSnapshot(): UpstreamHealth[] {
    return this.members.map((u) => ({
      id: u.id,
      status: u.health.status,
      since: u.health.since,
      reason: u.reason,
      lastCheck: u.lastCheck,
    }));
  }

  /** Take the primary's decisions (the worker's side); members it does not know are skipped. */
  mirror(states: readonly UpstreamHealth[]): void {
    for (const state of states) {
      const upstream = this.byId.get(state.id);
      if (upstream === undefined) continue;
      upstream.health.mirror(state.status, state.since);
      upstream.reason = state.reason;
      upstream.lastCheck = state.lastCheck;
      upstream.refresh();
    }
    this.availabilityMayHaveChanged();
  }

  /** PM2 says the process behind it is online again: one good check brings it back. */
  rejoinOnNextCheck(upstream: Upstream): void {
    if (upstream.health.status === 'down') upstream.rejoinOnNextCheck = true;
  }

  /** The selection policy in use (round-robin, or weighted when weights differ). */
  get policyName(): string {
    return this.policy.name;
  }

  get size(): number {
    return this.members.length;
  }

  get(id: string): Upstream | undefined {
    return this.byId.get(id);
  }

  /** Hot path: the next upstream for a request, skipping those it already tried. */
  select(exclude?: readonly Upstream[]): Upstream | undefined {
    return this.policy.select(this.members, exclude);
  }

  availableCount(): number {
    let n = 0;
    for (const u of this.members) if (u.available) n++;
    return n;
  }

  /**
   * The whole membership as discovery now sees it. New members start `unknown` (given traffic
   * until their first check); members not listed leave rotation at once.
   */
  setMembers(specs: readonly UpstreamSpec[], source: string, initial = false): void {
    const now = this.clock();
    const next: Upstream[] = [];
    const added: Upstream[] = [];
    let reshaped = specs.length !== this.members.length;
    for (const spec of specs) {
      let upstream = this.byId.get(spec.id);
      if (upstream === undefined) {
        upstream = new Upstream(spec, this.thresholds, now);
        this.byId.set(spec.id, upstream);
        added.push(upstream);
      } else if ((spec.weight ?? 1) !== upstream.weight) {
        upstream.weight = spec.weight ?? 1;
        reshaped = true;
      }
      upstream.pm2 = spec.pm2 ?? null;
      upstream.origin = spec.origin ?? { source: originOf(source), host: null };
      if (this.members[next.length] !== upstream) reshaped = true;
      next.push(upstream);
    }
    const gone = this.members.filter((u) => !next.includes(u));
    this.members = next;
    if (reshaped) this.policy = policyFor(next);
    for (const upstream of gone) {
      upstream.removed = true;
      this.byId.delete(upstream.id);
      this.change(upstream, upstream.health.status, 'absent', `removed by ${source} discovery`, 'warn', now);
    }
    for (const upstream of added) {
      // The start-up line lists the first pool; one line per member would only repeat it.
      this.change(
        upstream,
        'absent',
        'unknown',
        `added by ${source} discovery`,
        initial ? 'debug' : 'info',
        now,
      );
    }
  }

  /** An active health check finished. */
  recordCheck(upstream: Upstream, result: CheckResult): void {
    upstream.lastCheck = result;
    if (this.events.wantsHealthChecks) {
      this.events.healthChecked({
        id: upstream.id,
        name: upstream.name,
        ok: result.ok,
        ms: result.ms,
        error: result.error,
      });
    }
    if (upstream.removed) return;
    const verdict = checkVerdict(result);
    if (verdict === 'inconclusive') {
      this.logger.debug(
        result.local === true
          ? `${upstream.name}: health check not made (${result.error ?? 'error'}): the balancer is out of local resources; not counted`
          : `${upstream.name}: health check timed out while it answered ${result.servedDuring} proxied requests; busy, not counted`,
        { event: 'health-inconclusive', id: upstream.id, upstream: upstream.name },
      );
      return;
    }
    if (verdict === 'success') {
      const rise = upstream.rejoinOnNextCheck ? 1 : undefined;
      upstream.rejoinOnNextCheck = false;
      const flip = upstream.health.success(result.at, rise);
      if (flip !== undefined) this.flipped(upstream, flip, `health check ok in ${formatMs(result.ms)}`);
    } else {
      upstream.failures++;
      const flip = upstream.health.failure(result.at);
      if (flip !== undefined) {
        const why =
          flip.from === 'unknown'
            ? `health check failed (${result.error ?? 'error'})`
            : `${flip.streak} failed health checks (last: ${result.error ?? 'error'})`;
        this.flipped(upstream, flip, why);
      }
    }
  }

  /** Out of rotation now (a refused connection while proxying, or PM2 says it is stopping). */
  takeOut(upstream: Upstream, reason: string): void {
    if (upstream.removed) return;
    upstream.rejoinOnNextCheck = false;
    const flip = upstream.health.forceDown(this.clock());
    if (flip !== undefined) this.flipped(upstream, flip, reason);
    this.replica?.onTakeOut(upstream, reason);
  }

  private availabilityMayHaveChanged(): void {
    if (this.availabilityListeners.length === 0 || this.availableCount() === 0) return;
    for (const listener of this.availabilityListeners) listener();
  }

  private flipped(upstream: Upstream, flip: HealthFlip, reason: string): void {
    const now = upstream.health.since;
    if (flip.to === 'up' && flip.from === 'down') {
      this.change(
        upstream,
        flip.from,
        flip.to,
        `rejoined after ${flip.streak} check${flip.streak === 1 ? '' : 's'}`,
        'info',
        now,
        reason,
      );
    } else if (flip.to === 'up') {
      this.change(upstream, flip.from, flip.to, reason, 'info', now);
    } else {
      this.change(upstream, flip.from, flip.to, reason, 'warn', now);
    }
  }

  private change(
    upstream: Upstream,
    from: PoolChange['from'],
    to: PoolChange['to'],
    reason: string,
    level: 'debug' | 'info' | 'warn',
    at: number,
    detail?: string,
  ): void {
    upstream.reason = reason;
    upstream.refresh();
    if (to !== 'down' && to !== 'absent') this.availabilityMayHaveChanged();
    if (this.replica !== undefined) return;
    let message: string;
    if (from === 'absent') message = `${upstream.name} (${upstream.id}) ${reason}`;
    else if (to === 'absent') message = `${upstream.name} (${upstream.id}) ${reason}`;
    else if (to === 'down') message = `${upstream.name} left the pool: ${reason}`;
    else if (from === 'down') message = `${upstream.name} ${reason}`;
    else message = `${upstream.name} joined the pool: ${reason}`;
    this.logger[level](message, {
      event: 'pool-change',
      id: upstream.id,
      // Not `name`: JSON log lines use that for the process name.
      upstream: upstream.name,
      from,
      to,
      reason: detail === undefined ? reason : `${reason} (${detail})`,
      available: this.availableCount(),
      size: this.members.length,
    });
    this.events.poolChanged({ id: upstream.id, name: upstream.name, from, to, reason, at });
  }
}

function originOf(source: string): DiscoveryKind {
  return source === 'pm2' || source === 'etcd' ? source : 'static';
}
