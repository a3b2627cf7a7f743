/** Writes a run's folder: results.json, report.md and two SVG charts per scenario. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CLIENT_MODE_INFO } from './client-modes.js';
import { p99Chart, rpsChart } from './report-charts.js';
import { renderReport } from './report-markdown.js';
import type { BenchResults } from './results.js';

/** JSON cannot hold NaN or Infinity; they are written as null. */
function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

export async function writeResults(outDir: string, results: BenchResults): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const scenario of results.scenarios) {
    const runs = results.settings.repeat === 1 ? 'one run' : `median of ${results.settings.repeat} runs`;
    const subtitle = `${results.settings.requests} requests per run, ${runs}, ${
      results.settings.keepalive ? 'keep-alive' : 'a connection per request'
    }, loadtest ${CLIENT_MODE_INFO[scenario.client.mode].option}, ${results.settings.clients} client process(es)`;
    const ctx = {
      scenario,
      cases: results.cases,
      targets: results.targets.map((t) => t.name),
      concurrency: results.settings.concurrency,
      subtitle,
      threshold: results.clientBoundThreshold,
    };
    await writeFile(path.join(outDir, scenario.charts.rps), rpsChart(ctx));
    await writeFile(path.join(outDir, scenario.charts.p99), p99Chart(ctx));
    written.push(scenario.charts.rps, scenario.charts.p99);
  }
  await writeFile(path.join(outDir, 'results.json'), `${JSON.stringify(results, replacer, 2)}\n`);
  await writeFile(path.join(outDir, 'report.md'), renderReport(results));
  written.push('results.json', 'report.md');
  return written.map((f) => path.join(outDir, f));
}
