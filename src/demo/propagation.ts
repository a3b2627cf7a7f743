/**
 * How long each change took to reach the balancer's pool in the multi-host demo. Pure: the
 * schedule's records, the etcd events the demo watched and the balancer's status readings in, one
 * row per change out. The precision is the status reading interval.
 *
 * - a link pulled: until none of that host's upstreams was in rotation (health checks, or the
 *   lease running out, whichever came first); plugged back: until all of them were again;
 * - a host joining: until its backends were all in rotation;
 * - an etcd put of an upstream not in rotation: until it was; a delete: until it was out.
 */
import { markdownTable } from '../report/markdown-table.js';
import { formatScheduleEntry } from './schedule.js';
import type { ActionRecord, Pm2Event, PoolSample } from './types.js';

export interface Propagation {
  change: string;
  /** What "reached the pool" means for this change. */
  until: string;
  fromMs: number;
  reachedMs: number | null;
  delayMs: number | null;
}

const readable = (samples: readonly PoolSample[]) =>
  samples.filter((s) => s.upstreams !== null).sort((a, b) => a.atMs - b.atMs);

const hostOf = (name: string) => name.split('/')[0] ?? '';

function firstAfter(
  rows: readonly PoolSample[],
  fromMs: number,
  ok: (s: PoolSample) => boolean,
): number | null {
  return rows.find((s) => s.atMs >= fromMs && ok(s))?.atMs ?? null;
}

function row(change: string, until: string, fromMs: number, reachedMs: number | null): Propagation {
  return { change, until, fromMs, reachedMs, delayMs: reachedMs === null ? null : reachedMs - fromMs };
}

export function propagationTimes(
  actions: readonly ActionRecord[],
  etcdEvents: readonly Pm2Event[],
  samples: readonly PoolSample[],
  backendsPerHost: number,
): Propagation[] {
  const rows = readable(samples);
  const out: Propagation[] = [];
  const inRotation = (s: PoolSample, name: string) =>
    s.upstreams?.some((u) => u.name === name && u.inRotation) ?? false;
  for (const a of actions) {
    if (!a.ok) continue;
    const link = /^link-(h\d+)$/.exec(a.app)?.[1];
    const joined = /^host-(h\d+)$/.exec(a.app)?.[1];
    const text = formatScheduleEntry(a);
    if (link !== undefined) {
      const before = rows.filter((s) => s.atMs <= a.startedAtMs).at(-1);
      const names = (before?.upstreams ?? []).map((u) => u.name).filter((n) => hostOf(n) === link);
      if (a.action === 'stop') {
        if (names.length === 0) continue;
        out.push(
          row(
            text,
            `no ${link} upstream in rotation`,
            a.startedAtMs,
            firstAfter(rows, a.startedAtMs, (s) => names.every((n) => !inRotation(s, n))),
          ),
        );
      } else {
        const everyName = rows
          .flatMap((s) => (s.upstreams ?? []).map((u) => u.name))
          .filter((n) => hostOf(n) === link);
        const all = [...new Set(everyName)];
        if (all.length === 0) continue;
        out.push(
          row(
            text,
            `every ${link} upstream in rotation`,
            a.startedAtMs,
            firstAfter(rows, a.startedAtMs, (s) => all.every((n) => inRotation(s, n))),
          ),
        );
      }
    } else if (joined !== undefined) {
      out.push(
        row(
          text,
          `${backendsPerHost} ${joined} upstreams in rotation`,
          a.startedAtMs,
          firstAfter(
            rows,
            a.startedAtMs,
            (s) =>
              (s.upstreams ?? []).filter((u) => hostOf(u.name) === joined && u.inRotation).length >=
              backendsPerHost,
          ),
        ),
      );
    }
  }
  for (const e of etcdEvents) {
    const before = rows.filter((s) => s.atMs <= e.atMs).at(-1);
    const was = before !== undefined && inRotation(before, e.app);
    const listed = before?.upstreams?.some((u) => u.name === e.app) ?? false;
    if (e.event === 'etcd put' && !was) {
      out.push(
        row(
          `etcd put ${e.app}`,
          'in rotation',
          e.atMs,
          firstAfter(rows, e.atMs, (s) => inRotation(s, e.app)),
        ),
      );
    } else if (e.event === 'etcd delete' && listed) {
      out.push(
        row(
          `etcd delete ${e.app}`,
          'out of rotation',
          e.atMs,
          firstAfter(rows, e.atMs, (s) => !inRotation(s, e.app)),
        ),
      );
    }
  }
  return out.sort((a, b) => a.fromMs - b.fromMs);
}

const seconds = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);
const millis = (ms: number | null) => (ms === null ? 'never' : `${Math.round(ms)} ms`);

export function renderPropagationMarkdown(rows: readonly Propagation[], statusIntervalMs: number): string {
  return [
    '## How long each change took to reach the pool',
    '',
    `From the change (the fault applied, or the etcd event the demo's own watch saw) to the first status reading that showed it; readings every ${statusIntervalMs} ms.`,
    '',
    markdownTable(
      [
        { header: 'at', align: 'right' as const },
        { header: 'change' },
        { header: 'until' },
        { header: 'took', align: 'right' as const },
      ],
      rows.map((r) => [seconds(r.fromMs), r.change, r.until, millis(r.delayMs)]),
    ),
    '',
  ].join('\n');
}
