/**
 * The demo's records. Every time is in milliseconds since the load started (negative before it), so
 * the timeline, the actions, the pool samples and PM2's events line up on one axis.
 */

export const DEMO_ACTIONS = ['restart', 'kill', 'stop', 'start', 'reload', 'slow-clients'] as const;
/**
 * restart: PM2's graceful restart; kill: SIGKILL the app's pid (a crash); stop / start through PM2;
 * reload: the balancer's zero-downtime reload (SIGHUP), or a rolling reload of the whole fleet;
 * slow-clients: the third field is a count of clients that trickle POST bodies to the balancer
 * (`6s:slow-clients:20`).
 */
export type DemoActionKind = (typeof DEMO_ACTIONS)[number];

/** `kill:balancer-worker`: SIGKILL one of the balancer's request-path workers, not a PM2 app. */
export const BALANCER_WORKER = 'balancer-worker';
/** `reload:all`: every backend restarted through PM2 one at a time, then the balancer reloaded. */
export const WHOLE_FLEET = 'all';
/** The balancer's PM2 app (ecosystem.config.cjs), the one `reload:balancer` reloads. */
export const BALANCER_APP = 'balancer';

export interface ScheduledAction {
  atMs: number;
  action: DemoActionKind;
  /**
   * PM2 app name, e.g. backend-9003 (names stay the same under PORT_OFFSET), or balancer-worker
   * (with kill) or all (with reload); for slow-clients, the count.
   */
  app: string;
}

/** What happened when a scheduled action ran. */
export interface ActionRecord extends ScheduledAction {
  startedAtMs: number;
  finishedAtMs: number;
  ok: boolean;
  /** A readable note: `pid 1234 killed`, or the error's message. */
  detail: string;
  /** The app's pid before the action (the one a kill targets), when known. */
  pidBefore: number | null;
}

/** One finished request, as the load generator reported it. */
export interface RequestOutcome {
  /** When the answer (or the error) arrived. */
  atMs: number;
  ok: boolean;
  /** Null when the request failed without an answer. */
  latencyMs: number | null;
  /** The X-Served-By header, when there was an answer carrying one. */
  servedBy: string | null;
  /** Why it failed (`Status code 502`, `Connection error: ...`); null when it succeeded. */
  error: string | null;
}

/** One upstream as the balancer's /__lb/status showed it. */
export interface UpstreamView {
  name: string;
  /** Whether the balancer would send it a request now. */
  inRotation: boolean;
  /** The balancer's health state of it (up, down, unknown). */
  state: string;
  /** PM2's status of its process, when the balancer knows it. */
  pm2Status: string | null;
  /** Requests it has served, by the balancer's count. */
  served: number;
}

/** One reading of /__lb/status; `upstreams` is null when the admin listener could not be read. */
export interface PoolSample {
  atMs: number;
  upstreams: UpstreamView[] | null;
  error?: string;
}

/** An event from PM2's bus (`process:event`) for one app. */
export interface Pm2Event {
  atMs: number;
  app: string;
  /** online, exit, stop, restart, ... as PM2 names them. */
  event: string;
}
