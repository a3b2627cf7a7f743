/**
 * The Markdown report and the console tables (the same text: Markdown tables are padded to read in
 * a terminal too). Every table marks client-bound results and failures. Pure.
 */
import {
  formatBytes,
  formatMs,
  formatFixed,
  formatInt,
  formatPercent,
  formatSignificant,
} from '../../src/report/format.js';
import { markdownTable, type Column } from '../../src/report/markdown-table.js';
import { describeBodyCheck } from './body-check.js';
import { CLIENT_MODE_INFO } from './client-modes.js';
import type { BenchResults, CaseResult, ClientReport, ScenarioReport } from './results.js';
import { FAILURE_MEANING, FAILURE_REASONS, type FailureReason } from './types.js';

export const CLIENT_BOUND_MARK = '†';

export function failedText(failedBy: Record<FailureReason, number>): string {
  const parts = FAILURE_REASONS.filter((r) => failedBy[r] > 0).map((r) => `${r} ${formatInt(failedBy[r])}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

const right = (header: string): Column => ({ header, align: 'right' });
const ms = (v: number) => formatSignificant(v);

/** One row per target and concurrency: ApacheBench's figures (medians over the runs) and percentiles. */
export function scenarioTable(cases: readonly CaseResult[], withAb: boolean): string {
  const columns: Column[] = [
    { header: 'target' },
    right('c'),
    right('time taken (s)'),
    right('complete'),
    right('failed'),
    right('total transferred'),
    right('req/s'),
    right('req/s min-max'),
    right('time/req (ms)'),
    right('time/req, all (ms)'),
    right('transfer (KiB/s)'),
    right('p50 ms'),
    right('p90 ms'),
    right('p99 ms'),
    right('max ms'),
  ];
  if (withAb) columns.push(right('ab req/s'), right('ab failed'));
  const rows = cases.map((c) => {
    const a = c.aggregate;
    if (c.status !== 'measured' || a === null) {
      const why = c.status === 'down' ? 'down' : `error: ${c.error ?? ''}`;
      return [c.target, String(c.concurrency), why, ...new Array<string>(columns.length - 3).fill('-')];
    }
    const f = a.figures;
    const perRun = Math.round(a.complete / Math.max(1, a.runs));
    const mark = c.clientBound ? ` ${CLIENT_BOUND_MARK}` : '';
    const row = [
      c.target,
      String(c.concurrency),
      formatFixed(f.timeTakenS.median, 3),
      a.runs > 1 ? `${formatInt(perRun)} x${a.runs}` : formatInt(perRun),
      a.failed === 0 ? '0' : `${formatInt(a.failed)} (${failedText(a.failedBy)})`,
      formatBytes(f.totalBytes.median),
      `${formatInt(f.rps.median)}${mark}`,
      a.runs > 1 ? `${formatInt(f.rps.min)}-${formatInt(f.rps.max)}` : '-',
      ms(f.timePerRequestMs.median),
      ms(f.timePerRequestAllMs.median),
      formatInt(f.transferKBps.median),
      ms(f.p50.median),
      ms(f.p90.median),
      ms(f.p99.median),
      ms(f.max.median),
    ];
    if (withAb) {
      row.push(
        c.ab === null ? (c.abError ?? '-') : formatInt(c.ab.rps),
        c.ab === null
          ? '-'
          : c.ab.non2xx > 0
            ? `${formatInt(c.ab.failed)} (non-2xx ${formatInt(c.ab.non2xx)})`
            : formatInt(c.ab.failed),
      );
    }
    return row;
  });
  return markdownTable(columns, rows);
}

export function clientTable(client: ClientReport): string {
  const rows = client.trials.map((t) => [
    t.mode,
    CLIENT_MODE_INFO[t.mode].option,
    String(t.clients),
    String(t.concurrency),
    formatInt(t.requests),
    t.error !== undefined ? `error: ${t.error}` : formatInt(t.rps),
    t.correct ? 'yes' : `no (${formatInt(t.failed)} failed)`,
    t.eligible ? 'yes' : 'no (keep-alive setting)',
  ]);
  if (client.wrk !== null) {
    rows.push([
      'wrk',
      `-t1 -c10`,
      '1',
      '10',
      formatInt(client.wrk.requests),
      formatInt(client.wrk.rps),
      client.wrk.errors === 0 ? 'status only' : `${client.wrk.errors} errors`,
      'reference',
    ]);
  }
  return markdownTable(
    [
      'client',
      'loadtest option',
      'processes',
      right('c'),
      right('requests'),
      right('req/s'),
      'all correct',
      'eligible',
    ],
    rows,
  );
}

export function modeChecksTable(): string {
  return markdownTable(
    ['mode', 'loadtest option', 'keep-alive', 'what loadtest counts by itself'],
    Object.values(CLIENT_MODE_INFO).map((m) => [
      m.mode,
      m.option,
      m.keepAlive ? 'yes' : 'no',
      m.loadtestChecks,
    ]),
  );
}

/** The eligible modes against the trivial server with the scenario's body size. */
export function scenarioModeTable(scenario: ScenarioReport): string {
  return markdownTable(
    [
      'mode',
      right('body bytes'),
      right('processes'),
      right('c'),
      right('requests'),
      right('req/s'),
      'all correct',
    ],
    scenario.client.trials.map((t) => [
      t.mode,
      formatInt(t.bodyBytes),
      String(t.clients),
      String(t.concurrency),
      formatInt(t.requests),
      t.error !== undefined ? `error: ${t.error}` : formatInt(t.rps),
      t.correct ? 'yes' : `no (${formatInt(t.failed)} failed)`,
    ]),
  );
}

export function ceilingTable(scenario: ScenarioReport): string {
  return markdownTable(
    [right('c'), right('client ceiling req/s (median)'), right('min-max'), right(`client-bound from (80%)`)],
    scenario.ceilings.map((c) => {
      const s = c.aggregate?.figures.rps;
      return [
        String(c.concurrency),
        s === undefined ? '-' : formatInt(s.median),
        s === undefined || c.runs.length < 2 ? '-' : `${formatInt(s.min)}-${formatInt(s.max)}`,
        s === undefined ? '-' : formatInt(s.median * 0.8),
      ];
    }),
  );
}

export function conclusionTable(results: BenchResults, scenario: string): string {
  const verdicts = results.conclusion.find((v) => v.scenario === scenario)?.verdicts ?? [];
  return markdownTable(
    [
      right('c'),
      'most req/s',
      right('req/s'),
      'runner-up',
      right('req/s'),
      right('lead'),
      'verdict',
      'lowest p99',
    ],
    verdicts.map((v) => [
      String(v.concurrency),
      v.winner ?? '-',
      v.winnerRps === null ? '-' : formatInt(v.winnerRps),
      v.runnerUp ?? '-',
      v.runnerUpRps === null ? '-' : formatInt(v.runnerUpRps),
      v.margin === null ? '-' : `+${formatPercent(v.margin)}`,
      v.kind,
      v.lowestP99 === null ? '-' : `${v.lowestP99.target} ${formatMs(v.lowestP99.ms)}`,
    ]),
  );
}

function settingsLines(results: BenchResults): string[] {
  const s = results.settings;
  return [
    `- Requests per run: ${formatInt(s.requests)}; concurrency: ${s.concurrency.join(', ')}; runs per case: ${s.repeat} (tables show the median, and the min-max of req/s)`,
    `- Connections: ${s.keepalive ? 'keep-alive' : 'a new connection per request'}; client: loadtest ${results.machine.packages.loadtest ?? ''}, ${s.clients} client process${s.clients === 1 ? '' : 'es'}, mode per scenario: ${results.scenarios.map((sc) => `${sc.name} \`${CLIENT_MODE_INFO[sc.client.mode].option}\``).join(', ')} (${s.clientMode === 'auto' ? 'the fastest correct one at that body size' : 'forced with --client-mode'})`,
    `- Warm-up: ${formatInt(s.warmup)} unrecorded requests per target and scenario; request timeout ${formatMs(s.timeoutMs)}; order within a repeat: concurrency, then target, so slow drift hits every target alike`,
    `- Every response checked on the wire: status 200 and the expected body, or it counts as failed (reasons: ${FAILURE_REASONS.map((r) => `${r}: ${FAILURE_MEANING[r]}`).join('; ')})`,
    `- ${CLIENT_BOUND_MARK} client-bound: the median reached ${Math.round(results.clientBoundThreshold * 100)}% of what the same client, with the same body size and concurrency, gets from a trivial server: the client may be the limit there`,
  ];
}

export function renderReport(results: BenchResults): string {
  const m = results.machine;
  const out: string[] = [];
  out.push(`# Benchmark: ${results.targets.map((t) => t.name).join(', ')}`, '');
  out.push(`Command: \`${results.command}\``, '');
  out.push(
    `Run ${results.startedAt} to ${results.finishedAt} on ${m.cpuModel}, ${m.cores} cores, ${formatBytes(m.memoryBytes)} memory, ${m.platform}, Node ${m.node}; load average at start ${m.loadAverage.join(' / ')}; git ${m.git === null ? 'unknown' : `${m.git.commit.slice(0, 12)}${m.git.dirty ? ' (with uncommitted changes)' : ''}`}.`,
    '',
  );
  out.push('## Settings', '', ...settingsLines(results), '');
  out.push('## Targets', '');
  out.push(
    markdownTable(
      ['target', 'URL', 'up', 'health check'],
      results.targets.map((t) => [t.name, t.url, t.up ? 'yes' : '**DOWN**', t.detail]),
    ),
    '',
  );
  if (results.fleetStartedByUs.length > 0) {
    out.push(
      `The fleet was not running; this run started ${results.fleetStartedByUs.join(', ')} through PM2 and stopped them afterwards.`,
      '',
    );
  }
  out.push('## The load client', '');
  out.push(
    `Each loadtest client mode against the trivial server (bench/trivial-server.ts: raw sockets, canned ${results.client.trivialBodyBytes}-byte answers, keep-alive), c=10, one client process; ${results.client.wrkSkipped ?? 'wrk on the same server for reference'}:`,
    '',
    clientTable(results.client),
    '',
    `Chosen: **${results.client.chosenMode}** (${results.client.reason}). With ${results.client.clients} client process${results.client.clients === 1 ? '' : 'es'} it reached **${formatInt(results.client.ceilingRps)} req/s** against the trivial server${results.client.wrk === null ? '' : `, ${formatPercent(results.client.ceilingRps / results.client.wrk.rps, 0)} of wrk's ${formatInt(results.client.wrk.rps)}`}.`,
    '',
    'What loadtest itself would have counted as an error in each mode; this benchmark does not rely on it, it checks every response on the client sockets (status 200 and the expected body) in all three:',
    '',
    modeChecksTable(),
    '',
  );
  for (const scenario of results.scenarios) {
    const cases = results.cases.filter((c) => c.scenario === scenario.name);
    const verdicts = results.conclusion.find((v) => v.scenario === scenario.name);
    out.push(`## ${scenario.name}: \`${scenario.path}\``, '');
    out.push(
      `${scenario.description}. Expected: status 200 and ${describeBodyCheck(scenario.expectation.body)} (${scenario.expectation.source}).`,
      '',
    );
    const warm = Object.entries(scenario.warmup)
      .filter(([, w]) => w.failed > 0)
      .map(([t, w]) => `${t} failed ${w.failed} of ${w.requests} warm-up requests`);
    if (warm.length > 0) out.push(`Warm-up problems: ${warm.join('; ')}.`, '');
    out.push(
      `Client: loadtest \`${CLIENT_MODE_INFO[scenario.client.mode].option}\` (${scenario.client.mode}), ${scenario.client.reason}.`,
      '',
    );
    if (scenario.client.trials.length > 0) out.push(scenarioModeTable(scenario), '');
    out.push(scenarioTable(cases, results.settings.withAb), '');
    out.push(
      `![requests per second](${scenario.charts.rps})`,
      '',
      `![p99 latency](${scenario.charts.p99})`,
      '',
    );
    out.push(
      'The load client against the trivial server with the same body size:',
      '',
      ceilingTable(scenario),
      '',
    );
    if (verdicts !== undefined) {
      out.push('### Conclusion', '', conclusionTable(results, scenario.name), '');
      out.push(...verdicts.verdicts.map((v) => `- ${v.text}`), '');
      if (verdicts.notes.length > 0) out.push(...verdicts.notes.map((n) => `- ${n}`), '');
    }
  }
  out.push('## Summary', '');
  for (const v of results.conclusion) out.push(`- ${v.summary}`);
  out.push('');
  return out.join('\n');
}

/** What the console shows at the end: per scenario, the table and the verdicts. */
export function renderConsoleSummary(results: BenchResults): string {
  const out: string[] = [];
  for (const scenario of results.scenarios) {
    const cases = results.cases.filter((c) => c.scenario === scenario.name);
    out.push('', `${scenario.name} (${scenario.path})`, scenarioTable(cases, results.settings.withAb));
    const verdicts = results.conclusion.find((v) => v.scenario === scenario.name);
    if (verdicts !== undefined)
      out.push(...verdicts.verdicts.map((v) => `  ${v.text}`), ...verdicts.notes.map((n) => `  ${n}`));
  }
  out.push(
    '',
    `${CLIENT_BOUND_MARK} client-bound: within ${Math.round(results.clientBoundThreshold * 100)}% of the load client's own ceiling`,
  );
  return out.join('\n');
}
