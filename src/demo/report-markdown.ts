/** The demo's report.md: the verdict, the summary tables and the whole timeline. Pure. */
import { markdownTable } from '../report/markdown-table.js';
import { formatMs, formatInt, formatPercent } from '../report/format.js';
import { formatAt, formatEvents, formatPool, formatSettings, passLine } from './format-text.js';
import { formatScheduleEntry } from './schedule.js';
import type { DemoSummary } from './summary.js';
import type { TimelineSecond } from './timeline.js';

export function renderDemoMarkdown(
  summary: DemoSummary,
  rows: readonly TimelineSecond[],
  chartFile: string,
): string {
  const r = summary.requests;
  const out: string[] = [];
  out.push(`# Operations demo: ${summary.passed ? 'PASS' : 'FAIL'}`, '');
  out.push(`Run at ${summary.startedAt}. ${formatSettings(summary)}`, '');
  out.push(
    summary.passed ? `**${passLine(summary)}**` : `**Did not pass:** ${summary.problems.join('; ')}`,
    '',
  );
  out.push(`![requests per second, p99 and per-backend share over time](${chartFile})`, '');

  out.push('## Requests', '');
  const l = summary.latency;
  out.push(
    markdownTable(
      ['sent', 'answered ok', 'failed', 'p50', 'p99', 'max'].map((h) => ({
        header: h,
        align: 'right' as const,
      })),
      [
        [
          formatInt(r.sent),
          formatInt(r.ok),
          formatInt(r.failed),
          formatMs(l.p50Ms),
          formatMs(l.p99Ms),
          formatMs(l.maxMs),
        ],
      ],
    ),
    '',
    'Latencies as loadtest measures them: whole milliseconds, from just before a request is made (so time',
    'queued behind the concurrency limit counts) to the end of its answer.',
    '',
  );
  if (Object.keys(r.errors).length > 0) {
    out.push(
      markdownTable(
        ['failure', { header: 'count', align: 'right' }],
        Object.entries(r.errors).map(([reason, n]) => [reason, formatInt(n)]),
      ),
      '',
    );
  }

  out.push('## Good answers per backend (X-Served-By)', '');
  out.push(
    markdownTable(
      ['backend', { header: 'answers', align: 'right' }, { header: 'share', align: 'right' }],
      summary.perBackend.map((b) => [b.app, formatInt(b.served), formatPercent(b.share)]),
    ),
    '',
  );

  out.push('## Actions (through PM2)', '');
  out.push(
    markdownTable(
      ['planned', 'started', 'action', 'app', 'result', { header: 'took', align: 'right' }],
      summary.actions.map((a) => [
        formatScheduleEntry(a),
        formatAt(a.startedAtMs),
        a.action,
        a.app,
        a.ok ? a.detail : `FAILED: ${a.detail}`,
        formatMs(a.finishedAtMs - a.startedAtMs),
      ]),
    ),
    '',
  );

  out.push(
    `## Out of rotation (the balancer's view, read every ${summary.settings.statusIntervalMs} ms)`,
    '',
  );
  out.push(
    markdownTable(
      ['backend', { header: 'total', align: 'right' }, 'intervals'],
      summary.outOfRotation.map((o) => [
        o.app,
        formatMs(o.totalMs),
        o.intervals
          .map((i) => `${formatAt(i.fromMs)} .. ${i.toMs === null ? 'end' : formatAt(i.toMs)}`)
          .join(', '),
      ]),
    ),
    '',
  );

  out.push('## PM2 restart counts', '');
  out.push(
    markdownTable(
      [
        'app',
        { header: 'before', align: 'right' },
        { header: 'after', align: 'right' },
        { header: 'pid before', align: 'right' },
        { header: 'pid after', align: 'right' },
      ],
      summary.restarts.map((c) => [
        c.app,
        String(c.before ?? '?'),
        String(c.after ?? '?'),
        String(c.pidBefore ?? '-'),
        String(c.pidAfter ?? '-'),
      ]),
    ),
    '',
  );

  out.push('## From PM2 `online` to back in rotation', '');
  out.push(
    markdownTable(
      ['backend', 'online at', 'in rotation at', { header: 'after', align: 'right' }],
      summary.onlineToRotation.map((o) => [
        o.app,
        formatAt(o.onlineAtMs),
        o.backAtMs === null ? 'never' : formatAt(o.backAtMs),
        o.delayMs === null ? '-' : formatMs(o.delayMs),
      ]),
    ),
    '',
  );

  out.push('## Timeline', '');
  out.push(
    markdownTable(
      [
        { header: 't', align: 'right' },
        { header: 'requests', align: 'right' },
        { header: 'failed', align: 'right' },
        { header: 'p99', align: 'right' },
        'in rotation',
        'events',
      ],
      rows.map((row) => [
        `${row.second}s`,
        formatInt(row.requests),
        formatInt(row.failures),
        formatMs(row.p99Ms),
        formatPool(row),
        formatEvents(row),
      ]),
    ),
    '',
  );
  return out.join('\n');
}
