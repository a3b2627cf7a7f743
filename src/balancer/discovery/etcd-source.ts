/**
 * The balancer's etcd discovery source (`--discovery etcd`): the pool is every key under
 * `<prefix>/pools/<pool>/`, as the registrars on each host write them (etcd-keys.ts). It reads the
 * prefix once, then watches it from the revision it read, so no change between the two is lost.
 *
 * A key in etcd means "known", not "healthy": the balancer's health checks still decide rotation.
 * When etcd cannot be reached the pool stays as last known and keeps being checked; one warning,
 * one line when it is back, and the watch resumes after the last revision it saw (the client
 * replays what happened meanwhile). The state is on the status page.
 */
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { createEtcdClient, watchPrefix, type Etcd3, type Watcher } from './etcd-client.js';
import { poolPrefix } from './etcd-keys.js';
import { EtcdPoolView, type ViewUpdate } from './etcd-pool-view.js';
import type { DiscoveryEvent, DiscoverySource, DiscoveryState, UpstreamSpec } from './types.js';

export interface EtcdDiscoveryOptions {
  endpoints: readonly string[];
  prefix: string;
  pool: string;
  logger: Logger;
  /** Deadline of one read, and the pause between retries while etcd is away. */
  callTimeoutMs: number;
  keepaliveMs: number;
}

const RETRY_MS = 1000;

class EtcdDiscovery implements DiscoverySource {
  readonly kind = 'etcd' as const;
  private readonly client: Etcd3;
  private readonly view: EtcdPoolView;
  private readonly base: string;
  private listener: ((event: DiscoveryEvent) => void) | null = null;
  private watcher: Watcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private connected = false;
  private since = Date.now();
  private lastError: string | null = null;
  /** When etcd became unreachable (for the "back after" line); null while connected. */
  private downSince: number | null = null;
  /** The problem last logged per refused key, so a key is reported once, not on every read. */
  private readonly refusedKeys = new Map<string, string>();

  constructor(private readonly options: EtcdDiscoveryOptions) {
    this.client = createEtcdClient(options);
    this.view = new EtcdPoolView(options.prefix, options.pool);
    this.base = poolPrefix(options.prefix, options.pool);
  }

  async start(listener: (event: DiscoveryEvent) => void): Promise<UpstreamSpec[]> {
    // An unreachable etcd at start-up is not fatal: the pool starts empty and fills when it answers.
    const ok = await this.sync();
    this.listener = listener;
    if (!ok) this.retryLater();
    return this.view.snapshot();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listener = null;
    if (this.timer !== null) clearTimeout(this.timer);
    const watcher = this.watcher;
    this.watcher = null;
    await watcher?.cancel().catch(() => undefined);
    this.client.close();
  }

  state(): DiscoveryState {
    return {
      kind: 'etcd',
      connected: this.connected,
      lastRevision: this.view.revision === 0 ? null : this.view.revision,
      lastError: this.lastError,
      since: this.since,
      endpoints: [...this.options.endpoints],
    };
  }

  /** Read the whole prefix and watch from the revision after it; false when etcd did not answer. */
  private async sync(): Promise<boolean> {
    try {
      const response = await this.client.getAll().prefix(this.base).exec();
      if (this.stopped) return true;
      const revision = Number(response.header.revision);
      const kvs = response.kvs.map((kv) => ({ key: kv.key.toString(), value: kv.value.toString() }));
      this.apply(this.view.replace(kvs, revision));
      await this.watchFrom(revision + 1);
      this.markUp();
      return true;
    } catch (err) {
      this.markDown(errorMessage(err));
      return false;
    }
  }

  private async watchFrom(revision: number): Promise<void> {
    const previous = this.watcher;
    this.watcher = null;
    await previous?.cancel().catch(() => undefined);
    const watcher = await watchPrefix(
      this.client,
      this.base,
      revision,
      {
        put: (key, value, rev) => this.apply(this.view.put(key, value, rev)),
        delete: (key, rev) => this.apply(this.view.delete(key, rev)),
        progress: (rev) => (this.view.revision = Math.max(this.view.revision, rev)),
        down: (why) => this.markDown(why),
        up: () => this.markUp(),
        cancelled: (why) => {
          this.markDown(`the watch was cancelled: ${why}`);
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
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.sync().then((ok) => {
        if (!ok) this.retryLater();
      });
    }, RETRY_MS);
    this.timer.unref();
  }

  private apply(update: ViewUpdate): void {
    for (const { key, problem } of update.refused) {
      if (this.refusedKeys.get(key) === problem) continue;
      this.refusedKeys.set(key, problem);
      this.options.logger.warn(`etcd key ${key} refused: ${problem}; it is not a pool member`, {
        event: 'etcd-key-refused',
        key,
        problem,
      });
    }
    if (update.changed) this.listener?.({ type: 'members', members: this.view.snapshot() });
  }

  private markDown(reason: string): void {
    if (this.stopped) return;
    this.lastError = reason;
    if (this.downSince !== null) {
      this.options.logger.debug(`etcd still unreachable: ${reason}`, { event: 'etcd-retry', reason });
      return;
    }
    this.downSince = Date.now();
    this.connected = false;
    this.since = this.downSince;
    const members = this.view.snapshot();
    this.options.logger.warn(
      `etcd unreachable (${reason}); keeping the last known pool of ${members.length} with health checks, ` +
        `resuming after revision ${this.view.revision} when it answers`,
      { event: 'etcd-unreachable', reason, revision: this.view.revision },
    );
  }

  private markUp(): void {
    if (this.connected) return;
    const now = Date.now();
    const wasDown = this.downSince;
    this.connected = true;
    this.downSince = null;
    this.since = now;
    if (wasDown === null) return;
    this.options.logger.info(
      `etcd reachable again after ${((now - wasDown) / 1000).toFixed(1)}s; pool ${this.options.pool} has ` +
        `${this.view.snapshot().length} member(s) at revision ${this.view.revision}`,
      { event: 'etcd-reachable', revision: this.view.revision },
    );
  }
}

export function createEtcdDiscovery(options: EtcdDiscoveryOptions): DiscoverySource {
  return new EtcdDiscovery(options);
}
