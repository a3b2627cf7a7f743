/**
 * The one checked reader of the balancer's status document (status.ts writes it), for whoever
 * reads it over HTTP: `npm start` waiting for the pool, the operations demo, `npm run lb` (which
 * also reads the one upstream a control route answers), the tests. It checks
 * the fields those readers rely on and throws, naming the field, when the document is not what
 * this balancer emits; it accepts nothing the balancer does not write.
 */
import { InternalError } from '../errors.js';
import type { HealthStatus } from './health-state.js';
import type { BalancerStatus, UpstreamStatus } from './status.js';
import { ADMIN_STATES } from './zone.js';
import { VRRP_STATES } from './front/vrrp-state.js';

type Loose = Record<string, unknown>;

const HEALTH: ReadonlySet<string> = new Set<HealthStatus>(['unknown', 'up', 'down']);
const ADMIN = new Set<string>(ADMIN_STATES);
const VRRP = new Set<string>(VRRP_STATES);

function isObject(v: unknown): v is Loose {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function shapeError(where: string, wanted: string): InternalError {
  return new InternalError('ERR_STATUS_SHAPE', `balancer status: ${where} is not ${wanted}`);
}

/** One entry of `upstreams`, or a control route's answer (`where` names it in the error). */
export function readUpstreamStatus(raw: unknown, where = 'the upstream'): UpstreamStatus {
  if (!isObject(raw)) throw shapeError(where, 'an object');
  for (const key of ['id', 'name', 'address', 'reason'] as const) {
    if (typeof raw[key] !== 'string') throw shapeError(`${where}.${key}`, 'a string');
  }
  for (const key of ['since', 'weight', 'inFlight', 'attempts', 'served', 'failures'] as const) {
    if (typeof raw[key] !== 'number') throw shapeError(`${where}.${key}`, 'a number');
  }
  if (typeof raw.state !== 'string' || !HEALTH.has(raw.state)) {
    throw shapeError(`${where}.state`, 'one of unknown, up, down');
  }
  if (typeof raw.available !== 'boolean') throw shapeError(`${where}.available`, 'a boolean');
  if (typeof raw.admin !== 'string' || !ADMIN.has(raw.admin)) {
    throw shapeError(`${where}.admin`, 'one of ready, drain, maint');
  }
  if (raw.pm2 !== null && !isObject(raw.pm2)) throw shapeError(`${where}.pm2`, 'an object or null');
  if (raw.lastCheck !== null && !isObject(raw.lastCheck)) {
    throw shapeError(`${where}.lastCheck`, 'an object or null');
  }
  return raw as unknown as UpstreamStatus;
}

/** `balancer.front`: null (no front), or the front's state and its peers. */
function checkFront(raw: unknown): void {
  if (raw === null || raw === undefined) return;
  const where = 'balancer.front';
  if (!isObject(raw)) throw shapeError(where, 'an object or null');
  if (typeof raw.name !== 'string') throw shapeError(`${where}.name`, 'a string');
  if (typeof raw.splitBrain !== 'boolean') throw shapeError(`${where}.splitBrain`, 'a boolean');
  const states = `one of ${VRRP_STATES.join(', ')}`;
  if (typeof raw.vrrp !== 'string' || !VRRP.has(raw.vrrp)) throw shapeError(`${where}.vrrp`, states);
  if (!Array.isArray(raw.peers)) throw shapeError(`${where}.peers`, 'a list');
  raw.peers.forEach((p: unknown, i) => {
    const at = `${where}.peers[${i}]`;
    if (!isObject(p) || typeof p.name !== 'string') throw shapeError(`${at}.name`, 'a string');
    if (typeof p.vrrp !== 'string' || !VRRP.has(p.vrrp)) throw shapeError(`${at}.vrrp`, states);
    if (typeof p.lastContactMs !== 'number') throw shapeError(`${at}.lastContactMs`, 'a number');
  });
}

/** The parsed JSON of `GET /__lb/status`, checked. */
export function readBalancerStatus(body: unknown): BalancerStatus {
  if (!isObject(body)) throw shapeError('the document', 'an object');
  const { balancer, pool, upstreams } = body;
  if (!isObject(balancer)) throw shapeError('balancer', 'an object');
  if (typeof balancer.retries !== 'boolean') throw shapeError('balancer.retries', 'a boolean');
  if (typeof balancer.name !== 'string') throw shapeError('balancer.name', 'a string');
  if (typeof balancer.policy !== 'string') throw shapeError('balancer.policy', 'a string');
  checkFront(balancer.front);
  if (!isObject(pool) || typeof pool.size !== 'number' || typeof pool.available !== 'number') {
    throw shapeError('pool', 'a size and an available count');
  }
  if (!Array.isArray(upstreams)) throw shapeError('upstreams', 'a list');
  upstreams.forEach((u, i) => readUpstreamStatus(u, `upstreams[${i}]`));
  return body as unknown as BalancerStatus;
}
