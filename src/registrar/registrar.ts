/**
 * The registrar's I/O: the PM2 source (the balancer's own, pointed at this host's daemon) says who
 * is in the pool, desired-keys.ts says what etcd should hold, and this file makes etcd hold it:
 *
 * - every key is written under one lease of `leaseTtlS` seconds, kept alive by the client; a host
 *   that dies (or is cut off) loses its keys when the lease runs out;
 * - writes run one at a time, in a loop that starts again whenever PM2 changes something;
 * - when etcd is away, one warning and a retry every second; when the lease was lost meanwhile, a new
 *   one and every key again;
 * - on stop the lease is revoked, so the host's members leave at once instead of after the TTL.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Etcd3, Lease } from '../balancer/discovery/etcd-client.js';
import type { DiscoveryEvent, DiscoverySource, UpstreamSpec } from '../balancer/discovery/types.js';
import { desiredKeys, type DesiredKey, type KeyScope } from './desired-keys.js';

export interface RegistrarOptions extends KeyScope {
  client: Etcd3;
  /** This host's PM2 pool (createPm2Discovery). */
  source: DiscoverySource;
  leaseTtlS: number;
  logger: Logger;
  retryMs?: number;
}

export class Registrar {
  private members: UpstreamSpec[] = [];
  private readonly leaving = new Set<string>();
  private desired = new Map<string, DesiredKey>();
  /** key -> fingerprint of what etcd holds under the current lease. */
  private readonly written = new Map<string, string>();
  private lease: Lease | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private downSince: number | null = null;
  private saidEmpty = false;

  constructor(private readonly options: RegistrarOptions) {}

  async start(): Promise<void> {
    const first = await this.options.source.start((event) => this.onPool(event));
    this.setMembers(first);
  }

  /** Revoke the lease (every key of this host goes with it) and let go of PM2 and etcd. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.options.source.stop();
    await this.running?.catch(() => undefined);
    const lease = this.lease;
    this.lease = null;
    if (lease !== null) {
      await lease.revoke().then(
        () => this.options.logger.info(`revoked the lease: ${this.written.size} key(s) removed`),
        (err: unknown) => this.options.logger.warn(`could not revoke the lease: ${errorMessage(err)}`),
      );
    }
    this.options.client.close();
  }

  /** The keys etcd holds for this host, as far as the registrar knows. */
  registeredKeys(): string[] {
    return [...this.written.keys()].sort();
  }

  private onPool(event: DiscoveryEvent): void {
    if (event.type === 'members') this.setMembers(event.members);
    else if (event.type === 'leaving') this.leaving.add(event.id);
    else this.leaving.delete(event.id);
    if (event.type !== 'members') this.recompute();
  }

  private setMembers(members: UpstreamSpec[]): void {
    this.members = members;
    for (const id of [...this.leaving]) if (!members.some((m) => m.id === id)) this.leaving.delete(id);
    this.recompute();
  }

  private recompute(): void {
    this.desired = desiredKeys(this.options, this.members, this.leaving);
    if (this.members.length === 0 && !this.saidEmpty) {
      this.saidEmpty = true;
      this.options.logger.warn(
        `no PM2 app has LB_POOL=${this.options.pool}; nothing to register, waiting for one`,
        { event: 'registrar-empty', pool: this.options.pool },
      );
    } else if (this.members.length > 0) {
      this.saidEmpty = false;
    }
    this.kick();
  }

  /** Run the write loop (or once more after the current run). */
  private kick(): void {
    if (this.stopped) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    this.running = this.syncLoop().finally(() => {
      this.running = null;
    });
  }

  private async syncLoop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.syncOnce();
        this.markUp();
      } catch (err) {
        this.markDown(errorMessage(err));
        this.retryLater();
        return;
      }
    } while (this.again && !this.stopped);
  }

  private async ensureLease(): Promise<Lease> {
    if (this.lease !== null) return this.lease;
    const lease = this.options.client.lease(this.options.leaseTtlS, { autoKeepAlive: true });
    // A failed grant leaves an orphan the client keeps retrying; let it go before trying again.
    try {
      await lease.grant();
    } catch (err) {
      lease.release();
      throw err;
    }
    lease.on('lost', (err) => {
      if (this.lease !== lease || this.stopped) return;
      this.lease = null;
      this.written.clear();
      this.markDown(`lost the lease (${errorMessage(err)})`);
      this.retryLater();
    });
    this.lease = lease;
    this.written.clear();
    return lease;
  }

  private async syncOnce(): Promise<void> {
    if (this.desired.size === 0 && this.written.size === 0) return;
    const lease = await this.ensureLease();
    for (const want of [...this.desired.values()]) {
      if (this.stopped) return;
      if (this.written.get(want.key) === want.fingerprint) continue;
      const again = this.written.has(want.key);
      await lease.put(want.key).value(want.value(Date.now())).exec();
      this.written.set(want.key, want.fingerprint);
      this.options.logger.info(
        `${again ? 'updated' : 'registered'} ${want.app} at ${want.address} as ${want.key}`,
        { event: 'registrar-put', key: want.key, app: want.app, address: want.address },
      );
    }
    for (const key of [...this.written.keys()]) {
      if (this.stopped) return;
      if (this.desired.has(key)) continue;
      await this.options.client.delete().key(key).exec();
      this.written.delete(key);
      this.options.logger.info(`unregistered ${key} (no longer online in PM2)`, {
        event: 'registrar-delete',
        key,
      });
    }
  }

  private retryLater(): void {
    if (this.stopped || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, this.options.retryMs ?? 1000);
  }

  private markDown(reason: string): void {
    if (this.stopped) return;
    if (this.downSince !== null) {
      this.options.logger.debug(`etcd still unreachable: ${reason}`, { event: 'etcd-retry' });
      return;
    }
    this.downSince = Date.now();
    this.options.logger.warn(`etcd unreachable (${reason}); retrying every second`, {
      event: 'etcd-unreachable',
      reason,
    });
  }

  private markUp(): void {
    if (this.downSince === null) return;
    const seconds = ((Date.now() - this.downSince) / 1000).toFixed(1);
    this.downSince = null;
    this.options.logger.info(
      `etcd reachable again after ${seconds}s; ${this.written.size} key(s) registered`,
      {
        event: 'etcd-reachable',
      },
    );
  }
}
