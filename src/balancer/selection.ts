/**
 * Selection policies (Caddy's `selectionpolicies.go`, Pingora's `selection/`): given the pool, and
 * the upstreams a request already tried, pick one or none. A policy only reads `available`,
 * `weight` and `load`; it never changes health. Per request, not per connection, and without
 * allocating. The turn comes from a ticket source that every worker of a balancer shares (the
 * zone's cursor), so one rotation runs across all of them, whichever accepted the connection.
 */

/** What a policy needs to know about an upstream. */
export interface Candidate {
  /** May take a new request (healthy, admin ready, weight above 0; read on every request). */
  readonly available: boolean;
  /** Relative share of requests. */
  readonly weight: number;
  /** Requests in flight to it from every worker (least-request reads it). */
  readonly load: number;
}

/** The shared turn: one ticket per pick, and an epoch that moves when weights or members change. */
export interface Tickets {
  ticket(): number;
  readonly epoch: number;
}

export type PolicyKind = 'round-robin' | 'least-request';
export const POLICY_KINDS: readonly PolicyKind[] = ['round-robin', 'least-request'];

export interface SelectionPolicy<T extends Candidate> {
  readonly name: string;
  /** The next upstream, skipping unavailable ones and those in `exclude`; undefined if none is left. */
  select(pool: readonly T[], exclude?: readonly T[]): T | undefined;
}

/** A counter of one's own: a policy outside a balancer (tests, a tool). */
export function localTickets(): Tickets {
  let next = 0;
  return { ticket: () => next++, epoch: 0 };
}

/**
 * nginx's smooth weighted round robin as a sequence: each pick, every host gains its weight, the
 * highest goes and loses the total. Weights 5,1,1 give a a b a c a a rather than a a a a a b c;
 * equal weights give the pool in order. Hosts of weight 0 are left out.
 */
export function smoothSequence<T extends Candidate>(pool: readonly T[]): T[] {
  const weights = pool.map((c) => Math.max(0, c.weight));
  const total = weights.reduce((a, b) => a + b, 0);
  const current = weights.map(() => 0);
  const out: T[] = [];
  for (let pick = 0; pick < total; pick++) {
    let best = -1;
    for (let i = 0; i < pool.length; i++) {
      current[i] = (current[i] ?? 0) + (weights[i] ?? 0);
      if ((weights[i] ?? 0) > 0 && (best === -1 || (current[i] ?? 0) > (current[best] ?? 0))) best = i;
    }
    const chosen = pool[best];
    if (chosen === undefined) break;
    current[best] = (current[best] ?? 0) - total;
    out.push(chosen);
  }
  return out;
}

function allowed<T extends Candidate>(c: T | undefined, exclude?: readonly T[]): c is T {
  return c !== undefined && c.available && (exclude === undefined || !exclude.includes(c));
}

/**
 * Round robin over the smooth weighted sequence (the pool itself when weights are equal): each
 * pick takes a ticket and the host at that place, and a host that cannot take the request costs
 * one more ticket, at most one lap of the sequence; then every place is looked at, since tickets
 * shared with other workers need not cover them all.
 */
export class RoundRobin<T extends Candidate> implements SelectionPolicy<T> {
  private sequence: readonly T[] = [];
  private builtFor: readonly T[] | null = null;
  private builtAt = -1;
  private weighted = false;

  constructor(private readonly tickets: Tickets = localTickets()) {}

  /** Weighted or not as the weights are now (an operator may have changed one). */
  get name(): string {
    if (this.builtFor !== null) this.sequenceFor(this.builtFor);
    return this.weighted ? 'weighted-round-robin' : 'round-robin';
  }

  select(pool: readonly T[], exclude?: readonly T[]): T | undefined {
    const sequence = this.sequenceFor(pool);
    const n = sequence.length;
    for (let step = 0; step < n; step++) {
      const candidate = sequence[this.tickets.ticket() % n];
      if (allowed(candidate, exclude)) return candidate;
    }
    // Other workers take tickets between ours, so those steps may have landed on the same few
    // places: before saying none is left, look at every one.
    for (const candidate of sequence) if (allowed(candidate, exclude)) return candidate;
    return undefined;
  }

  /** The sequence for this pool, built again only when the pool or the weights changed. */
  sequenceFor(pool: readonly T[]): readonly T[] {
    const epoch = this.tickets.epoch;
    if (pool !== this.builtFor || epoch !== this.builtAt) {
      const first = pool[0]?.weight ?? 1;
      this.weighted = !pool.every((c) => c.weight === first);
      this.sequence = this.weighted || first <= 0 ? smoothSequence(pool) : pool;
      this.builtFor = pool;
      this.builtAt = epoch;
    }
    return this.sequence;
  }
}

/** The smooth weighted policy under its own name (a pool whose weights differ gets it anyway). */
export class SmoothWeightedRoundRobin<T extends Candidate> extends RoundRobin<T> {
  override get name(): string {
    return 'weighted-round-robin';
  }
}

/**
 * Least request with the power of two choices (Envoy's LEAST_REQUEST, HAProxy's `random(2)`,
 * nginx's `random two least_conn`): the host whose turn it is and one other at random; the one
 * with fewer requests in flight per unit of weight wins, and a tie goes to the one in turn. So an
 * idle pool is served in rotation, and a slow host, holding its requests longer, gets fewer.
 */
export class LeastRequest<T extends Candidate> implements SelectionPolicy<T> {
  readonly name = 'least-request';
  private readonly turn: RoundRobin<T>;

  constructor(
    tickets: Tickets = localTickets(),
    private readonly random: () => number = Math.random,
  ) {
    this.turn = new RoundRobin<T>(tickets);
  }

  select(pool: readonly T[], exclude?: readonly T[]): T | undefined {
    const first = this.turn.select(pool, exclude);
    if (first === undefined) return undefined;
    const n = pool.length;
    const start = Math.floor(this.random() * n);
    let second: T | undefined;
    for (let step = 0; step < n; step++) {
      const candidate = pool[(start + step) % n];
      if (candidate !== first && allowed(candidate, exclude)) {
        second = candidate;
        break;
      }
    }
    if (second === undefined) return first;
    // (load + 1) / weight compared without dividing: fewer in flight per unit of weight wins.
    const a = (first.load + 1) * second.weight;
    const b = (second.load + 1) * first.weight;
    return b < a ? second : first;
  }
}

/** The policy of that kind over one shared turn. */
export function policyFor<T extends Candidate>(
  pool: readonly T[],
  kind: PolicyKind = 'round-robin',
  tickets: Tickets = localTickets(),
): SelectionPolicy<T> {
  if (kind === 'least-request') return new LeastRequest<T>(tickets);
  const rr = new RoundRobin<T>(tickets);
  rr.sequenceFor(pool);
  return rr;
}
