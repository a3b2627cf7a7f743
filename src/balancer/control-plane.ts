/**
 * The part of the balancer that decides who is in rotation: discovery feeds the pool, the health
 * checker checks it, the admin listener reports it (the status document, `/healthz`, the
 * listening and ready lines). It runs once per balancer (Envoy's main thread, HAProxy's one
 * checker): in a single process beside the request path (load-balancer.ts), in a cluster in the
 * primary, whose workers get its decisions (cluster/). Both roots hand it what only they know.
 */
import os from 'node:os';
import type { BalancerConfig } from './config.js';
import { DecisionError, errorMessage } from '../errors.js';
import { hostPort, httpUrl } from '../net/address.js';
import type { Logger } from '../logger.js';
import { AdminServer, sendJson } from './admin-server.js';
import { createDiscovery } from './discovery/create-discovery.js';
import type {
  DiscoveryEvent,
  DiscoveryKind,
  DiscoverySource,
  DiscoveryState,
  UpstreamSpec,
} from './discovery/types.js';
import type http from 'node:http';
import type { BalancerEvents } from './events.js';
import type { EtcdDecisions } from './etcd-decisions.js';
import { HealthChecker } from './health-checker.js';
import { Pool } from './pool.js';
import {
  STATUS_PATH,
  type BalancerStatus,
  type ConnectionFacts,
  type DecisionsState,
  type StatusFacts,
} from './status.js';
import type { Upstream } from './upstream.js';
import type { Zone } from './zone.js';
import { StateFile } from './state-file.js';
import { FrontDoor, type DoorSide } from './front-door.js';
import { parseControlPath, UPSTREAMS_PATH } from './upstream-control.js';
import { FrontTracker } from './front/front-tracker.js';
import { advertisedAddress } from './front/front-record.js';

export interface ControlPlaneOptions {
  config: BalancerConfig;
  /** static, pm2 or etcd, after resolving `auto`. */
  discoveryKind: DiscoveryKind;
  logger: Logger;
  events: BalancerEvents;
  /** A ready-made source (tests); otherwise one is created from the config. */
  discovery?: DiscoverySource;
  /** Members left the pool (their pooled connections can close). */
  onGone?: (gone: readonly Upstream[]) => void;
  /** The shared zone a cluster's workers read (a private one in a single process). */
  zone?: Zone;
  /** The admin API's bearer token (`--admin-token-file`, read by the entry point). */
  adminToken?: string | null;
  /** Membership changed: once per discovery update, however many members it changed. */
  onMembers?: () => void;
  /** Why a single process serves where more workers were asked (the status says it). */
  singleProcessReason?: string | null;
}

/** What the status document says of the request path, which only the root that runs it knows. */
export interface BalancerNow {
  port: number;
  engine: string;
  draining: boolean;
  reloads: number;
  /** The primary this one took its listening sockets from (a cluster under PM2). */
  takenOverFrom?: number | null;
  scheme: 'http' | 'https';
  tunnelsOpen: number;
  connections: ConnectionFacts;
}

/** The root's side of the admin routes: its status document and what it is doing now. */
export interface StatusSource {
  status(): BalancerStatus | Promise<BalancerStatus>;
  now(): BalancerNow;
  /** The request path's side of the front door (one process, or a primary and its workers). */
  door: DoorSide;
}

/** POST /__lb/front/maint and /__lb/front/ready: the front door (front-door.ts). */
export const FRONT_PATH = '/__lb/front/';

export class ControlPlane {
  readonly pool: Pool;
  readonly health: HealthChecker;
  readonly admin: AdminServer;
  readonly startedAt = Date.now();
  private discovery: DiscoverySource | undefined;
  private readonly state: StateFile | null;
  readonly door: FrontDoor;
  private doorSide: DoorSide | null = null;
  /** Who holds the virtual IP, with --vrrp-state-file or --front-name (front/). */
  private readonly front: FrontTracker | null;
  /** Operators' decisions shared through etcd (etcd discovery only); null: this balancer's own. */
  private shared: EtcdDecisions | null = null;
  adminPort = 0;

