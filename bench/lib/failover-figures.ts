/** The failover benchmark's figures and report, pure. */
import { markdownTable } from '../../src/report/markdown-table.js';
import type { FailoverKind } from '../../src/hosts/failover-trial.js';
import { median } from './hosts-figures.js';

/** One trial as the benchmark keeps it. */
export interface FailoverTry {
  advertS: number;
  kind: FailoverKind;
  failoverMs: number | null;
  movedMs: number;
  failed: number;
  sent: number;
}

export interface FailoverRow {
  advertS: number;
  kind: FailoverKind;
  tries: number;
  failoverMedianMs: number | null;
  failoverWorstMs: number | null;
  movedMedianMs: number | null;
  failedMedian: number | null;
  failedWorst: number;
  /** Tries with no failed request. */
  clean: number;
}

export interface Stability {
  advertS: number;
  watchedMs: number;
  /** VRRP state changes seen with no fault going on: 0 when the timing is stable here. */
  spurious: number;
}

export function failoverRows(tries: readonly FailoverTry[]): FailoverRow[] {
  const keys = [...new Set(tries.map((t) => `${t.advertS}|${t.kind}`))];
  return keys.map((key) => {
    const group = tries.filter((t) => `${t.advertS}|${t.kind}` === key);
    const first = group[0] as FailoverTry;
    const times = group.flatMap((t) => (t.failoverMs === null ? [] : [t.failoverMs]));
    return {
      advertS: first.advertS,
      kind: first.kind,
      tries: group.length,
      failoverMedianMs: median(times),
      failoverWorstMs: times.length === 0 ? null : Math.max(...times),
      movedMedianMs: median(group.map((t) => t.movedMs)),
      failedMedian: median(group.map((t) => t.failed)),
      failedWorst: Math.max(...group.map((t) => t.failed)),
      clean: group.filter((t) => t.failed === 0).length,
    };
  });
}

/** Targets: unplanned failover under 1 s median with short adverts; planned 0 failed in 9 of 10. */
export function verdicts(rows: readonly FailoverRow[], shortAdvertS: number): string[] {
  const out: string[] = [];
  for (const r of rows.filter((x) => x.advertS === shortAdvertS)) {
    if (r.kind === 'planned') {
      const ok = r.clean >= Math.ceil(0.9 * r.tries);
      out.push(
        `planned: ${r.clean} of ${r.tries} tries with 0 failed (target 9 of 10): ${ok ? 'met' : 'NOT met'}`,
      );
    } else {
      const ok = r.failoverMedianMs !== null && r.failoverMedianMs < 1000;
      out.push(
        `${r.kind}: failover median ${r.failoverMedianMs === null ? '–' : `${Math.round(r.failoverMedianMs)} ms`} (target under 1 s): ${ok ? 'met' : 'NOT met'}`,
      );
    }
  }
  return out;
}

const ms = (v: number | null) => (v === null ? '–' : `${Math.round(v)} ms`);

export function renderFailoverMarkdown(
  rows: readonly FailoverRow[],
  stability: readonly Stability[],
  settings: Record<string, string | number>,
  shortAdvertS: number,
): string {
  const table = markdownTable(
    [
      'advert',
      'failover',
      'tries',
      'failover median',
      'worst',
      'address moved (median)',
      'failed per failover (median / worst)',
      'tries with 0 failed',
    ],
    rows.map((r) => [
      `${r.advertS} s`,
      r.kind,
      String(r.tries),
      ms(r.failoverMedianMs),
      ms(r.failoverWorstMs),
      ms(r.movedMedianMs),
      `${r.failedMedian ?? '–'} / ${r.failedWorst}`,
      `${r.clean} of ${r.tries}`,
    ]),
  );
  const stable = markdownTable(
    ['advert', 'watched', 'VRRP changes with no fault'],
    stability.map((s) => [`${s.advertS} s`, `${(s.watchedMs / 1000).toFixed(0)} s`, String(s.spurious)]),
  );
  return [
    '# Front failover benchmark',
    '',
    `Settings: ${Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    '',
    'Failover time: the last answer through the old front to the first through the new one, as the clients saw it.',
    'Failed: requests sent from a second before the fault until the new front had answered for a second.',
    '',
    table,
    '',
    'Stability (each timing watched under the same load with no fault):',
    '',
    stable,
    '',
    ...verdicts(rows, shortAdvertS).map((v) => `- ${v}`),
    '',
  ].join('\n');
}
