/**
 * Options of the load balancer. Pure: the specs, the checks that need several values, and the typed
 * config built from them; src/balancer.ts hands these to loadConfigOrExit. Every default is stated
 * here once, in the spec's description.
 */
import os from 'node:os';
import type { DiscoveryKind, UpstreamSpec } from './discovery/types.js';
import type { LogFormat, LogLevel } from '../logger.js';
import { hostPort } from '../net/address.js';
import { DEFAULT_PORTS, accessLogBacklogOption, logOptions, portOffsetOption } from '../config/common.js';
import { buildConfig, type Validator } from '../config/load.js';
import { clientTimeoutProblems, maxHeaderSizeOption } from '../config/client-limits.js';
import { etcdOptions, toEtcdSettings, type EtcdSettings } from '../config/etcd-options.js';
import { controlProblems, controlSpecs } from './control-options.js';
import { deniedPaths, denyPathSpecs } from './deny-paths.js';
import { workerLimitSpecs } from './worker-limits.js';
import { viaSpecs } from './via.js';
import { frontProblems, frontSpecs, toFrontConfig, type FrontConfig } from './front/front-options.js';
import { healthExpectSpecs, toHealthExpectation, type HealthExpectation } from './health-expect.js';
import type { PolicyKind } from './selection.js';
import {
  durationParser,
  enumParser,
  intParser,
  listParser,
  parseBoolean,
  parsePort,
  parseString,
  type OptionSpec,
  type OptionValues,
  type RawInput,
  parseHost,
} from '../config/options.js';

export type DiscoveryChoice = 'static' | 'pm2' | 'etcd' | 'auto';
export type ProxyEngineName = 'h1' | 'undici' | 'http-proxy-3' | 'http-proxy';
export const PROXY_ENGINES: readonly ProxyEngineName[] = ['h1', 'undici', 'http-proxy-3', 'http-proxy'];
/** The HTTP/1.1 server of the public listener: the balancer's own (h1-server/), or node:http's. */
export type FrontName = 'h1' | 'node';
export const FRONTS: readonly FrontName[] = ['h1', 'node'];

/** Everything the balancer needs, after parsing and validation. */
export interface BalancerConfig {
  name: string;
  host: string;
  port: number;
  /** 127.0.0.1 unless asked; anywhere but loopback the POST routes need a token. */
  adminHost: string;
  adminPort: number;
  /** A file holding the admin API's bearer token; null: none (loopback only). */
  adminTokenFile: string | null;
  /** How an upstream is picked. */
  policy: PolicyKind;
  /** Where operators' decisions are kept across restarts; null: nowhere. */
  stateFile: string | null;
  /** keepalived's track file for this host's VRRP instance (front-door.ts); null: none. */
  vrrpTrackFile: string | null;
  discovery: DiscoveryChoice;
  /** The static pool (`--upstreams`); also the fallback list shown in help. */
  upstreams: UpstreamSpec[];
  /** PM2 pool name (apps whose env has LB_POOL=<pool>). */
  pool: string;
  reconcileMs: number;
  /** etcd discovery: where the registrars of every host write the pool. */
  etcd: EtcdSettings;
  health: {
    path: string;
    intervalMs: number;
    timeoutMs: number;
    fall: number;
    rise: number;
    /** What a healthy answer looks like (--health-expect-status, --health-expect-body). */
    expect: HealthExpectation;
  };
  retry: {
    enabled: boolean;
    /** 0 means the pool size. */
    maxAttempts: number;
    budgetMs: number;
    /** Retry an idempotent request whose upstream timed out (default: answer 504). */
    onTimeout: boolean;
    /** Largest request body kept so it can be sent again after a refused connection. */
    maxBodyBytes: number;
  };
  connectTimeoutMs: number;
  proxyTimeoutMs: number;
  /** An upstream's response head must be complete within this (at most proxyTimeoutMs). */
  upstreamHeaderTimeoutMs: number;
  upstreamMaxSockets: number;
  upstreamIdleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxHeaderSize: number;
  /** Request bodies are read this far (or whole) before an upstream request is opened. */
  requestBufferBytes: number;
  /** Most client connections at once; 0: derived from the descriptor limit at start-up. */
  maxConnections: number;
  graceMs: number;
  proxyEngine: ProxyEngineName;
  /** --front: which HTTP/1.1 server the public listener runs. */
  clientServer: FrontName;
  /** Request-path processes under one primary; 1 means one process doing everything. */
  workers: number;
  /** How long a request waits for an upstream to come back when none is available (0: 503 at once). */
  queueTimeoutMs: number;
  /** Requests that may wait at once; more get 503 at once. */
  maxQueued: number;
  /** NAME=value settings read at start and at every reload (null: none). */
  envFile: string | null;
  tunnels: {
    /** A tunnel with no byte either way for this long is closed (nginx's proxy_read_timeout, 60 s). */
    idleTimeoutMs: number;
    /** Most tunnels open at once; an upgrade beyond it gets 503. */
    max: number;
    /** A draining balancer closes its tunnels spread over this time (HAProxy's close-spread-time). */
    closeSpreadMs: number;
  };
  /** PEM files of the public listener's certificate and key; null: plain HTTP. */
  tls: { certPath: string; keyPath: string; handshakeTimeoutMs: number } | null;
  /** A plain listener answering 308 to the HTTPS URL; null: none. */
  httpRedirectPort: number | null;
  /** A worker above this resident memory is replaced without downtime (worker-limits.ts); 0: no limit. */
  workerMaxMemoryBytes: number;
  /** Path prefixes the public listener answers 404 itself (deny-paths.ts): /metrics and --deny-path's. */
  denyPaths: string[];
  /** `--via`: the pseudonym in this front's Via entry on every response; null: no Via. */
  via: string | null;
  /** A front balancer behind a virtual IP (front/): its name, VIP and keepalived's state file; null: none. */
  front: FrontConfig | null;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** Access lines kept for a slow stdout reader before more are dropped (src/logging/line-batch.ts). */
  accessLogBacklogBytes: number;
}

