/** The multi-host benchmark's figures and report, pure. */
import { markdownTable } from '../../src/report/markdown-table.js';

export interface Tries {
  what: string;
  ms: number[];
}

export interface TriesFigure {
  what: string;
  tries: number;
  medianMs: number | null;
  worstMs: number | null;
  bestMs: number | null;
}

export interface ThroughputRound {
  upstreams: 'namespaces' | 'loopback';
  rps: number;
  errors: number;
}

export interface HostsBenchResults {
  startedAt: string;
  command: string;
  settings: Record<string, string | number>;
  tries: Tries[];
  figures: TriesFigure[];
  throughput: ThroughputRound[];
  /** Median namespaces rounds over median loopback rounds. */
  throughputRatio: number | null;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? null) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export function triesFigure(t: Tries): TriesFigure {
  return {
    what: t.what,
    tries: t.ms.length,
    medianMs: median(t.ms),
    worstMs: t.ms.length === 0 ? null : Math.max(...t.ms),
    bestMs: t.ms.length === 0 ? null : Math.min(...t.ms),
  };
}

export function throughputRatio(rounds: readonly ThroughputRound[]): number | null {
  const ns = median(rounds.filter((r) => r.upstreams === 'namespaces').map((r) => r.rps));
  const lo = median(rounds.filter((r) => r.upstreams === 'loopback').map((r) => r.rps));
  return ns === null || lo === null || lo === 0 ? null : ns / lo;
}

const ms = (v: number | null) => (v === null ? '–' : `${Math.round(v)} ms`);

export function renderHostsBenchMarkdown(r: HostsBenchResults): string {
  const settings = Object.entries(r.settings)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    '# Multi-host benchmark',
    '',
    `Run at ${r.startedAt} with \`${r.command}\`. Settings: ${settings}.`,
    '',
    '## Times',
    '',
    markdownTable(
      [
        { header: 'from → to' },
        { header: 'tries', align: 'right' as const },
        { header: 'median', align: 'right' as const },
        { header: 'worst', align: 'right' as const },
        { header: 'best', align: 'right' as const },
      ],
      r.figures.map((f) => [f.what, String(f.tries), ms(f.medianMs), ms(f.worstMs), ms(f.bestMs)]),
    ),
    '',
    '## Requests per second through the balancer',
    '',
    'Three upstreams in network namespaces (veth pairs on a bridge) against three on loopback, rounds',
    'alternating so both see the same machine; the ratio is median over median.',
    '',
    markdownTable(
      [
        { header: 'round', align: 'right' as const },
        { header: 'upstreams' },
        { header: 'requests/s', align: 'right' as const },
        { header: 'errors', align: 'right' as const },
      ],
      r.throughput.map((t, i) => [
        String(i + 1),
        t.upstreams,
        Math.round(t.rps).toLocaleString('en-US'),
        String(t.errors),
      ]),
    ),
    '',
    `Namespaces / loopback: **${r.throughputRatio === null ? '–' : r.throughputRatio.toFixed(3)}**`,
    '',
    '## Tries',
    '',
    ...r.tries.map((t) => `- ${t.what}: ${t.ms.map((v) => Math.round(v)).join(', ')} ms`),
    '',
  ].join('\n');
}
