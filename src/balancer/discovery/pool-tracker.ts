/**
 * The PM2 discovery's state machine, pure: it turns `pm2 list` snapshots and bus events into the
 * balancer's DiscoveryEvents. No sockets, no timers; the I/O lives in pm2-source.ts.
 *
 * Membership: every PM2 app whose environment has `LB_POOL=<pool>` and a valid `PORT`, at
 * `<host>:<PORT>`, named after the app, whatever its status (a stopped member stays listed with its
 * PM2 state, and the balancer's health checks keep it out of rotation). Two kinds of app never
 * count: the process doing the discovery, and any other load balancer (an app that sets
 * `DISCOVERY`), so a balancer that shares the pool's name in its own env is not its own upstream.
 *
 * Rotation hints: the tracker remembers, per member, whether it last told the balancer the app was
 * up. PM2 going from online to anything else gives one 'leaving'; back to online gives one 'online'.
 *
 * Processes, not names: a member is one PM2 process (its pm_id). A second process of the same app
 * on the same port (`pm2 scale` of a fork-mode app) cannot listen there, so it is no second
 * upstream, and what happens to it (it fails to start, exits, is deleted) says nothing about the
 * member: its events are ignored, and it is reported once. Should the member's own process go,
 * the next `pm2 list` hands the member to the other one.
 */
import type { DiscoveryEvent, Pm2ProcessState, UpstreamSpec } from './types.js';
import type { Pm2App, Pm2ProcessEvent, Pm2ProcessMessage } from '../../supervisor/pm2-app.js';
import { isStoppingNotice } from '../../http/stopping-notice.js';

export interface PoolTrackerOptions {
  /** The pool's name, matched against each app's `LB_POOL`. */
  pool: string;
  /** Host the members are reached at (PM2 apps run on this machine). */
  host: string;
  /** pm_id of the process doing the discovery, when PM2 runs it. */
  selfPmId: number | null;
}

/** What one input changed: events for the balancer, and whether a fresh `pm2 list` would help. */
export interface TrackerUpdate {
  events: DiscoveryEvent[];
  /** The app set may have changed (an app started or was deleted): reconcile now. */
  reconcile: boolean;
}

interface Tracked {
  spec: UpstreamSpec;
  /** The PM2 process behind the member; events of other processes of the same app are not its own. */
  pmId: number;
  /** What the balancer was last told: true after 'online' (or first seen online), false after 'leaving'. */
  up: boolean;
  /** Sequence number of the last bus event about this app. */
  lastEventSeq: number;
}

/** Bus events after which the app's port is closing or closed. */
const LEAVING_REASONS: Readonly<Record<string, (e: Pm2ProcessEvent) => string>> = {
  exit: (e) => (e.status === 'stopping' ? 'pm2 stopping' : 'pm2 exit'),
  stop: () => 'pm2 stopped',
  stopping: () => 'pm2 stopping',
  delete: () => 'pm2 deleted',
  'restart overlimit': () => 'pm2 errored (too many unstable restarts)',
};

/** Bus events after which the set of apps may differ from the last `pm2 list`. */
const MEMBERSHIP_EVENTS = new Set(['start', 'delete', 'restart overlimit']);

/** The only entries of an app's environment membership reads (the rest need not be carried). */
export const MEMBERSHIP_ENV_KEYS = ['LB_POOL', 'DISCOVERY', 'PORT'] as const;

function validPort(raw: string | undefined): number | null {
  if (raw === undefined || !/^\d+$/.test(raw)) return null;
  const port = Number(raw);
  return port >= 1 && port <= 65535 ? port : null;
}

/** The fields of a snapshot that matter for "did anything change" (not the ever-moving uptime). */
function fingerprint(members: readonly UpstreamSpec[]): string {
  return JSON.stringify(
    members.map((m) => [
      m.id,
      m.name,
      m.pm2?.pmId,
      m.pm2?.status,
      m.pm2?.pid,
      m.pm2?.restarts,
      m.pm2?.memoryBytes,
      m.pm2?.cpuPercent,
    ]),
  );
}

export class PoolTracker {
  private readonly options: PoolTrackerOptions;
  private readonly members = new Map<string, Tracked>();
  private seq = 0;
  private lastFingerprint: string | null = null;
  private readonly problems = new Map<string, string>();
  /** Second processes of a member's app, found by the last `pm2 list`. */
  private duplicates = new Map<string, string>();

  constructor(options: PoolTrackerOptions) {
    this.options = options;
  }

