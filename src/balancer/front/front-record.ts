/**
 * What a front balancer keeps in etcd for the others: one key per front under a lease, rewritten
 * on every VRRP change and at least every second, so `at` says when it was last heard from.
 *
 *   <prefix>/fronts/<name>  ->  {"name":"f1","vrrp":"MASTER","priority":150,"vip":"10.213.7.100",
 *                                "address":"10.213.7.11:80","at":1765000000000}
 *
 * A value is checked as if a stranger wrote it, as the pool's keys are (etcd-keys.ts): anything
 * that does not parse or does not match its key is refused with a reason. Pure.
 */
import { isIP } from 'node:net';
import { hostPort } from '../../net/address.js';
import { isKeySegment } from '../discovery/etcd-keys.js';
import { VRRP_STATES, type VrrpState } from './vrrp-state.js';

export interface FrontRecord {
  name: string;
  vrrp: VrrpState;
  /** keepalived's priority for this front; null while its state is unknown. */
  priority: number | null;
  /** The virtual IP the front is configured for (--vip); null when not given. */
  vip: string | null;
  /** Where its public listener is reached (host:port). */
  address: string;
  /** Epoch ms when it wrote this. */
  at: number;
}

/** `<prefix>/fronts/`: every front's key (what each front watches). */
export function frontsPrefix(prefix: string): string {
  return `${prefix}/fronts/`;
}

export function frontKey(prefix: string, name: string): string {
  return `${frontsPrefix(prefix)}${name}`;
}

export function encodeFront(record: FrontRecord): string {
  return JSON.stringify(record);
}

export type DecodedFront = { ok: true; record: FrontRecord } | { ok: false; problem: string };

const STATES: ReadonlySet<string> = new Set(VRRP_STATES);

/** One key and its value under `frontsPrefix(prefix)`. */
export function decodeFront(prefix: string, key: string, value: string): DecodedFront {
  const base = frontsPrefix(prefix);
  const name = key.startsWith(base) ? key.slice(base.length) : '';
  if (!isKeySegment(name)) return { ok: false, problem: `the key is not ${base}<name>` };
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
  if (o.name !== name) return { ok: false, problem: `its name ${JSON.stringify(o.name)} is not ${name}` };
  if (typeof o.vrrp !== 'string' || !STATES.has(o.vrrp)) {
    return {
      ok: false,
      problem: `its vrrp ${JSON.stringify(o.vrrp)} is not one of ${VRRP_STATES.join(', ')}`,
    };
  }
  const priority = o.priority;
  if (
    priority !== null &&
    !(Number.isInteger(priority) && (priority as number) >= 0 && (priority as number) <= 255)
  ) {
    return { ok: false, problem: `its priority ${JSON.stringify(priority)} is not 0 to 255 or null` };
  }
  if (o.vip !== null && (typeof o.vip !== 'string' || isIP(o.vip) === 0)) {
    return { ok: false, problem: `its vip ${JSON.stringify(o.vip)} is not an IP address or null` };
  }
  if (typeof o.address !== 'string' || o.address.length > 100) {
    return { ok: false, problem: 'its address is not a string' };
  }
  if (typeof o.at !== 'number' || !Number.isFinite(o.at) || o.at < 0) {
    return { ok: false, problem: `its at ${JSON.stringify(o.at)} is not epoch milliseconds` };
  }
  return {
    ok: true,
    record: {
      name,
      vrrp: o.vrrp as VrrpState,
      priority: priority as number | null,
      vip: o.vip,
      address: o.address,
      at: o.at,
    },
  };
}

/** An address's host part for a record: the machine's interfaces as node lists them. */
export type Interfaces = Record<
  string,
  { address: string; family: string | number; internal: boolean }[] | undefined
>;

/**
 * Where peers and operators reach this front's public listener. A wildcard listener (0.0.0.0, ::)
 * is named by the machine's first external IPv4 address that is not the virtual IP (which moves
 * between fronts, so it says nothing about which one this is); failing that, as configured.
 */
export function advertisedAddress(
  host: string,
  port: number,
  interfaces: Interfaces,
  vip: string | null,
): string {
  let shown = host;
  if (host === '0.0.0.0' || host === '::') {
    const external = Object.values(interfaces)
      .flatMap((list) => list ?? [])
      .find((i) => !i.internal && (i.family === 'IPv4' || i.family === 4) && i.address !== vip);
    if (external !== undefined) shown = external.address;
  }
  return hostPort(shown, port);
}