/**
 * One upstream: `host:port`, optionally named and weighted: `web1=127.0.0.1:9002*3`. IPv6 hosts
 * go in brackets (`[::1]:9002`). The id is always `host:port`; the name defaults to `backend-<port>`.
 */
export function parseUpstream(raw: string): UpstreamSpec {
  const m = /^(?:([\w.-]+)=)?(\[[0-9a-fA-F:.]+\]|[^:*=\s]+):(\d+)(?:\*(\d+))?$/.exec(raw.trim());
  if (m === null) {
    throw new Error(`"${raw}" is not an upstream (host:port, optionally name=host:port*weight)`);
  }
  const [, name, rawHost = '', rawPort = '', rawWeight] = m;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  parseHost(host);
  const port = parsePort(rawPort);
  if (port === 0) throw new Error(`"${raw}": an upstream needs a real port, not 0`);
  const weight = rawWeight === undefined ? 1 : Number(rawWeight);
  if (weight < 1 || weight > 100) throw new Error(`"${raw}": weight must be from 1 to 100`);
  const id = hostPort(host, port);
  return { id, name: name ?? `backend-${port}`, host, port, weight };
}

function defaultUpstreams(offset: number): string {
  return DEFAULT_PORTS.backends.map((p) => `127.0.0.1:${p + offset}`).join(',');
}

const offsetOf = (p: Record<string, unknown>): number => Number(p.portOffset ?? 0);