  /** A counter bumped by every bus event; pass its value at the time a `pm2 list` was requested. */
  get sequence(): number {
    return this.seq;
  }

  /** The membership as the tracker now sees it, ordered by name. */
  snapshot(): UpstreamSpec[] {
    return [...this.members.values()]
      .map((m) => m.spec)
      .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  }

  /** Apps in the pool that cannot be members, by name, with the reason (for one warning each). */
  ignoredApps(): ReadonlyMap<string, string> {
    return new Map([...this.problems, ...this.duplicates]);
  }

  /** Is this app a member (and, if so, where)? Null when it is not in the pool at all. */
  private place(name: string, pmId: number | null, env: Readonly<Record<string, string>>) {
    if (env.LB_POOL !== this.options.pool) return null;
    if (pmId !== null && pmId === this.options.selfPmId) return null;
    if (env.DISCOVERY !== undefined) return null;
    const port = validPort(env.PORT);
    if (port === null) {
      this.problems.set(name, `its PORT (${env.PORT ?? 'unset'}) is not a port`);
      return null;
    }
    this.problems.delete(name);
    return { id: `${this.options.host}:${port}`, port };
  }

  private membersEventIfChanged(): DiscoveryEvent[] {
    const members = this.snapshot();
    const print = fingerprint(members);
    if (print === this.lastFingerprint) return [];
    this.lastFingerprint = print;
    return [{ type: 'members', members }];
  }

  /**
   * A fresh `pm2 list`. `requestedAtSeq` is `sequence` when the list was asked for: a member with a
   * bus event since then keeps its event-driven state, because the list may predate the event.
   */
  applyList(apps: readonly Pm2App[], requestedAtSeq: number): DiscoveryEvent[] {
    const hints: DiscoveryEvent[] = [];
    const seen = new Set<string>();
    for (const app of this.ownersOf(apps)) {
      const place = this.place(app.name, app.pmId, app.env);
      if (place === null) continue;
      seen.add(app.name);
      const pm2: Pm2ProcessState = {
        pmId: app.pmId,
        status: app.status,
        pid: app.pid,
        restarts: app.restarts,
        uptimeMs: app.uptimeMs,
        memoryBytes: app.memoryBytes,
        cpuPercent: app.cpuPercent,
      };
      const spec: UpstreamSpec = {
        id: place.id,
        name: app.name,
        host: this.options.host,
        port: place.port,
        pm2,
      };
      const online = app.status === 'online';
      const known = this.members.get(app.name);
      if (known === undefined || known.spec.id !== place.id || known.pmId !== app.pmId) {
        if (known !== undefined && known.up && !online) {
          hints.push({
            type: 'leaving',
            id: place.id,
            reason: `pm2 ${app.status} (pm_id ${app.pmId} took over)`,
          });
        } else if (known !== undefined && !known.up && online) {
          hints.push({ type: 'online', id: place.id, reason: `pm2 online (pm_id ${app.pmId} took over)` });
        }
        this.members.set(app.name, { spec, pmId: app.pmId, up: online, lastEventSeq: 0 });
        continue;
      }
      if (known.lastEventSeq > requestedAtSeq) continue;
      known.spec = spec;
      if (known.up && !online) {
        known.up = false;
        hints.push({ type: 'leaving', id: place.id, reason: `pm2 ${app.status}` });
      } else if (!known.up && online) {
        known.up = true;
        hints.push({ type: 'online', id: place.id, reason: 'pm2 online' });
      }
    }
    for (const name of [...this.members.keys()]) {
      if (!seen.has(name)) this.members.delete(name);
    }
    for (const name of [...this.problems.keys()]) {
      if (!apps.some((a) => a.name === name)) this.problems.delete(name);
    }
    return [...this.membersEventIfChanged(), ...hints];
  }

  /**
   * One process per app name: the one already behind the member while PM2 still lists it, else an
   * online one, else the lowest pm_id. The others are reported as duplicates.
   */
  private ownersOf(apps: readonly Pm2App[]): Pm2App[] {
    const byName = new Map<string, Pm2App[]>();
    for (const app of apps) byName.set(app.name, [...(byName.get(app.name) ?? []), app]);
    const owners: Pm2App[] = [];
    this.duplicates = new Map();
    for (const [name, processes] of byName) {
      const current = this.members.get(name)?.pmId;
      const sorted = [...processes].sort((a, b) => a.pmId - b.pmId);
      const owner =
        sorted.find((p) => p.pmId === current) ?? sorted.find((p) => p.status === 'online') ?? sorted[0];
      if (owner === undefined) continue;
      owners.push(owner);
      const others = sorted.filter((p) => p !== owner);
      if (others.length > 0 && this.place(name, owner.pmId, owner.env) !== null) {
        this.duplicates.set(
          `${name} (pm_id ${others.map((p) => p.pmId).join(', ')})`,
          `is a second process on the port of pm_id ${owner.pmId}: one port is one upstream (pm2 scale of a fork-mode app is not supported; npx pm2 scale ${name} 1)`,
        );
      }
    }
    return owners;
  }

