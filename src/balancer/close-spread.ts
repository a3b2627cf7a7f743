/**
 * When each of `count` connections is closed if closing is spread over `spreadMs` (HAProxy's
 * close-spread-time): evenly, the first at once and the last before the window ends, so clients
 * reconnect in a trickle rather than all in the same millisecond. Pure.
 */
export function closeSchedule(count: number, spreadMs: number): number[] {
  if (count <= 0) return [];
  const step = spreadMs / count;
  return Array.from({ length: count }, (_, i) => Math.floor(i * step));
}
