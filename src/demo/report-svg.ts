/**
 * The demo's chart.svg: three charts of the same seconds stacked in one file (requests and failures
 * per second, p99 latency, answers per backend), each with the actions marked where they started.
 * Drawn by the shared line-chart renderer; this file only chooses the series.
 */
import { renderLineChart, type ChartMarker, type ChartSeries } from '../report/svg-line-chart.js';
import type { DemoSummary } from './summary.js';
import type { TimelineSecond } from './timeline.js';

const WIDTH = 860;
const HEIGHT = 330;

/** A second's numbers are drawn at its middle, so an action at 5.0 s sits between seconds 4 and 5. */
const x = (row: TimelineSecond): number => row.second + 0.5;
const formatSeconds = (v: number): string => `${v}s`;

function markers(summary: DemoSummary): ChartMarker[] {
  return summary.actions.map((a) => ({
    x: a.startedAtMs / 1000,
    label: `${a.action} ${a.app}${a.ok ? '' : ' (failed)'}`,
    color: a.ok ? '#555555' : '#D55E00',
  }));
}

export function renderDemoSvg(summary: DemoSummary, allRows: readonly TimelineSecond[]): string {
  const s = summary.settings;
  // The seconds after the load (the last answers trickling in) would read as a drop to zero.
  const rows = allRows.filter((r) => r.second < Math.ceil(s.durationMs / 1000));
  const common = {
    xLabel: 'seconds since the load started',
    markers: markers(summary),
    width: WIDTH,
    height: HEIGHT,
    formatX: formatSeconds,
  };
  const rate: ChartSeries[] = [
    { name: 'answered per second', points: rows.map((r) => ({ x: x(r), y: r.requests })) },
    { name: 'failed per second', points: rows.map((r) => ({ x: x(r), y: r.failures })), color: '#D55E00' },
  ];
  const p99: ChartSeries[] = [
    { name: 'p99 latency (ms)', points: rows.map((r) => ({ x: x(r), y: r.p99Ms })) },
  ];
  const backends = [...new Set(rows.flatMap((r) => [...r.known, ...Object.keys(r.servedBy)]))].sort();
  const share: ChartSeries[] = backends.map((name) => ({
    name,
    points: rows.map((r) => ({ x: x(r), y: r.servedBy[name] ?? 0 })),
  }));
  const charts = [
    renderLineChart({
      ...common,
      title: `Requests through the balancer: ${s.rate}/s, retries ${s.retries ? 'on' : 'off'}`,
      subtitle: `${summary.requests.sent} sent, ${summary.requests.failed} failed`,
      yLabel: 'requests per second',
      series: rate,
    }),
    renderLineChart({ ...common, title: 'p99 latency per second', yLabel: 'milliseconds', series: p99 }),
    renderLineChart({
      ...common,
      title: 'Good answers per backend per second (X-Served-By)',
      subtitle: 'a backend out of rotation drops to zero while the others take its share',
      yLabel: 'answers per second',
      series: share,
    }),
  ];
  const parts = charts.map((svg, i) => `<g transform="translate(0 ${i * HEIGHT})">\n${svg}</g>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT * charts.length}" viewBox="0 0 ${WIDTH} ${HEIGHT * charts.length}" role="img">`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