  /** A bus event or message of a process that is not the member's own (a duplicate): not ours. */
  private notOurs(known: Tracked, pmId: number | null): boolean {
    return pmId !== null && known.pmId >= 0 && pmId !== known.pmId;
  }

  /** A `process:event` from PM2's bus. */
  applyEvent(event: Pm2ProcessEvent): TrackerUpdate {
    this.seq++;
    const reconcile = MEMBERSHIP_EVENTS.has(event.event);
    let known = this.members.get(event.name);
    const events: DiscoveryEvent[] = [];

    if (known === undefined) {
      // A new app of the pool (a fifth backend, a restarted daemon): its packet says where it listens.
      if (event.event !== 'online' && event.event !== 'start') return { events, reconcile };
      const place = this.place(event.name, event.pmId, event.env);
      if (place === null) return { events, reconcile };
      known = {
        spec: { id: place.id, name: event.name, host: this.options.host, port: place.port },
        pmId: event.pmId ?? -1,
        up: false,
        lastEventSeq: this.seq,
      };
      this.members.set(event.name, known);
      this.updateState(known, event);
      events.push(...this.membersEventIfChanged());
      if (event.event === 'online') {
        known.up = true;
        events.push({ type: 'online', id: known.spec.id, reason: 'pm2 online' });
      }
      return { events, reconcile: true };
    }

    if (this.notOurs(known, event.pmId)) return { events, reconcile: true };
    known.lastEventSeq = this.seq;
    const leaving = LEAVING_REASONS[event.event];
    if (leaving !== undefined) {
      this.updateState(known, event);
      events.push(...this.membersEventIfChanged());
      if (known.up) {
        known.up = false;
        events.push({ type: 'leaving', id: known.spec.id, reason: leaving(event) });
      }
    } else if (event.event === 'online') {
      // PM2 flips the status to online just after announcing it.
      this.updateState(known, { ...event, status: 'online' });
      events.push(...this.membersEventIfChanged());
      if (!known.up) {
        known.up = true;
        events.push({ type: 'online', id: known.spec.id, reason: 'pm2 online' });
      }
    }
    return { events, reconcile };
  }

  /**
   * A `process:msg` from PM2's bus. A member that announces it is stopping (see stopping-notice.ts)
   * leaves at once: PM2 itself says nothing until the process has exited and its port is closed.
   */
  applyMessage(message: Pm2ProcessMessage): DiscoveryEvent[] {
    if (!isStoppingNotice(message.data)) return [];
    const known = this.members.get(message.name);
    if (known === undefined || this.notOurs(known, message.pmId)) return [];
    this.seq++;
    known.lastEventSeq = this.seq;
    if (known.spec.pm2 !== undefined)
      known.spec = { ...known.spec, pm2: { ...known.spec.pm2, status: 'stopping' } };
    const events = this.membersEventIfChanged();
    if (known.up) {
      known.up = false;
      events.push({ type: 'leaving', id: known.spec.id, reason: 'pm2 stopping' });
    }
    return events;
  }

  /**
   * Take the status and restart count from a bus event. The pid, uptime, memory and cpu belong to
   * the process that was running before a status change, so they are cleared until the next list.
   */
  private updateState(known: Tracked, event: Pm2ProcessEvent): void {
    const previous = known.spec.pm2;
    const status = event.status ?? previous?.status ?? 'unknown';
    const same = previous !== undefined && previous.status === status;
    known.spec = {
      ...known.spec,
      pm2: {
        pmId: event.pmId ?? previous?.pmId ?? -1,
        status,
        pid: same ? previous.pid : null,
        restarts: event.restarts ?? previous?.restarts ?? 0,
        uptimeMs: same ? previous.uptimeMs : null,
        memoryBytes: same ? previous.memoryBytes : 0,
        cpuPercent: same ? previous.cpuPercent : 0,
      },
    };
  }
}
