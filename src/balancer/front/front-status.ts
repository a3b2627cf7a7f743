/**
 * The `front` part of the status document (`balancer.front`): which VRRP state this front is in,
 * whether it is in split brain, and its peers with their last contact. Null when the balancer is
 * no front (neither --vrrp-state-file nor --front-name). Pure.
 */
import type { PeerFront } from './split-brain.js';
import { stateOf, type VrrpReading, type VrrpState } from './vrrp-state.js';

export interface FrontPeerStatus {
  name: string;
  vrrp: VrrpState;
  priority: number | null;
  vip: string | null;
  /** Its public listener (host:port), as it wrote it. */
  address: string;
  /** Since it last wrote its record (by its clock, at least 0). */
  lastContactMs: number;
  /** Its key is in etcd now; false once it was deleted or its lease ran out (the last record stays). */
  present: boolean;
}

export interface FrontStatus {
  name: string;
  vip: string | null;
  vrrp: VrrpState;
  priority: number | null;
  /** Epoch ms since when it is in this state (the notify hook's time); null while unknown from start. */
  since: number | null;
  splitBrain: boolean;
  /** Epoch ms the split brain began; null when there is none. */
  splitBrainSince: number | null;
  /** --vrrp-state-file; null when not given (the state is then unknown). */
  stateFile: string | null;
  /** Why the state file says nothing usable (missing, unreadable, malformed); null when it reads. */
  stateProblem: string | null;
  /** Peers are read from etcd: only with etcd discovery. */
  peersFromEtcd: boolean;
  peers: FrontPeerStatus[];
}

export interface FrontFacts {
  name: string;
  vip: string | null;
  stateFile: string | null;
  reading: VrrpReading;
  since: number | null;
  splitBrainSince: number | null;
  peersFromEtcd: boolean;
  peers: Iterable<PeerFront>;
}

export function frontStatus(f: FrontFacts, now: number): FrontStatus {
  const { reading } = f;
  return {
    name: f.name,
    vip: f.vip,
    vrrp: stateOf(reading),
    priority: reading.kind === 'state' ? reading.priority : null,
    since: f.since,
    splitBrain: f.splitBrainSince !== null,
    splitBrainSince: f.splitBrainSince,
    stateFile: f.stateFile,
    stateProblem: stateProblem(reading, f.stateFile),
    peersFromEtcd: f.peersFromEtcd,
    peers: [...f.peers]
      .map((p) => ({
        name: p.name,
        vrrp: p.vrrp,
        priority: p.priority,
        vip: p.vip,
        address: p.address,
        lastContactMs: Math.max(0, now - p.at),
        present: p.present,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

function stateProblem(reading: VrrpReading, file: string | null): string | null {
  if (file === null) return 'no --vrrp-state-file';
  if (reading.kind === 'missing') return `${file} does not exist (keepalived has not written it yet)`;
  if (reading.kind === 'bad') return `${file}: ${reading.problem}`;
  return null;
}
