/**
 * The run both demos share once their balancer serves a whole pool: the load and the schedule on
 * one clock while the balancer's status is read and outside events are recorded, a line printed
 * per second, time for the pool to be whole again (so every return to rotation is measured), then
 * the summary and the report files. Each demo supplies only what differs: its actions, the events
 * it watches, what "whole again" means to it, and PM2's lists where PM2 runs the pool.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { runSchedule, type DemoActions } from './action-runner.js';
import type { DemoRunConfig } from './config.js';
import { formatSettings, formatSummary, formatTimelineLine, TIMELINE_HEADER } from './format-text.js';
import { plannedRequests, runLoad } from './load-runner.js';
import { writeDemoReport, type ReportPaths } from './report-files.js';
import { pollLbStatus } from './status-poller.js';
import { buildSummary, type AppState, type DemoSettings, type DemoSummary } from './summary.js';
import { TimelineRecorder } from './timeline.js';
import type { ScheduledAction } from './types.js';
import { pause, waitUntil } from './wait-until.js';

export interface UnderLoad {
  config: DemoRunConfig;
  /** The balancer's public URL, the demo's path included. */
  url: string;
  adminPort: number;
  /** The schedule as it runs (the config's, less what cannot run here). */
  schedule: ScheduledAction[];
  /** As the report states it (0 where the demo picks its own ports). */
  portOffset: number;
  actions: DemoActions;
  /**
   * Start recording what happens outside the balancer (PM2's bus, etcd's keys); `record` puts each
   * event on the run's clock. Called before the clock starts.
   */
  watch: (record: (app: string, event: string) => void) => Promise<void>;
  /** After the load: what still keeps the pool from being whole, or null once it is. */
  poolPending: () => Promise<string | null>;
  /** What the demo does after a Ctrl-C, for its log line ("putting everything back"). */
  afterInterrupt: string;
  /** PM2's view of the apps before the run, and how to read it after, for the restart counts. */
  apps?: { before: readonly AppState[]; after: () => Promise<AppState[]> };
}

export interface DemoOutput {
  logger: Logger;
  print: (line: string) => void;
  /** Ctrl-C: the load and the schedule stop, and what ran is still reported. */
  signal?: AbortSignal | undefined;
}

export interface UnderLoadResult {
  summary: DemoSummary;
  paths: ReportPaths;
  /** Everything recorded, for what a demo adds to the report. */
  recorder: TimelineRecorder;
}

export async function runUnderLoad(run: UnderLoad, out: DemoOutput): Promise<UnderLoadResult> {
  const { config } = run;
  const { logger, print, signal } = out;
  const settings: DemoSettings = {
    url: run.url,
    durationMs: config.durationMs,
    rate: config.rate,
    concurrency: config.concurrency,
    retries: config.retries,
    schedule: run.schedule,
    statusIntervalMs: config.statusIntervalMs,
    portOffset: run.portOffset,
  };
  const recorder = new TimelineRecorder();
  let t0 = Date.now();
  const clock = () => Date.now() - t0;
  await run.watch((app, event) => recorder.addPm2Event({ atMs: clock(), app, event }));

  print(formatSettings({ settings }));
  print(TIMELINE_HEADER);
  t0 = Date.now();
  const poller = pollLbStatus(run.adminPort, config.statusIntervalMs, clock, (s) => recorder.addSample(s));
  let printed = 0;
  try {
    const load = runLoad(
      {
        url: run.url,
        rate: config.rate,
        concurrency: config.concurrency,
        durationMs: config.durationMs,
        requestTimeoutMs: config.requestTimeoutMs,
      },
      clock,
      { sent: () => recorder.addSent(), outcome: (o) => recorder.addOutcome(o) },
    );
    const schedule = runSchedule(
      run.schedule,
      run.actions,
      clock,
      (record) => recorder.addAction(record),
      (entry, startedAtMs) => recorder.addActionStart({ ...entry, startedAtMs }),
    );
    const interrupt = () => {
      logger.warn(`interrupted: stopping the load and the schedule, then ${run.afterInterrupt}`);
      schedule.cancel();
      load.abort('interrupted');
    };
    if (signal?.aborted === true) interrupt();
    else signal?.addEventListener('abort', interrupt, { once: true });
    try {
      // One line per second, printed just after the second ends (answers are counted when they end).
      let loadDone = false;
      const loadResult = load.done.finally(() => (loadDone = true));
      while (!loadDone) {
        await Promise.race([pause(Math.max(0, (printed + 1) * 1000 + 50 - clock())), loadResult]);
        while (clock() >= (printed + 1) * 1000 + 50) print(formatTimelineLine(recorder.row(printed++), true));
      }
      await loadResult;
      schedule.cancel();
      await schedule.done;
    } finally {
      signal?.removeEventListener('abort', interrupt);
    }

    // Keep reading until the pool is whole again, so every return to rotation is measured.
    logger.info('load done; waiting for the pool to be whole again');
    try {
      await waitUntil('the pool to be whole again', config.settleTimeoutMs, run.poolPending, signal);
      await pause(config.statusIntervalMs * 2);
    } catch (err) {
      logger.warn(errorMessage(err));
    }
  } finally {
    await poller.stop();
  }
  const rows = recorder.rows(Math.ceil(config.durationMs / 1000));
  for (; printed < rows.length; printed++) {
    const row = rows[printed];
    if (row !== undefined) print(formatTimelineLine(row, true));
  }

  const summary = buildSummary({
    startedAt: new Date(t0),
    settings,
    planned: plannedRequests(config),
    totals: recorder.totals(),
    actions: recorder.actionRecords(),
    samples: recorder.poolSamples(),
    pm2Events: recorder.pm2Events(),
    appsBefore: run.apps?.before ?? [],
    appsAfter: run.apps === undefined ? [] : await run.apps.after(),
    failures: recorder.failures(),
  });
  const paths = await writeDemoReport(config.outDir, {
    summary,
    timeline: rows,
    poolSamples: recorder.poolSamples(),
    pm2Events: recorder.pm2Events(),
  });
  print(formatSummary(summary));
  return { summary, paths, recorder };
}
