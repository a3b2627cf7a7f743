/**
 * Where the balancer's pool comes from. A discovery source is cheap to run and only reports
 * membership; health is the balancer's own business. Three sources plug in here: the static list
 * (`--upstreams`), PM2 (`pm2-source.ts`) and etcd (`etcd-source.ts`, members on other hosts).
 */
import type { Pm2App } from '../../supervisor/pm2-app.js';

export type DiscoveryKind = 'static' | 'pm2' | 'etcd';

/** Where an upstream came from, shown on the status page and the dashboard. */
export interface UpstreamOrigin {
  source: DiscoveryKind;
  /** The host that registered it (etcd), or null when it is this machine's. */
  host: string | null;
  /** The etcd key it was read from. */
  key?: string;
}

/** How a discovery source is doing, for the status page (a static list is always "connected"). */
export interface DiscoveryState {
  kind: DiscoveryKind;
  connected: boolean;
  /** etcd: the store revision the pool reflects (the watch resumes after it). */
  lastRevision: number | null;
  /** The last error talking to the source, kept after it recovers; null if there never was one. */
  lastError: string | null;
  /** Epoch ms of the last change of `connected`. */
  since: number;
  /** etcd: the endpoints it talks to. */
  endpoints?: string[];
}

/** What PM2 knows of the process behind an upstream, kept beside the balancer's health state. */
export type Pm2ProcessState = Pick<
  Pm2App,
  'pmId' | 'status' | 'pid' | 'restarts' | 'uptimeMs' | 'memoryBytes' | 'cpuPercent'
>;

/** One member of the pool. `id` is `host:port` and identifies the upstream across restarts. */
export interface UpstreamSpec {
  id: string;
  name: string;
  host: string;
  port: number;
  /** Relative share of requests (default 1). */
  weight?: number;
  pm2?: Pm2ProcessState;
  /** Default: the source that listed it, on this machine. */
  origin?: UpstreamOrigin;
}

export type DiscoveryEvent =
  /** The whole membership as the source now sees it; members not listed leave the pool. */
  | { type: 'members'; members: UpstreamSpec[] }
  /** Take this upstream out of rotation now: it is about to stop (before its port closes). */
  | { type: 'leaving'; id: string; reason: string }
  /** The process behind this upstream came (back) online: health-check it at once. */
  | { type: 'online'; id: string; reason: string };

export interface DiscoverySource {
  readonly kind: DiscoveryKind;
  /** Start watching; resolves with the first membership. Events follow through `listener`. */
  start(listener: (event: DiscoveryEvent) => void): Promise<UpstreamSpec[]>;
  stop(): Promise<void>;
  /** How the source is doing now; sources that cannot lose their input may leave it out. */
  state?(): DiscoveryState;
}