  constructor(private readonly options: ControlPlaneOptions) {
    const { config, logger, events } = options;
    this.discovery = options.discovery;
    this.pool = new Pool({
      thresholds: { fall: config.health.fall, rise: config.health.rise },
      logger,
      events,
      policy: config.policy,
      ...(options.zone === undefined ? {} : { zone: options.zone }),
    });
    this.health = new HealthChecker(this.pool, config.health);
    this.admin = new AdminServer(logger);
    this.state = config.stateFile === null ? null : new StateFile(config.stateFile, logger);
    this.door = new FrontDoor(config.vrrpTrackFile, logger);
    // The fronts meet in the pool's etcd: with another discovery there is none to meet in.
    const etcd = this.discoveryKind === 'etcd' ? config.etcd : null;
    this.front = config.front === null ? null : new FrontTracker({ front: config.front, etcd, logger });
    // Every decision is kept as it is made, so a restart, a handover or a crash finds it.
    events.onAdminChange(() => this.state?.write(this.pool.decisions()));
  }

  get discoveryKind(): DiscoveryKind {
    return this.discovery?.kind ?? this.options.discoveryKind;
  }

  /** The discovery source's own report, or a plain "connected" for sources that cannot lose theirs. */
  discoveryState(): DiscoveryState {
    return (
      this.discovery?.state?.() ?? {
        kind: this.discoveryKind,
        connected: true,
        lastRevision: null,
        lastError: null,
        since: this.startedAt,
      }
    );
  }

  /** Start discovery and take its first membership. */
  async discover(): Promise<UpstreamSpec[]> {
    const { config, logger } = this.options;
    this.discovery ??= await createDiscovery(
      {
        kind: this.options.discoveryKind,
        upstreams: config.upstreams,
        pool: config.pool,
        host: '127.0.0.1',
        reconcileMs: config.reconcileMs,
        etcd: config.etcd,
      },
      logger,
    );
    // Operators' decisions from the last run first, so no member takes traffic it should not;
    // etcd's, read beside the first membership, replace them.
    if (this.state !== null) this.pool.decideLater(this.state.read());
    this.shared = await this.shareDecisions();
    const [members] = await Promise.all([
      this.discovery.start((event) => this.onDiscovery(event)),
      this.shared?.start(),
    ]);
    this.pool.setMembers(members, this.discovery.kind, true);
    logger.info(
      `${this.discovery.kind} discovery${describeSource(this.discovery.kind, config)}: ` +
        `a pool of ${members.length}: ${describeMembers(members)}`,
      {
        event: 'discovery',
        kind: this.discovery.kind,
        pool: this.discovery.kind === 'static' ? null : config.pool,
        members: members.map((m) => ({ id: m.id, name: m.name })),
      },
    );
    this.options.onMembers?.();
    return members;
  }

  /** Follow keepalived's state and meet the other fronts, once the public listener's `port` is known. */
  async startFront(port: number): Promise<void> {
    const { config } = this.options;
    const address = advertisedAddress(config.host, port, os.networkInterfaces(), config.front?.vip ?? null);
    await this.front?.start(address);
  }

  /** With etcd discovery, operators' decisions are etcd's, shared with every balancer reading it. */
  private async shareDecisions(): Promise<EtcdDecisions | null> {
    const { config, logger } = this.options;
    if (this.options.discoveryKind !== 'etcd') return null;
    const { EtcdDecisions } = await import('./etcd-decisions.js');
    return new EtcdDecisions({
      etcd: config.etcd,
      poolName: config.pool,
      pool: this.pool,
      logger,
      via: () => `${config.name} on ${os.hostname()}, admin port ${this.adminPort}`,
    });
  }

