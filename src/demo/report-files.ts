/** Writes the demo's three files into its results folder and says where they are. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderDemoMarkdown } from './report-markdown.js';
import { renderDemoSvg } from './report-svg.js';
import type { DemoSummary } from './summary.js';
import type { TimelineSecond } from './timeline.js';
import type { Pm2Event, PoolSample } from './types.js';

export interface DemoReport {
  summary: DemoSummary;
  timeline: readonly TimelineSecond[];
  /** Raw readings, so any figure of the summary can be checked again. */
  poolSamples: readonly PoolSample[];
  pm2Events: readonly Pm2Event[];
}

export interface ReportPaths {
  json: string;
  markdown: string;
  svg: string;
}

export async function writeDemoReport(outDir: string, report: DemoReport): Promise<ReportPaths> {
  await mkdir(outDir, { recursive: true });
  const paths = {
    json: path.join(outDir, 'timeline.json'),
    markdown: path.join(outDir, 'report.md'),
    svg: path.join(outDir, 'chart.svg'),
  };
  await writeFile(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(paths.svg, renderDemoSvg(report.summary, report.timeline));
  await writeFile(
    paths.markdown,
    renderDemoMarkdown(report.summary, report.timeline, path.basename(paths.svg)),
  );
  return paths;
}
