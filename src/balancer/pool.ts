/**
 * The set of upstreams (Pingora's backend set): discovery feeds membership in, health results,
 * proxy failures and operators' decisions feed state in, selection reads `available` out. Every
 * state change goes through here, so each one gives exactly one log line and one event. The pool
 * that owns the decisions (a single process, a cluster's primary) writes them to the shared zone;
 * a worker's copy (`replica`) reads them from it and only reports what it saw.
 */
import type { Logger } from '../logger.js';
import { formatMs } from '../report/format.js';
import type { DiscoveryKind, UpstreamSpec } from './discovery/types.js';
import type { BalancerEvents, PoolChange } from './events.js';
import type { HealthFlip, HealthThresholds } from './health-state.js';
import { policyFor, type PolicyKind, type SelectionPolicy } from './selection.js';
import { checkVerdict, Upstream, type CheckResult } from './upstream.js';
import { MAX_SLOTS, Zone, type AdminState } from './zone.js';

export interface PoolOptions {
  thresholds: HealthThresholds;
  logger: Logger;
  events: BalancerEvents;
  clock?: () => number;
  /** round-robin (the default) or least-request. */
  policy?: PolicyKind;
  /** The shared zone (a cluster); a private one otherwise. */
  zone?: Zone;
  /** This process's row of in-flight counts in the zone; one is claimed when not given. */
  row?: number;
  /**
   * A cluster worker's copy of the primary's pool: it logs and emits nothing (the primary does,
   * once), takes each member's slot from the primary, and a passive failure marks the slot down
   * at once for every worker and goes to `onTakeOut` so the primary decides what follows.
   */
  replica?: { onTakeOut(upstream: Upstream, reason: string): void };
}

/** A member as the primary tells its workers: who, and where its slot in the zone is. */
export type SlottedSpec = UpstreamSpec & { slot: number };

/** An operator's decision, as the admin API and the state file carry it. */
export interface AdminDecision {
  admin?: AdminState;
  /** 0 to 256; null puts the weight discovery gave back in force. */
  weight?: number | null;
}

