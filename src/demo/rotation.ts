/**
 * What the balancer's readings say about each backend: when it was out of rotation, and how long it
 * took, after PM2 reported it `online`, to be back in rotation. Pure; the precision is the status
 * reading interval, which the report states.
 */
import type { Pm2Event, PoolSample } from './types.js';

export interface OutInterval {
  fromMs: number;
  /** Null when it was still out at the last reading. */
  toMs: number | null;
}

export interface OutOfRotation {
  app: string;
  intervals: OutInterval[];
  /** Sum of the intervals; an open one counts up to the last reading. */
  totalMs: number;
}

export interface OnlineToRotation {
  app: string;
  onlineAtMs: number;
  /** First reading at or after `onlineAtMs` with the app in rotation; null if none came. */
  backAtMs: number | null;
  delayMs: number | null;
}

/** Readings the status could be read at, in time order. */
function readable(samples: readonly PoolSample[]): PoolSample[] {
  return samples.filter((s) => s.upstreams !== null).sort((a, b) => a.atMs - b.atMs);
}

function inRotationAt(sample: PoolSample, app: string): boolean {
  return sample.upstreams?.some((u) => u.name === app && u.inRotation) ?? false;
}

/**
 * Out-of-rotation intervals of every upstream seen. An upstream missing from a reading (PM2
 * discovery may drop a stopped app) is out; one not seen yet is not tracked until it appears.
 */
export function outOfRotation(samples: readonly PoolSample[]): OutOfRotation[] {
  const rows = readable(samples);
  const last = rows.at(-1);
  const result = new Map<string, OutOfRotation>();
  const openSince = new Map<string, number>();
  for (const sample of rows) {
    for (const u of sample.upstreams ?? []) {
      if (!result.has(u.name)) result.set(u.name, { app: u.name, intervals: [], totalMs: 0 });
    }
    for (const [app, entry] of result) {
      const inside = inRotationAt(sample, app);
      const since = openSince.get(app);
      if (!inside && since === undefined) {
        openSince.set(app, sample.atMs);
      } else if (inside && since !== undefined) {
        entry.intervals.push({ fromMs: since, toMs: sample.atMs });
        entry.totalMs += sample.atMs - since;
        openSince.delete(app);
      }
    }
  }
  for (const [app, since] of openSince) {
    const entry = result.get(app);
    if (entry === undefined || last === undefined) continue;
    entry.intervals.push({ fromMs: since, toMs: null });
    entry.totalMs += last.atMs - since;
  }
  return [...result.values()].sort((a, b) => a.app.localeCompare(b.app));
}

/** For every PM2 `online` of an upstream the balancer knows: the wait until it was in rotation again. */
export function onlineToRotation(
  events: readonly Pm2Event[],
  samples: readonly PoolSample[],
): OnlineToRotation[] {
  const rows = readable(samples);
  const known = new Set(rows.flatMap((s) => (s.upstreams ?? []).map((u) => u.name)));
  return events
    .filter((e) => e.event === 'online' && known.has(e.app))
    .sort((a, b) => a.atMs - b.atMs)
    .map((e) => {
      const back = rows.find((s) => s.atMs >= e.atMs && inRotationAt(s, e.app));
      return {
        app: e.app,
        onlineAtMs: e.atMs,
        backAtMs: back?.atMs ?? null,
        delayMs: back === undefined ? null : back.atMs - e.atMs,
      };
    });
}