  async listenAdmin(fd?: number): Promise<number> {
    const { config, logger } = this.options;
    this.adminPort = await this.admin.listen(config.adminPort, config.adminHost, 'admin', fd);
    this.admin.identity = {
      host: config.adminHost,
      port: this.adminPort,
      token: this.options.adminToken ?? null,
    };
    logger.info(`admin listening on ${httpUrl(config.adminHost, this.adminPort)} (GET ${STATUS_PATH})`, {
      event: 'listening',
      listener: 'admin',
      port: this.adminPort,
      host: config.adminHost,
    });
    return this.adminPort;
  }

  /** GET /__lb/status and /healthz on the admin listener, answered from the root's own figures. */
  serveStatus(source: StatusSource): void {
    this.admin.route(STATUS_PATH, async (_req, res) => sendJson(res, 200, await source.status()));
    this.admin.route('/healthz', (_req, res) => this.healthz(res, source.now()));
    this.doorSide = source.door;
    this.admin.mutate(FRONT_PATH, async (_req, res, path, by) => {
      const action = path.slice(FRONT_PATH.length);
      if (action === 'maint') sendJson(res, 200, await this.door.maint(by));
      else if (action === 'ready') sendJson(res, 200, this.door.ready(by));
      else
        this.refused(
          res,
          404,
          `no front door action "${action}": use ${FRONT_PATH}maint or ${FRONT_PATH}ready`,
          by,
        );
    });
    this.admin.mutate(UPSTREAMS_PATH, async (_req, res, path, by) => {
      const asked = parseControlPath(path);
      if (!asked.ok) {
        this.refused(res, asked.status, asked.reason, by);
        return;
      }
      const upstream = this.pool.members.find((u) => u.name === asked.name);
      if (upstream === undefined) {
        const known = this.pool.members.map((u) => u.name);
        this.refused(
          res,
          404,
          `no upstream named "${asked.name}"; the pool has ${known.join(', ') || 'none'}`,
          by,
          {
            upstreams: known,
          },
        );
        return;
      }
      let change: string;
      try {
        change =
          this.shared === null
            ? this.pool.decide(upstream, asked.decision, by)
            : await this.shared.decideShared(upstream, asked.decision, by);
      } catch (err) {
        if (!(err instanceof DecisionError)) throw err;
        this.refused(res, 503, err.message, by, { code: err.code });
        return;
      }
      if (change === '') {
        this.options.logger.info(`${upstream.name}: ${asked.words} asked, already so (${by})`, {
          event: 'admin-unchanged',
          upstream: upstream.name,
        });
      }
      const status = await source.status();
      sendJson(res, 200, status.upstreams.find((u) => u.id === upstream.id) ?? null);
    });
  }

  private refused(
    res: http.ServerResponse,
    status: number,
    reason: string,
    by: string,
    extra: Record<string, unknown> = {},
  ): void {
    this.options.logger.warn(`admin: refused (${status}): ${reason} (${by})`, {
      event: 'admin-refused',
      status,
    });
    sendJson(res, status, { error: reason, ...extra });
  }

  /** The facts of the status document, for a single process and a cluster primary alike. */
  facts(now: BalancerNow): StatusFacts {
    const { config } = this.options;
    return {
      name: config.name,
      pid: process.pid,
      startedAt: this.startedAt,
      now: Date.now(),
      port: now.port,
      adminPort: this.adminPort,
      discovery: this.discoveryKind,
      pool: this.discoveryKind === 'static' ? null : config.pool,
      source: this.discoveryState(),
      decisions: this.shared?.state() ?? LOCAL_DECISIONS,
      proxyEngine: now.engine,
      policy: this.pool.policyName,
      retries: config.retry.enabled,
      draining: now.draining,
      workers: config.workers,
      singleProcessReason: this.options.singleProcessReason ?? null,
      reloads: now.reloads,
      takenOverFrom: now.takenOverFrom ?? null,
      scheme: now.scheme,
      tunnels: { open: now.tunnelsOpen, max: config.tunnels.max },
      connections: now.connections,
      frontDoor: { state: this.door.state, since: this.door.since, trackFile: this.door.trackFile },
      front: this.front?.status() ?? null,
    };
  }