export const balancerSpecs = {
  portOffset: portOffsetOption,
  port: {
    flag: 'port',
    env: 'PORT',
    description: 'Public port; 0 picks a free one',
    default: (p: Record<string, unknown>) => DEFAULT_PORTS.balancer + offsetOf(p),
    defaultText: `${DEFAULT_PORTS.balancer} + PORT_OFFSET`,
    parse: parsePort,
  } satisfies OptionSpec<number>,
  host: {
    flag: 'host',
    env: 'HOST',
    description: 'Address of the public listener; 0.0.0.0 must be asked for',
    default: '127.0.0.1',
    parse: parseHost,
  } satisfies OptionSpec<string>,
  adminPort: {
    flag: 'admin-port',
    env: 'ADMIN_PORT',
    description:
      'Port of the admin listener (status, dashboard, metrics, upstream control); 0 picks a free one',
    default: (p: Record<string, unknown>) => DEFAULT_PORTS.admin + offsetOf(p),
    defaultText: `${DEFAULT_PORTS.admin} + PORT_OFFSET`,
    parse: parsePort,
  } satisfies OptionSpec<number>,
  name: {
    flag: 'name',
    env: 'NAME',
    description: 'Name on log lines and in X-Served-By of the answers the balancer gives itself',
    default: 'balancer',
    parse: parseString,
  } satisfies OptionSpec<string>,
  discovery: {
    flag: 'discovery',
    env: 'DISCOVERY',
    description:
      'Where the pool comes from: static (--upstreams), pm2 (apps with LB_POOL), etcd (registrars on several hosts), auto (pm2 under PM2)',
    default: 'auto',
    parse: enumParser<DiscoveryChoice>(['static', 'pm2', 'etcd', 'auto']),
  } satisfies OptionSpec<DiscoveryChoice>,
  upstreams: {
    flag: 'upstreams',
    env: 'UPSTREAMS',
    description: 'Static pool: host:port,... (name=host:port*weight also works)',
    default: (p: Record<string, unknown>) => listParser(parseUpstream)(defaultUpstreams(offsetOf(p))),
    defaultText: `${defaultUpstreams(0)} (+ PORT_OFFSET)`,
    parse: listParser(parseUpstream),
  } satisfies OptionSpec<UpstreamSpec[]>,
  pool: {
    flag: 'pool',
    env: 'LB_POOL',
    description: 'PM2 discovery: the pool is every PM2 app whose env has LB_POOL=<pool>',
    default: 'web',
    parse: parseString,
  } satisfies OptionSpec<string>,
  reconcileMs: {
    flag: 'reconcile-ms',
    env: 'RECONCILE_MS',
    description: 'PM2 discovery: how often the pool is compared with `pm2 list`',
    default: 2000,
    parse: durationParser(100, 600_000),
  } satisfies OptionSpec<number>,
  ...etcdOptions({
    endpoints: "etcd discovery: the cluster's client URLs, http://host:port,...",
    prefix: 'etcd discovery: members are the keys <prefix>/pools/<LB_POOL>/<host>/<app>',
    timeout: 'etcd discovery: deadline of one etcd call, and the pause between retries while it is away',
    keepalive:
      "etcd discovery: gRPC ping interval that finds a dead watch; etcd's --grpc-keepalive-min-time must allow it",
  }),
  healthPath: {
    flag: 'health-path',
    env: 'HEALTH_PATH',
    description: 'Path of the active health check (GET; healthy is --health-expect-status, 2xx by default)',
    default: '/healthz',
    parse: (raw: string) => {
      if (!/^\/[\x21-\x7e]*$/.test(raw)) throw new Error(`"${raw}" is not a path starting with /`);
      return raw;
    },
  } satisfies OptionSpec<string>,
  healthInterval: {
    flag: 'health-interval',
    env: 'HEALTH_INTERVAL',
    description: 'Time between two health checks of an upstream',
    default: 1000,
    parse: durationParser(10, 600_000),
  } satisfies OptionSpec<number>,
  healthTimeout: {
    flag: 'health-timeout',
    env: 'HEALTH_TIMEOUT',
    description:
      'A health check that takes longer fails (a slow check does not delay the next one of others)',
    default: 500,
    parse: durationParser(5, 60_000),
  } satisfies OptionSpec<number>,
  fall: {
    flag: 'fall',
    env: 'FALL',
    description: 'Consecutive failed checks that take an upstream out of rotation',
    default: 2,
    parse: intParser(1, 100),
  } satisfies OptionSpec<number>,
  rise: {
    flag: 'rise',
    env: 'RISE',
    description: 'Consecutive good checks that bring it back',
    default: 2,
    parse: intParser(1, 100),
  } satisfies OptionSpec<number>,
  retries: {
    flag: 'retries',
    env: 'RETRIES',
    description: 'Retry a failed attempt on another upstream; --no-retries answers 502 at once',
    default: true,
    boolean: true,
    parse: parseBoolean,
  } satisfies OptionSpec<boolean>,
  retry: {
    flag: 'retry',
    description: 'The same as --retries, spelled as the operations demo does (--no-retry)',
    default: true,
    boolean: true,
    parse: parseBoolean,
  } satisfies OptionSpec<boolean>,
  maxAttempts: {
    flag: 'max-attempts',
    env: 'MAX_ATTEMPTS',
    description: 'Most upstreams one request is tried on; 0 means the pool size',
    default: 0,
    parse: intParser(0, 100),
  } satisfies OptionSpec<number>,
  retryBudget: {
    flag: 'retry-budget',
    env: 'RETRY_BUDGET',
    description: 'No new attempt starts once a request is this old',
    default: 5000,
    parse: durationParser(0, 600_000),
  } satisfies OptionSpec<number>,
  retryTimeouts: {
    flag: 'retry-timeouts',
    env: 'RETRY_TIMEOUTS',
    description: 'Retry an idempotent request without a body after --proxy-timeout, instead of 504',
    default: false,
    boolean: true,
    parse: parseBoolean,
  } satisfies OptionSpec<boolean>,
  retryBodyBytes: {
    flag: 'retry-body-bytes',
    env: 'RETRY_BODY_BYTES',
    description:
      'Largest request body kept for a retry after a refused connection; bigger ones are not retried',
    default: 64 * 1024,
    parse: intParser(0, 64 * 1024 * 1024),
  } satisfies OptionSpec<number>,
  connectTimeout: {
    flag: 'connect-timeout',
    env: 'CONNECT_TIMEOUT',
    description: 'Time allowed to open a connection to an upstream',
    default: 2000,
    parse: durationParser(10, 600_000),
  } satisfies OptionSpec<number>,
  proxyTimeout: {
    flag: 'proxy-timeout',
    env: 'PROXY_TIMEOUT',
    description: 'An upstream silent for this long (no header or body byte) gets the request a 504',
    default: 30_000,
    parse: durationParser(10, 3_600_000),
  } satisfies OptionSpec<number>,
  upstreamHeaderTimeout: {
    flag: 'upstream-header-timeout',
    env: 'UPSTREAM_HEADER_TIMEOUT',
    description:
      "An upstream's response head must be complete this long after the attempt starts, however it trickles in (504 otherwise); at most --proxy-timeout",
    default: (p: Record<string, unknown>) => Number(p.proxyTimeout ?? 30_000),
    defaultText: '--proxy-timeout',
    parse: durationParser(10, 3_600_000),
  } satisfies OptionSpec<number>,
  upstreamMaxSockets: {
    flag: 'upstream-max-sockets',
    env: 'UPSTREAM_MAX_SOCKETS',
    description: 'Most open connections to one upstream; more requests wait for a free one',
    default: 256,
    parse: intParser(1, 65_536),
  } satisfies OptionSpec<number>,
  upstreamIdleTimeout: {
    flag: 'upstream-idle-timeout',
    env: 'UPSTREAM_IDLE_TIMEOUT',
    description:
      "Pooled idle connections to upstreams are closed after this; keep it below the backends' keep-alive timeout (5s)",
    default: 4000,
    parse: durationParser(100, 600_000),
  } satisfies OptionSpec<number>,
  keepAliveTimeout: {
    flag: 'keep-alive-timeout',
    env: 'KEEP_ALIVE_TIMEOUT',
    description: 'Idle time before a client keep-alive connection is closed',
    default: 5000,
    parse: durationParser(0, 600_000),
  } satisfies OptionSpec<number>,
  headersTimeout: {
    flag: 'headers-timeout',
    env: 'HEADERS_TIMEOUT',
    description: 'A client must send all request headers within this time (408 otherwise)',
    default: 10_000,
    parse: durationParser(100, 600_000),
  } satisfies OptionSpec<number>,
  requestTimeout: {
    flag: 'request-timeout',
    env: 'REQUEST_TIMEOUT',
    description:
      "A client must send the whole request (headers and body) within this time (408 otherwise); no longer than the backends' (30s)",
    default: 30_000,
    parse: durationParser(100, 3_600_000),
  } satisfies OptionSpec<number>,
  maxHeaderSize: maxHeaderSizeOption,
  requestBufferBytes: {
    flag: 'request-buffer-bytes',
    env: 'REQUEST_BUFFER_BYTES',
    description:
      'A request body is read this far (or whole) before any upstream gets the request, so a slow client holds no upstream connection',
    default: 1024 * 1024,
    parse: intParser(0, 256 * 1024 * 1024),
  } satisfies OptionSpec<number>,
  maxConnections: {
    flag: 'max-connections',
    env: 'MAX_CONNECTIONS',
    description:
      'Most client connections at once (more are closed at once); 0: half the descriptor limit less 64, so each can have an upstream connection',
    default: 0,
    parse: intParser(0, 1_000_000),
  } satisfies OptionSpec<number>,
  graceMs: {
    flag: 'grace-ms',
    env: 'GRACE_MS',
    description: 'On SIGINT/SIGTERM, how long in-flight requests may take before their sockets are closed',
    default: 5000,
    parse: durationParser(0, 600_000),
  } satisfies OptionSpec<number>,
  tunnelIdleTimeout: {
    flag: 'tunnel-idle-timeout',
    env: 'TUNNEL_IDLE_TIMEOUT',
    description: 'A WebSocket (upgraded) tunnel with no byte either way for this long is closed',
    default: 60_000,
    parse: durationParser(100, 86_400_000),
  } satisfies OptionSpec<number>,
  maxTunnels: {
    flag: 'max-tunnels',
    env: 'MAX_TUNNELS',
    description: 'Most upgraded tunnels open at once; another upgrade request gets 503',
    default: 10_000,
    parse: intParser(1, 1_000_000),
  } satisfies OptionSpec<number>,
  tunnelCloseSpread: {
    flag: 'tunnel-close-spread',
    env: 'TUNNEL_CLOSE_SPREAD',
    description:
      'On shutdown, open tunnels are closed spread over this time, not all at once (at most --grace-ms)',
    default: (p: Record<string, unknown>) => Math.floor(Number(p.graceMs ?? 5000) * 0.8),
    defaultText: '80% of --grace-ms',
    parse: durationParser(0, 600_000),
  } satisfies OptionSpec<number>,
  tlsCert: {
    flag: 'tls-cert',
    env: 'TLS_CERT',
    description: 'PEM certificate (chain) file: the public listener speaks HTTPS (HTTP/2 and HTTP/1.1)',
    default: '',
    defaultText: '(none: plain HTTP)',
    parse: parseString,
  } satisfies OptionSpec<string>,
  tlsKey: {
    flag: 'tls-key',
    env: 'TLS_KEY',
    description: 'PEM private key file of --tls-cert',
    default: '',
    defaultText: '(none)',
    parse: parseString,
  } satisfies OptionSpec<string>,
  tlsHandshakeTimeout: {
    flag: 'tls-handshake-timeout',
    env: 'TLS_HANDSHAKE_TIMEOUT',
    description: 'A client that has not finished the TLS handshake in this time is cut off',
    default: 10_000,
    parse: durationParser(100, 120_000),
  } satisfies OptionSpec<number>,
  httpRedirectPort: {
    flag: 'http-redirect-port',
    env: 'HTTP_REDIRECT_PORT',
    description: 'With TLS: a plain HTTP listener on this port answering 308 to the https:// URL',
    default: null,
    defaultText: '(none)',
    parse: (raw: string): number | null => parsePort(raw),
  } satisfies OptionSpec<number | null>,
  proxyEngine: {
    flag: 'proxy-engine',
    env: 'PROXY_ENGINE',
    description:
      "What carries requests to the upstreams: h1 (the balancer's own HTTP/1.1 client), undici, or the http-proxy API (http-proxy-3, http-proxy); docs/decisions.md says why h1",
    default: 'h1',
    parse: enumParser(PROXY_ENGINES),
  } satisfies OptionSpec<ProxyEngineName>,
  clientServer: {
    flag: 'front',
    env: 'BALANCER_FRONT',
    description:
      "The public listener's HTTP/1.1 server: h1 (the balancer's own, strict and lean) or node (node:http's); docs/decisions.md says why h1",
    default: 'h1',
    parse: enumParser(FRONTS),
  } satisfies OptionSpec<FrontName>,
  workers: {
    flag: 'workers',
    env: 'BALANCER_WORKERS',
    description:
      'Request-path worker processes under one primary that holds the sockets, discovery and health checks; 1 runs everything in one process',
    default: () => defaultWorkers(),
    defaultText: 'the number of CPUs, at least 2',
    parse: intParser(1, 1024),
  } satisfies OptionSpec<number>,
  queueTimeout: {
    flag: 'queue-timeout',
    env: 'QUEUE_TIMEOUT',
    description:
      'When no upstream is available, how long a request waits for one to come back before the 503 (HAProxy timeout queue); 0 answers at once',
    default: 3000,
    parse: durationParser(0, 60_000),
  } satisfies OptionSpec<number>,
  maxQueued: {
    flag: 'max-queued',
    env: 'MAX_QUEUED',
    description: 'Requests that may wait for an upstream at once; more get 503 at once',
    default: 1024,
    parse: intParser(0, 1_000_000),
  } satisfies OptionSpec<number>,
  envFile: {
    flag: 'env-file',
    env: 'BALANCER_ENV_FILE',
    description:
      'A file of NAME=value settings (these variables) read at start and at every reload; it wins over the environment, flags win over it',
    default: '',
    defaultText: 'none',
    parse: parseString,
  } satisfies OptionSpec<string>,
  ...controlSpecs,
  ...denyPathSpecs,
  ...healthExpectSpecs,
  ...workerLimitSpecs,
  ...viaSpecs,
  ...frontSpecs,
  logLevel: logOptions.logLevel,
  logFormat: logOptions.logFormat,
  accessLogBacklog: accessLogBacklogOption,
};

