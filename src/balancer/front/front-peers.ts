/**
 * The front balancers meeting in etcd (only with etcd discovery, on the etcd the pool comes from):
 * this front's record (front-record.ts) under a lease of 3 s, written again on every VRRP change and
 * every second, and a watch of `<prefix>/fronts/` for the others. A front that stops revokes its
 * lease, so its key goes at once; one that dies or is cut off loses it when the lease runs out. A
 * peer whose key went is kept with its last record (present: false), so "last contact" still says
 * when it was last heard from.
 *
 * etcd away is not fatal: one warning, writes go on being tried every second, the watch resumes,
 * and the peers stay as last known.
 */
import type { EtcdSettings } from '../../config/etcd-options.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import {
  createEtcdClient,
  watchPrefix,
  type Etcd3,
  type Lease,
  type Watcher,
} from '../discovery/etcd-client.js';
import { decodeFront, encodeFront, frontKey, frontsPrefix, type FrontRecord } from './front-record.js';
import type { PeerFront } from './split-brain.js';

/** A dead front's key goes this long after its last keep-alive. */
export const FRONT_LEASE_TTL_S = 3;
const RETRY_MS = 1000;

export interface FrontPeersOptions {
  etcd: EtcdSettings;
  name: string;
  logger: Logger;
  /** This front's record as it is now (`at` is the time of asking). */
  record(): FrontRecord;
  /** A peer appeared, changed or left. */
  onPeers(): void;
}

export class FrontPeers {
  readonly peers = new Map<string, PeerFront>();
  private readonly client: Etcd3;
  private readonly base: string;
  private readonly key: string;
  private lease: Lease | null = null;
  private watcher: Watcher | null = null;
  private writing: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private downSince: number | null = null;
  /** The problem last logged per refused key, so a key is reported once, not on every write. */
  private readonly refused = new Map<string, string>();

  constructor(private readonly options: FrontPeersOptions) {
    this.client = createEtcdClient(options.etcd);
    this.base = frontsPrefix(options.etcd.prefix);
    this.key = frontKey(options.etcd.prefix, options.name);
  }

  /** Write this front's record and start reading the others; neither waits for etcd to answer. */
  start(): void {
    this.write();
    void this.sync();
  }

  /** Write the record now (or right after the write in progress). */
  write(): void {
    if (this.stopped) return;
    if (this.writing !== null) {
      this.again = true;
      return;
    }
    this.writing = this.writeLoop().finally(() => {
      this.writing = null;
    });
  }

  /** Revoke the lease (this front's key goes at once for the others) and let go of etcd. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.writing?.catch(() => undefined);
    const watcher = this.watcher;
    this.watcher = null;
    await watcher?.cancel().catch(() => undefined);
    const lease = this.lease;
    this.lease = null;
    await lease?.revoke().catch(() => undefined);
    this.client.close();
  }

  private async writeLoop(): Promise<void> {
    do {
      this.again = false;
      try {
        const lease = await this.ensureLease();
        await lease.put(this.key).value(encodeFront(this.options.record())).exec();
        this.markUp();
      } catch (err) {
        this.markDown(errorMessage(err));
        return;
      }
    } while (this.again && !this.stopped);
  }

  private async ensureLease(): Promise<Lease> {
    if (this.lease !== null) return this.lease;
    const lease = this.client.lease(FRONT_LEASE_TTL_S, { autoKeepAlive: true });
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
      this.markDown(`lost the lease of ${this.key} (${errorMessage(err)})`);
    });
    this.lease = lease;
    return lease;
  }

  /** Read every front's key, then watch from the revision after it. */
  private async sync(): Promise<void> {
    try {
      const response = await this.client.getAll().prefix(this.base).exec();
      if (this.stopped) return;
      const seen = new Set<string>();
      for (const kv of response.kvs) seen.add(this.put(kv.key.toString(), kv.value.toString()) ?? '');
      for (const peer of this.peers.values()) if (!seen.has(peer.name)) this.gone(peer.name);
      this.options.onPeers();
      await this.watchFrom(Number(response.header.revision) + 1);
    } catch (err) {
      this.markDown(errorMessage(err));
      this.retryLater();
    }
  }

