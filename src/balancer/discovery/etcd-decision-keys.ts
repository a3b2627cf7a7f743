/**
 * How operators' decisions are written in etcd, so every balancer reading the same registry
 * applies the same drain, maint and weight (issue 28: two front balancers behind one address).
 * Pure: no client, no sockets.
 *
 *   <prefix>/decisions/<pool>/<encodeURIComponent(upstream name)>
 *     -> {"admin":"drain","weight":null,"by":"supervised-balancer lb (root) from 127.0.0.1:51366 via ...","at":1765000000000}
 *
 * No key means ready at discovery's weight. A value is checked as if a stranger wrote it
 * (etcdctl reaches it too): anything that does not parse is refused with a reason, never applied.
 */
import type { AdminDecision } from '../pool.js';
import { ADMIN_STATES, MAX_WEIGHT, type AdminState } from '../zone.js';

/** A whole decision, as one key holds it: both parts, who asked and when. */
export interface DecisionValue {
  admin: AdminState;
  /** 0 to 256; null: the weight discovery gives. */
  weight: number | null;
  /** Who asked, from where, through which balancer. */
  by: string;
  /** Epoch ms when the balancer wrote it. */
  at: number;
}

/** Long enough for a User-Agent, an address and a balancer's name; a longer one is cut. */
const MAX_BY = 300;

/** A whole decision: what holds for an upstream after one asked for part of it. */
export type WholeDecision = Pick<DecisionValue, 'admin' | 'weight'>;

export const READY: WholeDecision = { admin: 'ready', weight: null };

/** `<prefix>/decisions/<pool>/`: every decision on one pool (what a balancer reads and watches). */
export function decisionsPrefix(prefix: string, pool: string): string {
  return `${prefix}/decisions/${pool}/`;
}

/** Upstream names under etcd discovery are `<host>/<app>`: the slash is encoded, so one key level. */
export function decisionKey(prefix: string, pool: string, name: string): string {
  return `${decisionsPrefix(prefix, pool)}${encodeURIComponent(name)}`;
}

export function encodeDecision(value: DecisionValue): string {
  return JSON.stringify(value);
}

/** Ready at discovery's weight: what no key at all says (so the key is deleted, not written). */
export function isReady(decision: WholeDecision): boolean {
  return decision.admin === 'ready' && decision.weight === null;
}

/** The decision in force after `asked` (one part of it) on an upstream whose decision is `now`. */
export function decisionAfter(now: WholeDecision, asked: AdminDecision): WholeDecision {
  return {
    admin: asked.admin ?? now.admin,
    weight: asked.weight === undefined ? now.weight : asked.weight,
  };
}

export type DecodedName = { ok: true; name: string } | { ok: false; problem: string };

/** The upstream a key under `decisionsPrefix(prefix, pool)` is about. */
export function decodeDecisionKey(prefix: string, pool: string, key: string): DecodedName {
  const base = decisionsPrefix(prefix, pool);
  if (!key.startsWith(base)) return { ok: false, problem: `the key is not under ${base}` };
  const rest = key.slice(base.length);
  if (rest === '' || rest.includes('/')) {
    return { ok: false, problem: `the key is not ${base}<upstream name, URI-encoded>` };
  }
  try {
    return { ok: true, name: decodeURIComponent(rest) };
  } catch {
    return { ok: false, problem: `"${rest}" is not a URI-encoded upstream name` };
  }
}

export type DecodedDecision =
  { ok: true; name: string; value: DecisionValue } | { ok: false; problem: string };

/** One key and its value, read under `decisionsPrefix(prefix, pool)`. */
export function decodeDecision(prefix: string, pool: string, key: string, raw: string): DecodedDecision {
  const named = decodeDecisionKey(prefix, pool, key);
  if (!named.ok) return named;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, problem: `its value is not JSON (${JSON.stringify(raw.slice(0, 60))})` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, problem: 'its value is not a JSON object' };
  }
  const o = parsed as Record<string, unknown>;
  if (typeof o.admin !== 'string' || !ADMIN_STATES.includes(o.admin as AdminState)) {
    return {
      ok: false,
      problem: `its admin ${JSON.stringify(o.admin)} is not one of ${ADMIN_STATES.join(', ')}`,
    };
  }
  const weight = o.weight;
  const weightOk =
    weight === null ||
    (typeof weight === 'number' && Number.isInteger(weight) && weight >= 0 && weight <= MAX_WEIGHT);
  if (!weightOk) {
    return {
      ok: false,
      problem: `its weight ${JSON.stringify(weight)} is not null or a whole number from 0 to ${MAX_WEIGHT}`,
    };
  }
  if (o.by !== undefined && typeof o.by !== 'string')
    return { ok: false, problem: 'its "by" is not a string' };
  if (o.at !== undefined && (typeof o.at !== 'number' || !Number.isFinite(o.at))) {
    return { ok: false, problem: 'its "at" is not a time in epoch ms' };
  }
  return {
    ok: true,
    name: named.name,
    value: {
      admin: o.admin as AdminState,
      weight,
      by: typeof o.by === 'string' && o.by !== '' ? o.by.slice(0, MAX_BY) : 'an unnamed writer',
      at: typeof o.at === 'number' ? o.at : 0,
    },
  };
}

/** One decision to hand the pool, and whom its log line names. */
export interface DecisionStep {
  name: string;
  decision: WholeDecision;
  by: string;
}

/**
 * What makes the decisions in force (`inForce`, by name, as the pool lists them) exactly those of a
 * whole read of etcd at `revision`: each decision read, and ready for any other name in force
 * (made ready through another balancer while this one did not hear it).
 */
export function stepsToMatch(
  inForce: Readonly<Record<string, AdminDecision>>,
  read: ReadonlyMap<string, DecisionValue>,
  revision: number,
): DecisionStep[] {
  const steps: DecisionStep[] = [];
  for (const name of Object.keys(inForce)) {
    if (!read.has(name))
      steps.push({ name, decision: READY, by: `etcd: no decision at revision ${revision}` });
  }
  for (const [name, value] of read) {
    steps.push({ name, decision: { admin: value.admin, weight: value.weight }, by: `etcd: ${value.by}` });
  }
  return steps;
}

/** `drain`, `weight 3`, `maint, weight 0`, `ready`: a decision in the words of a log line. */
export function describeDecision(decision: WholeDecision): string {
  if (decision.weight === null) return decision.admin;
  return decision.admin === 'ready'
    ? `weight ${decision.weight}`
    : `${decision.admin}, weight ${decision.weight}`;
}