/** One request-path worker per CPU, and never fewer than two, so one can reload while another serves. */
export function defaultWorkers(cpus: number = os.availableParallelism()): number {
  return Math.max(2, cpus);
}

/** More workers than this per CPU only adds context switches: refused as a mistake. */
export const MAX_WORKERS_PER_CPU = 4;

type BalancerValues = OptionValues<typeof balancerSpecs>;

/** Checks that need several values (run only when every value parsed). */
export const validateBalancer: Validator<BalancerValues> = (v) => {
  const problems: string[] = [];
  if (v.port !== 0 && v.port === v.adminPort) {
    problems.push(`--port and --admin-port are both ${v.port}; the admin listener needs its own port`);
  }
  problems.push(...clientTimeoutProblems(v.headersTimeout, v.requestTimeout));
  if (v.upstreamHeaderTimeout > v.proxyTimeout) {
    problems.push(
      `--upstream-header-timeout (${v.upstreamHeaderTimeout}ms) must not be longer than --proxy-timeout (${v.proxyTimeout}ms), which would end the wait first; shorten it, or raise --proxy-timeout`,
    );
  }
  problems.push(...controlProblems(v));
  problems.push(...frontProblems(v, os.hostname()));
  const cpus = os.availableParallelism();
  if (v.workers > MAX_WORKERS_PER_CPU * cpus) {
    problems.push(
      `--workers ${v.workers} is more than ${MAX_WORKERS_PER_CPU} per CPU (${cpus} here); use at most ${MAX_WORKERS_PER_CPU * cpus}`,
    );
  }
  if ((v.tlsCert === '') !== (v.tlsKey === '')) {
    problems.push(
      v.tlsCert === ''
        ? `--tls-key ${v.tlsKey} is given without --tls-cert; HTTPS needs both`
        : `--tls-cert ${v.tlsCert} is given without --tls-key; HTTPS needs both`,
    );
  }
  if (v.httpRedirectPort !== null) {
    if (v.tlsCert === '')
      problems.push('--http-redirect-port redirects to HTTPS, which needs --tls-cert and --tls-key');
    if (v.httpRedirectPort !== 0 && (v.httpRedirectPort === v.port || v.httpRedirectPort === v.adminPort)) {
      problems.push(`--http-redirect-port ${v.httpRedirectPort} is already the public or admin port`);
    }
  }
  if (v.tunnelCloseSpread > v.graceMs) {
    problems.push(
      `--tunnel-close-spread (${v.tunnelCloseSpread}ms) must not be longer than --grace-ms (${v.graceMs}ms)`,
    );
  }
  const seenIds = new Set<string>();
  const seenNames = new Set<string>();
  for (const u of v.upstreams) {
    if (seenIds.has(u.id)) problems.push(`--upstreams: ${u.id} is listed twice`);
    else if (seenNames.has(u.name)) {
      problems.push(`--upstreams: two upstreams are named ${u.name}; name them (name=host:port)`);
    }
    seenIds.add(u.id);
    seenNames.add(u.name);
  }
  return problems;
};

