/**
 * How often node:http looks for connections past their headers or request timeout. Node only
 * notices an expired connection on this interval (`connectionsCheckingInterval`, 30 s by
 * default), so a 10 s headers timeout could cut a slowloris socket anywhere up to 40 s. A quarter
 * of the shorter timeout, capped at one second, keeps every listener within a second of its
 * documented value (docs/hardening.md), at the cost of one walk of the connection list per tick.
 */
export function connectionsCheckingIntervalMs(headersTimeoutMs: number, requestTimeoutMs: number): number {
  const shorter = Math.min(headersTimeoutMs || Infinity, requestTimeoutMs || Infinity);
  if (!Number.isFinite(shorter)) return 1000;
  return Math.max(50, Math.min(1000, Math.floor(shorter / 4)));
}
