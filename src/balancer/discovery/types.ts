/**
 * Where the balancer's pool comes from. A discovery source is cheap to run and only reports
 * membership; health is the balancer's own business. Two sources plug in here: the static list
 * (`--upstreams`) and PM2 (`pm2-source.ts`).
 */
import type { Pm2App } from '../../supervisor/pm2-app.js';

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
}

export type DiscoveryEvent =
  /** The whole membership as the source now sees it; members not listed leave the pool. */
  | { type: 'members'; members: UpstreamSpec[] }
  /** Take this upstream out of rotation now: it is about to stop (before its port closes). */
  | { type: 'leaving'; id: string; reason: string }
  /** The process behind this upstream came (back) online: health-check it at once. */
  | { type: 'online'; id: string; reason: string };

export interface DiscoverySource {
  readonly kind: 'static' | 'pm2';
  /** Start watching; resolves with the first membership. Events follow through `listener`. */
  start(listener: (event: DiscoveryEvent) => void): Promise<UpstreamSpec[]>;
  stop(): Promise<void>;
}