export class Pool {
  /** Rotation order; replaced (never mutated) on membership changes, so a running loop is safe. */
  members: readonly Upstream[] = [];
  private readonly byId = new Map<string, Upstream>();
  readonly zone: Zone;
  private readonly row: number;
  readonly policyKind: PolicyKind;
  private policy: SelectionPolicy<Upstream>;
  /** Slots a handed-over zone already gives these members (by id): kept, so every worker agrees. */
  private adopted = new Map<string, number>();
  /** Decisions for members not here yet (the state file, by name): applied when they join. */
  private pending = new Map<string, AdminDecision>();
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
    this.zone = options.zone ?? Zone.private();
    this.row = options.row ?? this.zone.claimRow(process.pid);
    this.policyKind = options.policy ?? 'round-robin';
    this.policy = policyFor<Upstream>([], this.policyKind, this.zone);
  }

  /** The members a handed-over zone already holds, by id: they keep their slots. */
  adopt(slots: Record<string, number>): void {
    this.adopted = new Map(Object.entries(slots));
  }

  /** Every member's slot, by id (what a handover carries). */
  slots(): Record<string, number> {
    return Object.fromEntries(this.members.map((u) => [u.id, u.slot]));
  }

  /** Called after any change that may have made an upstream available (waiting requests retry). */
  onAvailability(listener: () => void): void {
    this.availabilityListeners = [...this.availabilityListeners, listener];
  }

  /** PM2 says the process behind it is online again: one good check brings it back. */
  rejoinOnNextCheck(upstream: Upstream): void {
    if (upstream.health.status === 'down') upstream.rejoinOnNextCheck = true;
  }

  /** The selection policy in use (round-robin, weighted when weights differ, or least-request). */
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
  setMembers(specs: readonly (UpstreamSpec | SlottedSpec)[], source: string, initial = false): void {
    const now = this.clock();
    const next: Upstream[] = [];
    const added: Upstream[] = [];
    let reshaped = specs.length !== this.members.length;
    for (const spec of specs) {
      let upstream = this.byId.get(spec.id);
      if (upstream === undefined) {
        const slot = this.slotFor(spec);
        if (slot === -1) {
          this.logger.error(
            `${spec.name} (${spec.id}) left out: the pool holds at most ${MAX_SLOTS} upstreams`,
            {
              event: 'pool-full',
              id: spec.id,
            },
          );
          continue;
        }
        upstream = new Upstream(spec, this.thresholds, now, this.zone, slot, this.row);
        this.byId.set(spec.id, upstream);
        added.push(upstream);
        const decided = this.pending.get(upstream.name);
        if (decided !== undefined && this.replica === undefined) {
          this.pending.delete(upstream.name);
          this.apply(upstream, decided);
        }
      } else if ((spec.weight ?? 1) !== upstream.specWeight) {
        upstream.specWeight = spec.weight ?? 1;
        reshaped = true;
        if (this.replica === undefined) upstream.refresh();
      }
      upstream.pm2 = spec.pm2 ?? null;
      upstream.origin = spec.origin ?? { source: originOf(source), host: null };
      if (this.members[next.length] !== upstream) reshaped = true;
      next.push(upstream);
    }
    const gone = this.members.filter((u) => !next.includes(u));
    this.members = next;
    if (reshaped) this.policy = policyFor(next, this.policyKind, this.zone);
    for (const upstream of gone) {
      upstream.removed = true;
      this.byId.delete(upstream.id);
      if (this.replica === undefined) this.zone.vacate(upstream.slot);
      // An operator's decision outlives the member: it holds again when the member comes back.
      if (upstream.admin !== 'ready' || upstream.adminWeight !== null) {
        this.pending.set(upstream.name, { admin: upstream.admin, weight: upstream.adminWeight });
      }
      this.change(upstream, upstream.health.status, 'absent', `removed by ${source} discovery`, 'warn', now);
    }
    for (const upstream of added) {
      if (this.replica === undefined) upstream.refresh();
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
    if (this.replica !== undefined) {
      this.zone.markDown(upstream.slot);
      this.replica.onTakeOut(upstream, reason);
      return;
    }
    upstream.rejoinOnNextCheck = false;
    const flip = upstream.health.forceDown(this.clock());
    if (flip !== undefined) this.flipped(upstream, flip, reason);
  }

  /**
   * An operator's decision (HAProxy's `set server state`, `set weight`), one log line and one
   * event; `by` says who asked. Returns what changed, in words (empty when nothing did).
   */
  decide(upstream: Upstream, decision: AdminDecision, by: string): string {
    const change = this.apply(upstream, decision);
    if (change === '') return change;
    this.logger.info(`${upstream.name}: ${change} (${by})`, {
      event: 'admin-change',
      id: upstream.id,
      upstream: upstream.name,
      admin: upstream.admin,
      weight: upstream.weight,
      by,
    });
    this.events.adminChanged({
      id: upstream.id,
      name: upstream.name,
      admin: upstream.admin,
      weight: upstream.weight,
      change,
      by,
      at: this.clock(),
    });
    return change;
  }

  /**
   * Decisions by name: applied to the members there are, kept for those not (yet) in the pool (a
   * state file read at start, etcd's decisions). Back to ready at discovery's weight, nothing is kept.
   */
  decideLater(byName: Record<string, AdminDecision>, by = 'state file'): void {
    for (const [name, decision] of Object.entries(byName)) {
      const member = this.members.find((u) => u.name === name);
      if (member !== undefined) this.decide(member, decision, by);
      else if (decision.admin === 'ready' && decision.weight === null) this.pending.delete(name);
      else this.pending.set(name, decision);
    }
  }

  /** Every decision an operator made that is in force, by name (what the state file keeps). */
  decisions(): Record<string, AdminDecision> {
    const out: Record<string, AdminDecision> = Object.fromEntries(this.pending);
    for (const u of this.members) {
      if (u.admin !== 'ready' || u.adminWeight !== null)
        out[u.name] = { admin: u.admin, weight: u.adminWeight };
    }
    return out;
  }

  private apply(upstream: Upstream, decision: AdminDecision): string {
    const changes: string[] = [];
    const { admin, weight } = decision;
    if (admin !== undefined && admin !== upstream.admin) {
      changes.push(`${upstream.admin} -> ${admin}`);
      const leavingMaint = upstream.admin === 'maint';
      upstream.admin = admin;
      // Its checks stopped in maint: it is down until one passes again.
      if (leavingMaint) {
        upstream.health.forceDown(this.clock());
        upstream.rejoinOnNextCheck = true;
      }
    }
    if (weight !== undefined && weight !== upstream.adminWeight) {
      const before = upstream.adminWeight ?? upstream.specWeight;
      upstream.adminWeight = weight;
      const after = weight ?? upstream.specWeight;
      if (after !== before) changes.push(`weight ${before} -> ${after}`);
    }
    upstream.refresh();
    this.availabilityMayHaveChanged();
    return changes.join(', ');
  }

  /** A member's slot: the primary's word (a worker), the handed-over one, or the first idle one. */
  private slotFor(spec: UpstreamSpec | SlottedSpec): number {
    if (isSlotted(spec)) return spec.slot;
    const adopted = this.adopted.get(spec.id);
    if (adopted !== undefined) {
      this.adopted.delete(spec.id);
      return adopted;
    }
    const taken = new Set([...this.byId.values()].map((u) => u.slot));
    for (const slot of this.adopted.values()) taken.add(slot);
    for (let slot = 0; slot < MAX_SLOTS; slot++) {
      if (!taken.has(slot) && this.zone.idle(slot)) return slot;
    }
    return -1;
  }

  /** The primary says one may have become available (a worker's copy: waiting requests retry). */
  wake(): void {
    this.availabilityMayHaveChanged();
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
    // Only the owner writes decisions to the zone; a worker's copy reads them.
    if (this.replica === undefined) upstream.refresh();
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

function isSlotted(spec: UpstreamSpec | SlottedSpec): spec is SlottedSpec {
  return 'slot' in spec && Number.isInteger(spec.slot);
}

function originOf(source: string): DiscoveryKind {
  return source === 'pm2' || source === 'etcd' ? source : 'static';
}
