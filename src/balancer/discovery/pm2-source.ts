/**
 * The balancer's PM2 discovery source (`--discovery pm2`): the pool is every PM2 app whose env has
 * `LB_POOL=<pool>`, with its PM2 state. The state machine is pool-tracker.ts; this file is the I/O:
 *
 * - PM2's bus, for at-once reactions: a member's `process:event` exit/stop/delete/restart overlimit,
 *   or its own 'stopping' notice (stopping-notice.ts), takes it out of rotation; `online` has it
 *   health-checked at once.
 * - `pm2 list` every `reconcileMs`, in case an event was missed (and for memory/cpu/uptime), read
 *   on a worker thread (pm2-list-thread.ts) so decoding PM2's answer never stalls the request path.
 * - When the daemon is unreachable (killed, restarting, never started), the last known pool stays as
 *   it is and the balancer's own health checks carry on. One warning, quiet retries (never launching
 *   a daemon), one line when it is back.
 */
import type { DiscoveryEvent, DiscoverySource, UpstreamSpec } from './types.js';
import type { Logger } from '../../logger.js';
import { errorMessage } from '../../errors.js';
import { currentPm2Home, currentPm2Id } from '../../supervisor/config.js';
import { Pm2Client } from '../../supervisor/pm2-client.js';
import { Pm2ListThread } from './pm2-list-thread.js';
import { PoolTracker } from './pool-tracker.js';

export interface Pm2DiscoveryOptions {
  /** Pool name, matched against each app's `LB_POOL`. */
  pool: string;
  /** Host the members are reached at (127.0.0.1). */
  host: string;
  /** How often to reconcile with `pm2 list`, and to retry while the daemon is away. */
  reconcileMs: number;
  logger: Logger;
  /** Default: this process's PM2_HOME (inherited from PM2 when the balancer runs under it). */
  pm2Home?: string;
  /** Default: this process's pm_id, so a balancer under PM2 never lists itself. */
  selfPmId?: number | null;
  /** Deadline of one PM2 call (default: reconcileMs, between 1 and 5 s). */
  callTimeoutMs?: number;
}

function describePool(members: readonly UpstreamSpec[]): string {
  if (members.length === 0) return 'an empty pool';
  return `the last known pool of ${members.length} (${members.map((m) => m.name).join(', ')})`;
}

class Pm2Discovery implements DiscoverySource {
  readonly kind = 'pm2' as const;
  private readonly options: Required<Omit<Pm2DiscoveryOptions, 'selfPmId'>>;
  private readonly tracker: PoolTracker;
  private listener: ((event: DiscoveryEvent) => void) | null = null;
  private client: Pm2Client | null = null;
  private connecting: Promise<Pm2Client | null> | null = null;
  private reconciling: Promise<void> | null = null;
  private reconcileAgain = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Set while the daemon is unreachable: when it went away (for the "back after" line). */
  private downSince: number | null = null;
  private readonly warnedIgnored = new Set<string>();
  private readonly lister: Pm2ListThread;

  constructor(options: Pm2DiscoveryOptions) {
    this.options = {
      pool: options.pool,
      host: options.host,
      reconcileMs: options.reconcileMs,
      logger: options.logger,
      pm2Home: options.pm2Home ?? currentPm2Home(),
      callTimeoutMs: options.callTimeoutMs ?? Math.min(5000, Math.max(1000, options.reconcileMs)),
    };
    this.lister = new Pm2ListThread(
      { pm2Home: this.options.pm2Home, timeoutMs: this.options.callTimeoutMs },
      async () => {
        const client = await this.connect();
        if (client === null) throw new Error('the PM2 daemon is unreachable');
        return client.list();
      },
    );
    this.tracker = new PoolTracker({
      pool: options.pool,
      host: options.host,
      selfPmId: options.selfPmId === undefined ? currentPm2Id() : options.selfPmId,
    });
  }

  async start(listener: (event: DiscoveryEvent) => void): Promise<UpstreamSpec[]> {
    await this.reconcile();
    const first = this.tracker.snapshot();
    // Events are delivered from here on; the first membership is the return value.
    this.listener = listener;
    this.schedule();
    return first;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listener = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.lister.close();
    const client = this.client;
    this.client = null;
    await client?.disconnect();
  }