  private async watchFrom(revision: number): Promise<void> {
    const watcher = await watchPrefix(
      this.client,
      this.base,
      revision,
      {
        put: (key, value) => {
          this.put(key, value);
          this.options.onPeers();
        },
        delete: (key) => {
          this.gone(key.slice(this.base.length));
          this.options.onPeers();
        },
        cancelled: (why) => {
          this.markDown(`the watch of ${this.base} was cancelled: ${why}`);
          this.watcher = null;
          this.retryLater();
        },
      },
      (w) => this.watcher === w && !this.stopped,
    );
    if (this.stopped) {
      await watcher.cancel().catch(() => undefined);
      return;
    }
    this.watcher = watcher;
  }

  private retryLater(): void {
    if (this.stopped || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.sync();
    }, RETRY_MS);
    this.timer.unref();
  }

  /** One key as read: the peer it names (its name), or undefined when refused or this front's own. */
  private put(key: string, value: string): string | undefined {
    const decoded = decodeFront(this.options.etcd.prefix, key, value);
    const { logger } = this.options;
    if (!decoded.ok) {
      if (this.refused.get(key) !== decoded.problem) {
        this.refused.set(key, decoded.problem);
        logger.warn(`etcd key ${key} refused: ${decoded.problem}; it is not a front`, {
          event: 'front-key-refused',
          key,
          problem: decoded.problem,
        });
      }
      return undefined;
    }
    this.refused.delete(key);
    const record = decoded.record;
    if (record.name === this.options.name) return undefined;
    const before = this.peers.get(record.name);
    this.peers.set(record.name, { ...record, present: true });
    const what = `${record.vrrp}${record.priority === null ? '' : ` (priority ${record.priority})`}`;
    if (before === undefined || !before.present) {
      logger.info(`front ${record.name} seen: ${what} at ${record.address}`, {
        event: 'front-peer',
        peer: record.name,
        vrrp: record.vrrp,
        priority: record.priority,
        address: record.address,
      });
    } else if (before.vrrp !== record.vrrp || before.priority !== record.priority) {
      logger.info(`vrrp: peer ${record.name} is ${what}, was ${before.vrrp}`, {
        event: 'vrrp-peer',
        peer: record.name,
        vrrp: record.vrrp,
        priority: record.priority,
        was: before.vrrp,
      });
    }
    return record.name;
  }

  private gone(name: string): void {
    const peer = this.peers.get(name);
    if (peer === undefined || !peer.present) return;
    peer.present = false;
    this.options.logger.info(
      `front ${name} left: its key is gone (it stopped, or its lease ran out); last heard ${((Date.now() - peer.at) / 1000).toFixed(1)}s ago as ${peer.vrrp}`,
      { event: 'front-peer', peer: name, present: false },
    );
  }

  private markDown(reason: string): void {
    if (this.stopped) return;
    if (this.downSince !== null) {
      this.options.logger.debug(`front: etcd still unreachable: ${reason}`, { event: 'front-etcd-retry' });
      return;
    }
    this.downSince = Date.now();
    this.options.logger.warn(
      `front: etcd unreachable (${reason}); ${this.key} is written again every second, peers stay as last heard`,
      { event: 'front-etcd-unreachable', reason },
    );
  }

  private markUp(): void {
    if (this.downSince === null) return;
    const seconds = ((Date.now() - this.downSince) / 1000).toFixed(1);
    this.downSince = null;
    this.options.logger.info(`front: etcd reachable again after ${seconds}s; ${this.key} written`, {
      event: 'front-etcd-reachable',
    });
  }
}
