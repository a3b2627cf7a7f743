/**
 * How often node:http looks for connections past their headers or request timeout. Node only
 * notices an expired connection on this interval (`connectionsCheckingInterval`, 30 s by
 * default), so a 10 s headers timeout could cut a slowloris socket anywhere up to 40 s. A quarter
 * of the shorter timeout, at most every 250 ms, cuts every connection within a quarter second of
 * its deadline, leaving the rest of the second the project promises (docs/hardening.md) to the
 * work of closing thousands at once. A tick walks only the connections with a request under way
 * (node's active list, not the idle keep-alive ones): microseconds.
 */
export const MAX_CHECKING_INTERVAL_MS = 250;

export function connectionsCheckingIntervalMs(headersTimeoutMs: number, requestTimeoutMs: number): number {
  const shorter = Math.min(headersTimeoutMs || Infinity, requestTimeoutMs || Infinity);
  if (!Number.isFinite(shorter)) return MAX_CHECKING_INTERVAL_MS;
  return Math.max(50, Math.min(MAX_CHECKING_INTERVAL_MS, Math.floor(shorter / 4)));
}
