/**
 * The demo's console output: a header, one line per second while the load runs, and the summary at
 * the end. Pure: strings from records, so the layout is tested without running anything.
 */
import { formatMs, formatPercent } from '../report/format.js';
import { formatScheduleEntry, formatSeconds } from './schedule.js';
import type { DemoSummary } from './summary.js';
import type { TimelineSecond } from './timeline.js';

/** A point on the demo's clock: `+5.02s`. */
export function formatAt(ms: number): string {
  return `${ms < 0 ? '-' : '+'}${(Math.abs(ms) / 1000).toFixed(2)}s`;
}

/** Each known upstream by name when in rotation, dashes where it is missing, so columns line up. */
export function formatPool(row: Pick<TimelineSecond, 'inRotation' | 'known'>): string {
  if (row.inRotation === null) return 'status not readable';
  const inside = new Set(row.inRotation);
  const names = row.known.map((n) => (inside.has(n) ? n : '-'.repeat(n.length)));
  return `${row.inRotation.length}/${row.known.length} ${names.join(' ')}`;
}

/**
 * What happened in the second, in time order: actions, pool changes, PM2 online/exit events. Live,
 * an action's line is printed before it ends, so its result goes with the second it ended in; in
 * the report its start already carries the result, and its end is just marked.
 */
export function formatEvents(row: TimelineSecond, live = false): string {
  const items: { atMs: number; text: string }[] = [];
  for (const a of row.actions) {
    const result = a.ok
      ? `${a.detail}, took ${formatMs(a.finishedAtMs - a.startedAtMs)}`
      : `FAILED: ${a.detail}`;
    items.push({ atMs: a.startedAtMs, text: `>> ${a.action} ${a.app} (${result})` });
  }
  for (const a of row.actionsRunning) {
    items.push({ atMs: a.startedAtMs, text: `>> ${a.action} ${a.app} (running)` });
  }
  for (const a of row.actionsEnded) {
    const result = a.ok ? `done: ${a.detail}` : `FAILED: ${a.detail}`;
    const text = live
      ? `${a.action} ${a.app} ${result}, took ${formatMs(a.finishedAtMs - a.startedAtMs)}`
      : `${a.action} ${a.app} ${a.ok ? 'done' : 'failed'}`;
    items.push({ atMs: a.finishedAtMs, text });
  }
  for (const c of row.poolChanges) {
    items.push({
      atMs: c.atMs,
      text: `${c.app} ${c.change === 'left' ? 'left rotation' : 'back in rotation'}`,
    });
  }
  for (const e of row.pm2Events) {
    if (e.event === 'online' || e.event === 'exit')
      items.push({ atMs: e.atMs, text: `pm2: ${e.app} ${e.event}` });
  }
  return items
    .sort((a, b) => a.atMs - b.atMs)
    .map((i) => `${i.text} ${formatAt(i.atMs)}`)
    .join('; ');
}

export const TIMELINE_HEADER = `${'t'.padStart(4)} ${'requests'.padStart(8)} ${'failed'.padStart(6)} ${'p99'.padStart(8)}  pool in rotation (balancer's view) | events`;

export function formatTimelineLine(row: TimelineSecond, live = false): string {
  const events = formatEvents(row, live);
  return [
    `${row.second}s`.padStart(4),
    String(row.requests).padStart(8),
    String(row.failures).padStart(6),
    formatMs(row.p99Ms).padStart(8),
    ` ${formatPool(row)}${events === '' ? '' : ` | ${events}`}`,
  ].join(' ');
}

export function formatSettings(summary: Pick<DemoSummary, 'settings'>): string {
  const s = summary.settings;
  return [
    `Load: GET ${s.url} at ${s.rate} requests/s for ${formatSeconds(s.durationMs)}, at most ${s.concurrency} in flight;`,
    `balancer retries ${s.retries ? 'on' : 'OFF (--no-retry)'}; schedule: ${s.schedule.map(formatScheduleEntry).join(' ')}`,
  ].join(' ');
}

/** The verdict of a run that passed: zero failed, or only those on a SIGKILLed balancer worker. */
export function passLine(summary: Pick<DemoSummary, 'requests'>): string {
  const r = summary.requests;
  if (r.failed === 0) return `${r.sent} requests, zero failed, every action happened.`;
  return (
    `${r.sent} requests; the only ${r.failed} failed were in flight on the SIGKILLed balancer worker ` +
    '(a killed process takes its connections with it), every action happened.'
  );
}

export function formatSummary(summary: DemoSummary): string {
  const r = summary.requests;
  const lines = ['', 'Summary', `  ${formatSettings(summary)}`];
  lines.push(`  requests sent ${r.sent}, answered ok ${r.ok}, failed ${r.failed}`);
  for (const [reason, n] of Object.entries(r.errors)) lines.push(`    ${n}x ${reason}`);
  const l = summary.latency;
  lines.push(`  latency p50 ${formatMs(l.p50Ms)}, p99 ${formatMs(l.p99Ms)}, max ${formatMs(l.maxMs)}`);
  lines.push('  good answers per backend (X-Served-By):');
  for (const b of summary.perBackend) {
    lines.push(`    ${b.app.padEnd(16)} ${String(b.served).padStart(7)}  ${formatPercent(b.share)}`);
  }
  lines.push('  actions:');
  for (const a of summary.actions) {
    const result = a.ok
      ? `ok, ${a.detail}, took ${formatMs(a.finishedAtMs - a.startedAtMs)}`
      : `FAILED: ${a.detail}`;
    lines.push(`    ${formatAt(a.startedAtMs)} ${a.action} ${a.app}: ${result}`);
  }
  lines.push(`  time out of rotation (balancer's view, read every ${summary.settings.statusIntervalMs} ms):`);
  for (const o of summary.outOfRotation) {
    const spans = o.intervals
      .map((i) => `${formatAt(i.fromMs)}..${i.toMs === null ? 'end (still out)' : formatAt(i.toMs)}`)
      .join(', ');
    lines.push(
      `    ${o.app.padEnd(16)} ${formatMs(o.totalMs).padStart(8)}${spans === '' ? '' : `  (${spans})`}`,
    );
  }
  lines.push('  PM2 restart counts, before -> after:');
  for (const c of summary.restarts) {
    const pids = `pid ${c.pidBefore ?? '-'} -> ${c.pidAfter ?? '-'}`;
    lines.push(`    ${c.app.padEnd(16)} ${c.before ?? '?'} -> ${c.after ?? '?'}  (${pids})`);
  }
  lines.push('  from PM2 online to back in rotation:');
  if (summary.onlineToRotation.length === 0) lines.push('    (no online event during the run)');
  for (const o of summary.onlineToRotation) {
    const back = o.delayMs === null ? 'never back in rotation' : `${formatMs(o.delayMs)} later`;
    lines.push(`    ${o.app.padEnd(16)} online ${formatAt(o.onlineAtMs)}, in rotation ${back}`);
  }
  lines.push(summary.passed ? `PASS: ${passLine(summary)}` : `FAIL: ${summary.problems.join('; ')}`);
  return lines.join('\n');
}
