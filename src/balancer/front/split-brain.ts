/**
 * Split brain between front balancers: after a partition heals, two fronts may both claim the
 * virtual IP for a moment, until VRRP's adverts reach each other and the lower priority steps
 * down. This front is in split brain while it is MASTER and a peer with the same virtual IP said
 * MASTER within the last two seconds (a peer rewrites its record every second). Pure: the verdict
 * and the watch that turns verdicts into one line when it begins and one when it is over.
 */
import type { FrontRecord } from './front-record.js';
import type { VrrpState } from './vrrp-state.js';

/** A peer's report counts this long after it was written (two of its rewrites). */
export const SPLIT_BRAIN_WINDOW_MS = 2000;

/** This front, as the verdict needs it. */
export interface SelfFront {
  name: string;
  vrrp: VrrpState;
  priority: number | null;
  vip: string | null;
}

/** A peer's last record, and whether its key is still in etcd. */
export interface PeerFront extends FrontRecord {
  present: boolean;
}

/**
 * The peers that hold this front's address now. Two fronts without --vip are taken to share one
 * address (fronts in one etcd prefix normally do); --vip tells VRRP groups apart.
 */
export function conflictingPeers(
  self: SelfFront,
  peers: Iterable<PeerFront>,
  now: number,
  windowMs = SPLIT_BRAIN_WINDOW_MS,
): PeerFront[] {
  if (self.vrrp !== 'MASTER') return [];
  const found: PeerFront[] = [];
  for (const p of peers) {
    if (p.present && p.vrrp === 'MASTER' && p.vip === self.vip && now - p.at <= windowMs) found.push(p);
  }
  return found;
}

export type SplitBrainChange =
  { kind: 'began'; peers: string[]; message: string } | { kind: 'over'; ms: number; message: string };

/** `f1 and f2`, `f1, f2 and f3`. */
function names(list: readonly string[]): string {
  return list.length <= 1 ? (list[0] ?? '') : `${list.slice(0, -1).join(', ')} and ${list.at(-1) ?? ''}`;
}

/** Which front VRRP leaves the address on: the highest priority; a tie goes by address. */
function verdict(self: SelfFront, peers: readonly PeerFront[]): string {
  const all = [
    { name: self.name, priority: self.priority ?? -1 },
    ...peers.map((p) => ({ name: p.name, priority: p.priority ?? -1 })),
  ];
  const top = Math.max(...all.map((f) => f.priority));
  const winners = all.filter((f) => f.priority === top);
  if (winners.length === 1) return `VRRP keeps it on ${winners[0]?.name ?? ''}, the highest priority`;
  return `equal priorities (${top}): VRRP keeps it on the one with the highest primary IP address`;
}

/** The split brain this front is in, if any: one line when it begins, one when it is over. */
export class SplitBrainWatch {
  /** Epoch ms it began; null when there is none. */
  since: number | null = null;
  private peers: string[] = [];

  observe(now: number, self: SelfFront, peers: ReadonlyMap<string, PeerFront>): SplitBrainChange | null {
    const conflict = conflictingPeers(self, peers.values(), now);
    if (this.since === null) {
      if (conflict.length === 0) return null;
      this.since = now;
      this.peers = conflict.map((p) => p.name);
      const who = names([self.name, ...this.peers]);
      const what = self.vip ?? 'the virtual IP';
      const priorities = [
        `${self.name} priority ${self.priority ?? '?'}`,
        ...conflict.map((p) => `${p.name} priority ${p.priority ?? '?'}`),
      ];
      return {
        kind: 'began',
        peers: this.peers,
        message: `split brain: ${who} ${conflict.length === 1 ? 'both' : 'all'} hold ${what} (${priorities.join(', ')}); ${verdict(self, conflict)}`,
      };
    }
    if (conflict.length > 0) return null;
    const ms = now - this.since;
    const why =
      self.vrrp !== 'MASTER'
        ? `${self.name} is ${self.vrrp}`
        : this.peers.map((name) => peerWhy(peers.get(name), name, self, now)).join(', ');
    this.since = null;
    this.peers = [];
    return { kind: 'over', ms, message: `split brain over after ${(ms / 1000).toFixed(1)}s: ${why}` };
  }
}

/** Why a peer no longer holds this front's address. */
function peerWhy(peer: PeerFront | undefined, name: string, self: SelfFront, now: number): string {
  if (peer === undefined || !peer.present) return `${name} left`;
  if (peer.vrrp !== 'MASTER') return `${name} is ${peer.vrrp}`;
  if (peer.vip !== self.vip) return `${name} now holds ${peer.vip ?? 'no --vip'}`;
  return `${name} not heard from for ${((now - peer.at) / 1000).toFixed(1)}s`;
}