  private emit(events: readonly DiscoveryEvent[]): void {
    for (const event of events) this.listener?.(event);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.reconcile().finally(() => this.schedule());
    }, this.options.reconcileMs);
    // The balancer's servers keep the process alive; this timer must not.
    this.timer.unref();
  }

  /** `pm2 list` and apply it; runs one at a time, and once more if asked for meanwhile. */
  private reconcile(): Promise<void> {
    if (this.reconciling !== null) {
      this.reconcileAgain = true;
      return this.reconciling;
    }
    this.reconciling = (async () => {
      do {
        this.reconcileAgain = false;
        const client = await this.connect();
        if (client === null || this.stopped) return;
        const requestedAt = this.tracker.sequence;
        try {
          const apps = await this.lister.list();
          if (this.stopped) return;
          this.emit(this.tracker.applyList(apps, requestedAt));
          this.warnAboutIgnoredApps();
          this.markUp();
        } catch (err) {
          this.markDown(errorMessage(err));
        }
      } while (this.reconcileAgain && !this.stopped);
    })().finally(() => {
      this.reconciling = null;
    });
    return this.reconciling;
  }

  /** The connected client, connecting (never launching a daemon) if needed; null while it is down. */
  private connect(): Promise<Pm2Client | null> {
    if (this.client !== null) return Promise.resolve(this.client);
    this.connecting ??= this.openClient().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async openClient(): Promise<Pm2Client | null> {
    let client: Pm2Client | null = null;
    try {
      client = await Pm2Client.connect({
        pm2Home: this.options.pm2Home,
        launchDaemon: false,
        timeoutMs: this.options.callTimeoutMs,
      });
      const bus = await client.launchBus();
      const current = client;
      // Ignore a session that was replaced (after a loss) or closed.
      const live = () => this.client === current && !this.stopped;
      bus.onProcessEvent((event) => {
        if (!live()) return;
        this.options.logger.debug(`pm2 event: ${event.name} ${event.event} (${event.status ?? '?'})`, {
          event: 'pm2-event',
          app: event.name,
          pm2Event: event.event,
          status: event.status,
        });
        const update = this.tracker.applyEvent(event);
        this.emit(update.events);
        if (update.reconcile) void this.reconcile();
      });
      bus.onProcessMessage((message) => {
        if (live()) this.emit(this.tracker.applyMessage(message));
      });
      bus.onDaemonKill(() => {
        if (live()) this.lose('the daemon is being killed');
      });
      bus.onConnection((state) => {
        if (live() && state === 'lost') this.lose('lost the connection to its event bus');
      });
      if (this.stopped) {
        await client.disconnect();
        return null;
      }
      this.client = client;
      return client;
    } catch (err) {
      await client?.disconnect();
      this.markDown(errorMessage(err));
      return null;
    }
  }

  /** Drop the session; the reconcile timer reconnects when the daemon is back. */
  private lose(reason: string): void {
    const client = this.client;
    this.client = null;
    void client?.disconnect();
    this.markDown(reason);
  }

  private markDown(reason: string): void {
    if (this.stopped) return;
    if (this.downSince !== null) {
      this.options.logger.debug(`PM2 daemon still unreachable: ${reason}`, { event: 'pm2-retry', reason });
      return;
    }
    this.downSince = Date.now();
    this.options.logger.warn(
      `PM2 daemon unreachable (${reason}); keeping ${describePool(this.tracker.snapshot())} ` +
        `with health checks, retrying every ${this.options.reconcileMs} ms (PM2_HOME ${this.options.pm2Home})`,
      { event: 'pm2-unreachable', reason, pm2Home: this.options.pm2Home },
    );
  }

  private markUp(): void {
    if (this.downSince === null) return;
    const seconds = ((Date.now() - this.downSince) / 1000).toFixed(1);
    this.downSince = null;
    const members = this.tracker.snapshot();
    this.options.logger.info(
      `PM2 daemon reachable again after ${seconds}s; pool ${this.options.pool} has ${members.length} app(s)` +
        (members.length > 0 ? `: ${members.map((m) => m.name).join(', ')}` : ''),
      { event: 'pm2-reachable', pool: this.options.pool, members: members.map((m) => m.name) },
    );
  }

  private warnAboutIgnoredApps(): void {
    for (const [name, problem] of this.tracker.ignoredApps()) {
      if (this.warnedIgnored.has(name)) continue;
      this.warnedIgnored.add(name);
      this.options.logger.warn(
        `PM2 app ${name} is in pool ${this.options.pool} but ${problem}; ignoring it`,
        {
          event: 'pm2-app-ignored',
          app: name,
        },
      );
    }
  }
}

/** The PM2 discovery source the balancer loads with `await import(...)`. */
export function createPm2Discovery(options: Pm2DiscoveryOptions): DiscoverySource {
  return new Pm2Discovery(options);
}