  /** `balancer listening on http://127.0.0.1:44444: round-robin over 4 upstreams through h1, retries on`. */
  logListening(now: Pick<BalancerNow, 'port' | 'scheme' | 'engine'>, extra = ''): void {
    const { config, logger } = this.options;
    const url = `${now.scheme}://${hostPort(config.host, now.port)}`;
    logger.info(
      `${config.name} listening on ${url}${now.scheme === 'https' ? ' (HTTP/2 and HTTP/1.1)' : ''}: ` +
        `${this.pool.policyName} over ${plural(this.pool.size, 'upstream')} through ${now.engine}, ` +
        `retries ${config.retry.enabled ? 'on' : 'off'}${extra}`,
      {
        event: 'listening',
        port: now.port,
        host: config.host,
        scheme: now.scheme,
        ...(config.workers > 1 ? { workers: config.workers } : {}),
      },
    );
  }

  logReady(): void {
    const { pool } = this;
    // Serving now: the front door opens (the track file says 0), unless it was left in maint.
    if (this.doorSide !== null) this.door.resume(this.doorSide);
    this.options.logger.info(`ready: ${pool.availableCount()} of ${pool.size} upstreams up`, {
      event: 'ready',
      available: pool.availableCount(),
      size: pool.size,
    });
  }

  /** GET /healthz: 200 while serving, 503 while draining. */
  private healthz(res: http.ServerResponse, now: BalancerNow): void {
    const facts = this.facts(now);
    sendJson(res, now.draining ? 503 : 200, {
      status: now.draining ? 'draining' : 'ok',
      name: facts.name,
      pid: facts.pid,
      uptimeMs: facts.now - facts.startedAt,
      available: this.pool.availableCount(),
      size: this.pool.size,
    });
  }

  /** The first health round, then checks every interval. */
  async checkHealth(): Promise<void> {
    await this.health.start();
  }

  async close(): Promise<void> {
    this.health.stop();
    const stops: Promise<unknown>[] = [this.admin.close()];
    if (this.front !== null) stops.push(this.front.stop());
    if (this.discovery !== undefined) stops.push(this.discovery.stop());
    if (this.shared !== null) stops.push(this.shared.stop());
    await Promise.allSettled(stops);
  }

  private onDiscovery(event: DiscoveryEvent): void {
    try {
      if (event.type === 'members') {
        const before = this.pool.members;
        this.pool.setMembers(event.members, this.discoveryKind);
        const gone = before.filter((u) => u.removed);
        if (gone.length > 0) this.options.onGone?.(gone);
        this.options.onMembers?.();
        return;
      }
      const upstream = this.pool.get(event.id);
      if (upstream === undefined) return;
      if (event.type === 'leaving') {
        this.pool.takeOut(upstream, event.reason);
      } else {
        this.options.logger.debug(`${upstream.name} is online again (${event.reason}); checking it now`, {
          event: 'upstream-online',
          id: upstream.id,
          reason: event.reason,
        });
        // PM2 has just said so: one good check is enough to bring it back.
        this.pool.rejoinOnNextCheck(upstream);
        void this.health.checkNow(upstream);
      }
    } catch (err) {
      this.options.logger.error(`discovery event ${event.type} failed: ${errorMessage(err)}`, {
        event: 'discovery-error',
      });
    }
  }
}

const LOCAL_DECISIONS: DecisionsState = { source: 'local', connected: true, revision: null, lastError: null };

function describeMembers(members: readonly UpstreamSpec[]): string {
  if (members.length === 0) return '(empty)';
  return members
    .map((m) => `${m.name} (${m.id}${(m.weight ?? 1) === 1 ? '' : ` weight ${m.weight}`})`)
    .join(', ');
}

function describeSource(kind: DiscoveryKind, config: BalancerConfig): string {
  if (kind === 'pm2') return ` (LB_POOL=${config.pool})`;
  if (kind === 'etcd') {
    return ` (${config.etcd.prefix}/pools/${config.pool}/ on ${config.etcd.endpoints.join(',')})`;
  }
  return '';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
