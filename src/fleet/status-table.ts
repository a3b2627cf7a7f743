/**
 * What `npm run status` prints: PM2's apps of the fleet's namespace as a table, like `pm2 ls`
 * (which cannot filter by namespace), plus a count of the daemon's other apps. Pure, so tested.
 */
import { formatBytes, formatMs } from '../report/format.js';
import type { Pm2App } from '../supervisor/pm2-app.js';

const COLUMNS = ['id', 'name', 'status', 'pid', 'uptime', 'restarts', 'cpu', 'memory'] as const;

function row(app: Pm2App): string[] {
  return [
    String(app.pmId),
    app.name,
    app.status,
    app.pid === null ? '-' : String(app.pid),
    app.uptimeMs === null ? '-' : formatMs(app.uptimeMs),
    String(app.restarts),
    `${app.cpuPercent}%`,
    formatBytes(app.memoryBytes),
  ];
}

export function formatStatusTable(namespace: string, apps: readonly Pm2App[]): string {
  const ours = apps.filter((a) => a.namespace === namespace).sort((a, b) => a.pmId - b.pmId);
  const others = apps.length - ours.length;
  const elsewhere =
    others === 0 ? '' : ` (${others} app${others === 1 ? '' : 's'} of other namespaces not shown)`;
  if (ours.length === 0) return `PM2 runs no app in namespace ${namespace}${elsewhere}.\n`;
  const rows = [[...COLUMNS], ...ours.map(row)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  return `PM2 namespace ${namespace}${elsewhere}:\n${lines.join('\n')}\n`;
}
