/**
 * The balancer's status as one JSON document (`GET /__lb/status` on the admin listener, and the
 * source the dashboard maps onto its view). Pure: the pool's upstreams and a few facts in, plain
 * data out; nothing here reads a clock or a socket.
 */
import type { DiscoveryKind, DiscoveryState, Pm2ProcessState, UpstreamOrigin } from './discovery/types.js';
import type { FrontStatus } from './front/front-status.js';
import type { HealthStatus } from './health-state.js';
import type { Upstream } from './upstream.js';
import type { AdminState } from './zone.js';

/** Where the admin listener serves this document. */
export const STATUS_PATH = '/__lb/status';

export interface UpstreamStatus {
  id: string;
  name: string;
  /** host:port */
  address: string;
  state: HealthStatus;
  /** Given new requests now (up or unknown, admin ready, weight above 0, and still a member). */
  available: boolean;
  /** What an operator decided: ready, drain (no new requests) or maint (out, no checks). */
  admin: AdminState;
  /** Epoch ms of the last state change. */
  since: number;
  /** Why it is in its state ("rejoined after 2 checks", "connection refused while proxying..."). */
  reason: string;
  /** The weight in force (an operator's, or discovery's). */
  weight: number;
  /** Requests in flight to it now, from every worker. */
  inFlight: number;
  /** Open tunnels (upgraded connections), part of inFlight; bytes each way through them so far. */
  tunnels: { open: number; bytesToUpstream: number; bytesFromUpstream: number };
  /** Attempts sent to it, retries included. */
  attempts: number;
  /** Responses it gave. */
  served: number;
  failures: number;
  lastCheck: { ok: boolean; latencyMs: number; at: number; error: string | null } | null;
  pm2: Pm2ProcessState | null;
  /** Which discovery source listed it, and from which host. */
  origin: UpstreamOrigin;
}

/** One request-path process: the balancer itself with --workers 1, else each cluster worker. */
export interface WorkerStatus {
  /** The cluster's worker id (0 for a single process). */
  id: number;
  pid: number;
  /** Which start or reload brought it (0 for the first). */
  generation: number;
  /** Epoch ms. */
  startedAt: number;
  state: 'starting' | 'ready' | 'draining';
  inFlight: number;
  served: number;
  failures: number;
  /** Resident memory and CPU share (percent of one core) at its last report; null before the first. */
  rssBytes: number | null;
  cpuPercent: number | null;
}

/** Where operators' decisions come from: this balancer's own (and its state file), or etcd's. */
export interface DecisionsState {
  source: 'etcd' | 'local';
  /** etcd: whether it answers now (a decision asked while it does not is refused). */
  connected: boolean;
  /** etcd: the store revision the decisions reflect. */
  revision: number | null;
  lastError: string | null;
}

export interface StatusFacts {
  name: string;
  pid: number;
  /** Epoch ms. */
  startedAt: number;
  now: number;
  port: number;
  adminPort: number;
  discovery: DiscoveryKind;
  /** Pool name (PM2's LB_POOL, etcd's pool); null for static discovery. */
  pool: string | null;
  /** How the discovery source is doing (etcd: connected, last revision, last error). */
  source?: DiscoveryState;
  /** Where operators' decisions come from (etcd with etcd discovery), and how that is going. */
  decisions?: DecisionsState;
  proxyEngine: string;
  policy: string;
  retries: boolean;
  draining: boolean;
  /** Request-path processes configured (1: a single process). */
  workers: number;
  /**
   * Why this balancer runs as one process though more workers were asked (its native addons are
   * missing or do not load); null when it runs as configured.
   */
  singleProcessReason: string | null;
  /** Reloads done since start. */
  reloads: number;
  /** The primary that handed this one its listening sockets (a PM2 restart); null if none did. */
  takenOverFrom: number | null;
  /** What the public listener speaks: http (HTTP/1.1) or https (HTTP/2 and HTTP/1.1 over TLS). */
  scheme: 'http' | 'https';
  /** Tunnels open now, and the cap (--max-tunnels). */
  tunnels: { open: number; max: number };
  /** Client connections against the balancer's own cap (docs/hardening.md). */
  connections: ConnectionFacts;
  /** The front door (front-door.ts): open, leaving (Connection: close) or maint (address given away). */
  frontDoor: { state: 'open' | 'leaving' | 'maint'; since: number; trackFile: string | null };
  /** A front behind a virtual IP: its VRRP state, split brain, the other fronts; null when it is no front. */
  front?: FrontStatus | null;
}

export interface ConnectionFacts {
  open: number;
  /** --max-connections, or derived from the descriptor limit. */
  limit: number;
  /** The process's soft descriptor limit; null where unknown. */
  descriptorLimit: number | null;
  /** Connections closed at once at the limit, and failed accepts. */
  dropped: number;
  /** Requests answered 503 because the balancer ran out of descriptors or local ports. */
  localFailures: number;
}

/** Totals over every request-path process, retired workers included: they never go backwards. */
export interface RequestTotals {
  inFlight: number;
  served: number;
  failures: number;
  /** Waiting for an upstream to come back (--queue-timeout). */
  queued: number;
}

export interface BalancerStatus {
  /** The facts as given, with the uptime instead of the clock reading. */
  balancer: Omit<StatusFacts, 'now'> & { uptimeMs: number };
  pool: { size: number; available: number };
  requests: RequestTotals;
  workers: WorkerStatus[];
  upstreams: UpstreamStatus[];
}

export function upstreamStatus(u: Upstream): UpstreamStatus {
  const check = u.lastCheck;
  return {
    id: u.id,
    name: u.name,
    address: u.id,
    state: u.health.status,
    available: u.available,
    admin: u.admin,
    since: u.health.since,
    reason: u.reason,
    weight: u.weight,
    inFlight: u.load,
    tunnels: { open: u.tunnels, bytesToUpstream: u.tunnelBytesUp, bytesFromUpstream: u.tunnelBytesDown },
    attempts: u.attempts,
    served: u.served,
    failures: u.failures,
    lastCheck:
      check === null
        ? null
        : { ok: check.ok, latencyMs: Math.round(check.ms * 1000) / 1000, at: check.at, error: check.error },
    pm2: u.pm2 === null ? null : { ...u.pm2 },
    origin: { ...u.origin },
  };
}

export function buildStatus(
  members: readonly Upstream[],
  facts: StatusFacts,
  requests: RequestTotals,
  workers: WorkerStatus[],
): BalancerStatus {
  const upstreams = members.map(upstreamStatus);
  const { now, ...balancer } = facts;
  return {
    balancer: { ...balancer, uptimeMs: now - balancer.startedAt },
    pool: { size: upstreams.length, available: upstreams.filter((u) => u.available).length },
    requests,
    workers,
    upstreams,
  };
}
