/**
 * How pool members are written in etcd, shared by the registrar (which writes them) and the etcd
 * discovery source (which reads them). Pure: no client, no sockets.
 *
 *   <prefix>/pools/<pool>/<host>/<app>  ->  {"address":"10.0.0.11:9002","weight":1,"host":"h1",
 *                                             "app":"backend-9002","pm2":{...},"registeredAt":...}
 *
 * A value is checked as if a stranger wrote it: anything that does not parse, names a bad address or
 * does not match its key is refused with a reason, never turned into a pool entry.
 */
import { isIP } from 'node:net';
import type { Pm2ProcessState, UpstreamSpec } from './types.js';

/** What the registrar stores for one member. */
export interface MemberValue {
  /** host:port the balancer connects to ([v6]:port for IPv6). */
  address: string;
  weight: number;
  /** The registering host's name (also in the key). */
  host: string;
  /** The PM2 app's name (also in the key). */
  app: string;
  /** The facts PM2 gave when it was registered (the ones that change with a restart, not memory). */
  pm2: Pick<Pm2ProcessState, 'pmId' | 'status' | 'pid' | 'restarts'> | null;
  /** Epoch ms when the registrar wrote it. */
  registeredAt: number;
}

/** A segment of a key (pool, host or app name): no slash, nothing a shell or a URL would mangle. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isKeySegment(raw: string): boolean {
  return SEGMENT.test(raw);
}

/** `<prefix>/pools/<pool>/` : everything of one pool (what the balancer reads and watches). */
export function poolPrefix(prefix: string, pool: string): string {
  return `${prefix}/pools/${pool}/`;
}

export function memberKey(prefix: string, pool: string, host: string, app: string): string {
  return `${poolPrefix(prefix, pool)}${host}/${app}`;
}

/** `host:port` with IPv6 in brackets, the form upstream ids take. */
export function formatAddress(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function encodeMember(value: MemberValue): string {
  return JSON.stringify(value);
}

export type DecodedMember = { ok: true; spec: UpstreamSpec } | { ok: false; problem: string };

function parseAddress(raw: unknown): { host: string; port: number } | string {
  if (typeof raw !== 'string') return 'its address is not a string';
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(raw);
  if (m === null) return `its address "${raw}" is not host:port`;
  const host = m[1] ?? m[2] ?? '';
  if (isIP(host) === 0) return `its address "${raw}" does not start with an IP address`;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `its address "${raw}" has no usable port`;
  if (host === '0.0.0.0' || host === '::') return `its address "${raw}" is a wildcard, not a host`;
  return { host, port };
}

function parseWeight(raw: unknown): number | string {
  if (raw === undefined) return 1;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > 100) {
    return `its weight ${JSON.stringify(raw)} is not a whole number from 1 to 100`;
  }
  return raw;
}

function parsePm2(raw: unknown): Pm2ProcessState | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const o = raw as Record<string, unknown>;
  const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
  return {
    pmId: num(o.pmId, -1),
    status: typeof o.status === 'string' ? o.status.slice(0, 40) : 'unknown',
    pid: typeof o.pid === 'number' ? o.pid : null,
    restarts: num(o.restarts, 0),
    // Not stored in etcd: they change every second and would mean a write per member per second.
    uptimeMs: null,
    memoryBytes: 0,
    cpuPercent: 0,
  };
}

/**
 * One key and its value, read under `poolPrefix(prefix, pool)`. The member is named `<host>/<app>`
 * (the same app name runs on every host) and identified by its address, as every upstream is.
 */
export function decodeMember(prefix: string, pool: string, key: string, value: string): DecodedMember {
  const base = poolPrefix(prefix, pool);
  if (!key.startsWith(base)) return { ok: false, problem: `the key is not under ${base}` };
  const rest = key.slice(base.length).split('/');
  const [host, app] = rest;
  if (
    rest.length !== 2 ||
    host === undefined ||
    app === undefined ||
    !isKeySegment(host) ||
    !isKeySegment(app)
  ) {
    return { ok: false, problem: `the key is not ${base}<host>/<app>` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { ok: false, problem: `its value is not JSON (${JSON.stringify(value.slice(0, 60))})` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, problem: 'its value is not a JSON object' };
  }
  const o = parsed as Record<string, unknown>;
  const address = parseAddress(o.address);
  if (typeof address === 'string') return { ok: false, problem: address };
  const weight = parseWeight(o.weight);
  if (typeof weight === 'string') return { ok: false, problem: weight };
  const pm2 = parsePm2(o.pm2);
  const spec: UpstreamSpec = {
    id: formatAddress(address.host, address.port),
    name: `${host}/${app}`,
    host: address.host,
    port: address.port,
    weight,
    origin: { source: 'etcd', host, key },
  };
  if (pm2 !== undefined) spec.pm2 = pm2;
  return { ok: true, spec };
}

/** A key segment option (pool, host or app name), checked as the keys need it. */
export function parseKeySegment(what: string): (raw: string) => string {
  return (raw) => {
    if (!isKeySegment(raw)) {
      throw new Error(`"${raw}" is not a ${what} (letters, digits, . _ -, starting with a letter or digit)`);
    }
    return raw;
  };
}
