/**
 * What the registrar wants in etcd, pure: from the PM2 pool as the PM2 source reports it, the key
 * and value of every member that is online and not on its way out. A member PM2 is stopping (its
 * stopping notice), has stopped or is restarting has no key, so the balancer drops it at once.
 */
import { encodeMember, memberKey, type MemberValue } from '../balancer/discovery/etcd-keys.js';
import type { UpstreamSpec } from '../balancer/discovery/types.js';

export interface DesiredKey {
  key: string;
  app: string;
  address: string;
  /** The value without its time stamp: what decides whether a key must be written again. */
  fingerprint: string;
  value(now: number): string;
}

export interface KeyScope {
  prefix: string;
  pool: string;
  hostName: string;
}

export function desiredKeys(
  scope: KeyScope,
  members: readonly UpstreamSpec[],
  leaving: ReadonlySet<string>,
): Map<string, DesiredKey> {
  const out = new Map<string, DesiredKey>();
  for (const m of members) {
    if (m.pm2 !== undefined && m.pm2.status !== 'online') continue;
    if (leaving.has(m.id)) continue;
    const key = memberKey(scope.prefix, scope.pool, scope.hostName, m.name);
    const base: Omit<MemberValue, 'registeredAt'> = {
      address: m.id,
      weight: m.weight ?? 1,
      host: scope.hostName,
      app: m.name,
      pm2:
        m.pm2 === undefined
          ? null
          : { pmId: m.pm2.pmId, status: m.pm2.status, pid: m.pm2.pid, restarts: m.pm2.restarts },
    };
    out.set(key, {
      key,
      app: m.name,
      address: m.id,
      fingerprint: JSON.stringify(base),
      value: (now) => encodeMember({ ...base, registeredAt: now }),
    });
  }
  return out;
}
