/**
 * What `npm run lb` prints: `status` as one table of the upstreams under a line naming the
 * balancer and its policy, and a control command as one line for the upstream it changed. A
 * Markdown table (report/markdown-table.ts), so it also pastes into an issue or a runbook. Pure.
 */
import type { DoorReport } from '../balancer/front-door.js';
import type { BalancerStatus, UpstreamStatus } from '../balancer/status.js';
import { formatInt } from '../report/format.js';
import { markdownTable, type Column } from '../report/markdown-table.js';

const COLUMNS: Column[] = [
  { header: 'name' },
  { header: 'address' },
  { header: 'state' },
  { header: 'admin' },
  { header: 'weight', align: 'right' },
  { header: 'in flight', align: 'right' },
  { header: 'served', align: 'right' },
  { header: 'failures', align: 'right' },
];

function row(u: UpstreamStatus): string[] {
  return [
    u.name,
    u.address,
    // Up but not given requests: say why, so "up" never reads as "in rotation" when it is not.
    u.state === 'up' && !u.available ? 'up, out' : u.state,
    u.admin,
    String(u.weight),
    formatInt(u.inFlight),
    formatInt(u.served),
    formatInt(u.failures),
  ];
}

export function formatUpstreamTable(status: BalancerStatus): string {
  const b = status.balancer;
  const head =
    `${b.name} (pid ${b.pid}): policy ${b.policy}, ` +
    `${status.pool.available} of ${status.pool.size} upstreams in rotation`;
  if (status.upstreams.length === 0) return `${head}; the pool is empty.\n`;
  return `${head}\n\n${markdownTable(COLUMNS, status.upstreams.map(row))}\n`;
}

/** What an upstream's admin state means for its traffic, for the line after a change. */
const MEANING: Record<UpstreamStatus['admin'], string> = {
  ready: 'in rotation when its health allows',
  drain: 'no new requests; those in flight finish',
  maint: 'out, health checks stopped',
};

/** `backend-9003 (127.0.0.1:9003): drain (no new requests; ...), weight 1, up, out of rotation, 2 in flight`. */
export function formatUpstreamLine(u: UpstreamStatus): string {
  return (
    `${u.name} (${u.address}): ${u.admin} (${MEANING[u.admin]}), weight ${u.weight}, ` +
    `${u.state}, ${u.available ? 'in rotation' : 'out of rotation'}, ${formatInt(u.inFlight)} in flight`
  );
}

/** `front door maint after 85 ms: no connection left` (what front-maint and front-ready print). */
export function formatDoorReport(r: DoorReport): string {
  if (r.state !== 'maint') return `front door ${r.state}: serving, a candidate for the address again`;
  const left = r.connectionsLeft === 0 ? 'no connection left' : `${r.connectionsLeft} connections still open`;
  return `front door maint after ${r.waitedMs} ms: ${left}; keepalived gives the address away`;
}