export function toBalancerConfig(v: BalancerValues): BalancerConfig {
  return {
    name: v.name,
    host: v.host,
    port: v.port,
    adminHost: v.adminHost,
    adminPort: v.adminPort,
    adminTokenFile: v.adminTokenFile === '' ? null : v.adminTokenFile,
    policy: v.policy,
    stateFile: v.stateFile === '' ? null : v.stateFile,
    vrrpTrackFile: v.vrrpTrackFile === '' ? null : v.vrrpTrackFile,
    discovery: v.discovery,
    upstreams: v.upstreams,
    pool: v.pool,
    reconcileMs: v.reconcileMs,
    etcd: toEtcdSettings(v),
    health: {
      path: v.healthPath,
      intervalMs: v.healthInterval,
      timeoutMs: v.healthTimeout,
      fall: v.fall,
      rise: v.rise,
      expect: toHealthExpectation(v),
    },
    retry: {
      enabled: v.retries && v.retry,
      maxAttempts: v.maxAttempts,
      budgetMs: v.retryBudget,
      onTimeout: v.retryTimeouts,
      maxBodyBytes: v.retryBodyBytes,
    },
    connectTimeoutMs: v.connectTimeout,
    proxyTimeoutMs: v.proxyTimeout,
    upstreamHeaderTimeoutMs: v.upstreamHeaderTimeout,
    upstreamMaxSockets: v.upstreamMaxSockets,
    upstreamIdleTimeoutMs: v.upstreamIdleTimeout,
    keepAliveTimeoutMs: v.keepAliveTimeout,
    headersTimeoutMs: v.headersTimeout,
    requestTimeoutMs: v.requestTimeout,
    maxHeaderSize: v.maxHeaderSize,
    requestBufferBytes: v.requestBufferBytes,
    maxConnections: v.maxConnections,
    graceMs: v.graceMs,
    proxyEngine: v.proxyEngine,
    clientServer: v.clientServer,
    workers: v.workers,
    queueTimeoutMs: v.queueTimeout,
    maxQueued: v.maxQueued,
    envFile: v.envFile === '' ? null : v.envFile,
    tunnels: { idleTimeoutMs: v.tunnelIdleTimeout, max: v.maxTunnels, closeSpreadMs: v.tunnelCloseSpread },
    tls:
      v.tlsCert === ''
        ? null
        : { certPath: v.tlsCert, keyPath: v.tlsKey, handshakeTimeoutMs: v.tlsHandshakeTimeout },
    httpRedirectPort: v.httpRedirectPort,
    denyPaths: deniedPaths(v.denyPath),
    workerMaxMemoryBytes: v.workerMaxMemory,
    via: v.via === '' ? null : v.via,
    front: toFrontConfig(v, os.hostname()),
    logLevel: v.logLevel,
    logFormat: v.logFormat,
    accessLogBacklogBytes: v.accessLogBacklog,
  };
}

/** Pure, for tests: parse and validate; throws ConfigError listing every problem. */
export function buildBalancerConfig(input: RawInput): BalancerConfig {
  return toBalancerConfig(buildConfig(balancerSpecs, input, validateBalancer).value);
}

/** `auto` means PM2 discovery when PM2 started this process, the static list otherwise. */
export function resolveDiscovery(choice: DiscoveryChoice, underPm2: boolean): DiscoveryKind {
  if (choice === 'auto') return underPm2 ? 'pm2' : 'static';
  return choice;
}
