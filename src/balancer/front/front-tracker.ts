/**
 * A front balancer's view of who holds the virtual IP, in the control plane (the cluster's
 * primary): keepalived's state from its file (vrrp-file.ts), the other fronts from etcd
 * (front-peers.ts), the split-brain watch (split-brain.ts), and the `front` part of the status.
 * Every change is one log line: `vrrp: f1 is MASTER (priority 150), was BACKUP` (event
 * vrrp-state), a split brain an error line when it begins and one when it is over.
 */
import type { EtcdSettings } from '../../config/etcd-options.js';
import type { Logger } from '../../logger.js';
import type { FrontConfig } from './front-options.js';
import { FrontPeers } from './front-peers.js';
import type { FrontRecord } from './front-record.js';
import { frontStatus, type FrontStatus } from './front-status.js';
import { SplitBrainWatch, type PeerFront, type SelfFront } from './split-brain.js';
import { VrrpFileFollower } from './vrrp-file.js';
import { stateOf, vrrpChangeMessage, type VrrpReading } from './vrrp-state.js';

export interface FrontTrackerOptions {
  front: FrontConfig;
  /** The pool's etcd, with etcd discovery: the fronts meet there. Null: no peers. */
  etcd: EtcdSettings | null;
  logger: Logger;
  clock?: () => number;
}

/** How often the split brain is judged again (a peer's report ages) and the record may be rewritten. */
const TICK_MS = 250;
/**
 * The record is written again this long after the last try (on the next tick: every 0.75-1 s), so
 * a peer's `at` is its last contact; an etcd that is away is tried no more often either.
 */
const REWRITE_MS = 750;

const NO_PEERS: ReadonlyMap<string, PeerFront> = new Map();

export class FrontTracker {
  private reading: VrrpReading = { kind: 'missing' };
  /** Since when the state is what it is (the hook's time for a state); null before the first reading. */
  private since: number | null = null;
  private readonly split = new SplitBrainWatch();
  private readonly follower: VrrpFileFollower | null;
  private peers: FrontPeers | null = null;
  private address = '';
  private timer: NodeJS.Timeout | null = null;
  private lastAsked = 0;
  private readonly clock: () => number;

  constructor(private readonly options: FrontTrackerOptions) {
    this.clock = options.clock ?? Date.now;
    const file = options.front.stateFile;
    this.follower =
      file === null ? null : new VrrpFileFollower(file, (after, before) => this.changed(after, before));
  }

  /** Follow the file and, with etcd, meet the other fronts; `address` is this front's public listener. */
  async start(address: string): Promise<void> {
    const { front, etcd, logger } = this.options;
    this.address = address;
    if (this.follower === null) {
      logger.info(`front ${front.name}: no --vrrp-state-file, so its VRRP state is unknown`, {
        event: 'vrrp-state',
        front: front.name,
        vrrp: 'unknown',
      });
    } else {
      await this.follower.start();
    }
    if (etcd !== null) {
      this.peers = new FrontPeers({
        etcd,
        name: front.name,
        logger,
        record: () => this.record(),
        onPeers: () => this.judge(),
      });
      this.lastAsked = this.clock();
      this.peers.start();
    }
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.follower?.stop();
    await this.peers?.stop();
  }

  status(): FrontStatus {
    const { front, etcd } = this.options;
    return frontStatus(
      {
        name: front.name,
        vip: front.vip,
        stateFile: front.stateFile,
        reading: this.reading,
        since: this.since,
        splitBrainSince: this.split.since,
        peersFromEtcd: etcd !== null,
        peers: this.peers?.peers.values() ?? [],
      },
      this.clock(),
    );
  }

  private self(): SelfFront {
    const { front } = this.options;
    const r = this.reading;
    return {
      name: front.name,
      vrrp: stateOf(r),
      priority: r.kind === 'state' ? r.priority : null,
      vip: front.vip,
    };
  }

  private record(): FrontRecord {
    const self = this.self();
    return { ...self, address: this.address, at: this.clock() };
  }

  private changed(after: VrrpReading, before: VrrpReading | null): void {
    const { front, logger } = this.options;
    this.reading = after;
    this.since = after.kind === 'state' ? after.at : this.clock();
    const message = vrrpChangeMessage(front.name, front.stateFile ?? '', before, after);
    const fields = {
      event: 'vrrp-state',
      front: front.name,
      vrrp: stateOf(after),
      priority: after.kind === 'state' ? after.priority : null,
      was: before === null ? null : stateOf(before),
      ...(after.kind === 'bad' ? { file: front.stateFile, problem: after.problem } : {}),
    };
    // A file that is there but says nothing usable is something to fix: a warning.
    if (after.kind === 'bad') logger.warn(message, fields);
    else logger.info(message, fields);
    this.writeRecord();
    this.judge();
  }

  private tick(): void {
    this.judge();
    if (this.clock() - this.lastAsked >= REWRITE_MS) this.writeRecord();
  }

  private writeRecord(): void {
    if (this.peers === null) return;
    this.lastAsked = this.clock();
    this.peers.write();
  }

  /** Judge the split brain again: one line when it begins, one when it is over. */
  private judge(): void {
    const change = this.split.observe(this.clock(), this.self(), this.peers?.peers ?? NO_PEERS);
    if (change === null) return;
    const { front, logger } = this.options;
    if (change.kind === 'began') {
      logger.error(change.message, {
        event: 'split-brain',
        front: front.name,
        vip: front.vip,
        peers: change.peers,
      });
    } else {
      logger.info(change.message, { event: 'split-brain-over', front: front.name, ms: change.ms });
    }
  }
}
