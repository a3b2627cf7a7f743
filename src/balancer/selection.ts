/**
 * Selection policies (Caddy's `selectionpolicies.go`, Pingora's `selection/`): given the pool, and
 * the upstreams a request already tried, pick one or none. A policy only reads `available`; it never
 * changes health. Per request, not per connection, and without allocating.
 */

/** What a policy needs to know about an upstream. */
export interface Candidate {
  /** Healthy enough for traffic (kept up to date by the pool; read on every request). */
  readonly available: boolean;
  /** Relative share of requests, 1 or more. */
  readonly weight: number;
}

export interface SelectionPolicy<T extends Candidate> {
  readonly name: string;
  /** The next upstream, skipping unavailable ones and those in `exclude`; undefined if none is left. */
  select(pool: readonly T[], exclude?: readonly T[]): T | undefined;
}

/**
 * Plain round robin: a counter and at most one lap of the pool, skipping hosts that cannot take
 * the request. The counter moves past the chosen host, so the next request starts at the one after.
 */
export class RoundRobin<T extends Candidate> implements SelectionPolicy<T> {
  readonly name = 'round-robin';
  private next = 0;

  select(pool: readonly T[], exclude?: readonly T[]): T | undefined {
    const n = pool.length;
    for (let step = 0; step < n; step++) {
      const index = (this.next + step) % n;
      const candidate = pool[index];
      if (candidate === undefined || !candidate.available) continue;
      if (exclude !== undefined && exclude.includes(candidate)) continue;
      this.next = (index + 1) % n;
      return candidate;
    }
    return undefined;
  }
}

/**
 * nginx's smooth weighted round robin: each pick, every eligible host gains its weight, the
 * highest goes and loses the total. Weights 5,1,1 give a a b a c a a rather than a a a a a b c.
 * With equal weights it is plain round robin.
 */
export class SmoothWeightedRoundRobin<T extends Candidate> implements SelectionPolicy<T> {
  readonly name = 'weighted-round-robin';
  private readonly current = new Map<T, number>();

  select(pool: readonly T[], exclude?: readonly T[]): T | undefined {
    let best: T | undefined;
    let bestScore = -Infinity;
    let total = 0;
    for (const candidate of pool) {
      if (!candidate.available) continue;
      if (exclude !== undefined && exclude.includes(candidate)) continue;
      const score = (this.current.get(candidate) ?? 0) + candidate.weight;
      this.current.set(candidate, score);
      total += candidate.weight;
      if (score > bestScore) {
        bestScore = score;
        best = candidate;
      }
    }
    if (best !== undefined) this.current.set(best, bestScore - total);
    return best;
  }

  /** Drop the memory of upstreams that left the pool. */
  forget(candidate: T): void {
    this.current.delete(candidate);
  }
}

/** Round robin when every weight is equal (cheaper), smooth weighted round robin otherwise. */
export function policyFor<T extends Candidate>(pool: readonly T[]): SelectionPolicy<T> {
  const first = pool[0]?.weight ?? 1;
  return pool.every((u) => u.weight === first) ? new RoundRobin<T>() : new SmoothWeightedRoundRobin<T>();
}
