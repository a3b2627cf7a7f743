/**
 * Options of the operations demo (`npm run demo:restart`). Pure: specs, validation and the typed
 * config built from a RawInput, so every rule is unit-tested without a process.
 */
import path from 'node:path';
import { DEFAULT_PORTS, RESULTS_DIR, logOptions, portOffsetOption } from '../config/common.js';
import { buildConfig } from '../config/load.js';
import { pm2HomeOption } from '../supervisor/config.js';
import {
  durationParser,
  intParser,
  parseBoolean,
  parseString,
  type OptionSpec,
  type OptionValues,
  type RawInput,
} from '../config/options.js';
import type { LogFormat, LogLevel } from '../logger.js';
import { DEFAULT_SCHEDULE_TEXT, parseScheduleEntry, scheduleProblems } from './schedule.js';
import type { ScheduledAction } from './types.js';

export const demoOptions = {
  durationMs: {
    flag: 'duration',
    description: 'How long the load runs; every action must fall inside it',
    default: 20_000,
    defaultText: '20s',
    parse: durationParser(1000, 600_000),
  } satisfies OptionSpec<number>,
  rate: {
    flag: 'rate',
    description: 'Requests per second sent through the balancer, at a fixed pace',
    default: 200,
    parse: intParser(1, 5000),
  } satisfies OptionSpec<number>,
  concurrency: {
    flag: 'concurrency',
    description: 'Most requests in flight at once (keep-alive sockets to the balancer)',
    default: 10,
    parse: intParser(1, 1000),
  } satisfies OptionSpec<number>,
  schedule: {
    flag: 'at',
    description:
      'TIME:ACTION:APP, repeatable, replaces the whole default schedule; ACTION is restart, kill (SIGKILL ' +
      'its pid), stop or start; also reload:balancer (SIGHUP, zero downtime), kill:balancer-worker ' +
      '(SIGKILL one balancer worker) and reload:all (every backend restarted in turn, then the balancer)',
    default: [] as ScheduledAction[],
    defaultText: DEFAULT_SCHEDULE_TEXT,
    parse: parseScheduleEntry,
    repeatable: true,
  } satisfies OptionSpec<ScheduledAction | ScheduledAction[]>,
  retries: {
    flag: 'retry',
    description:
      "Leave the balancer's retries on; --no-retry restarts the balancer app with RETRIES=false for the " +
      'demo and restores its previous value afterwards',
    default: true,
    parse: parseBoolean,
    boolean: true,
  } satisfies OptionSpec<boolean>,
  path: {
    flag: 'path',
    description: 'Path requested through the balancer',
    default: '/page.html',
    parse: (raw: string) => {
      if (!raw.startsWith('/')) throw new Error(`"${raw}" must start with /`);
      return raw;
    },
  } satisfies OptionSpec<string>,
  out: {
    flag: 'out',
    description: 'Folder for timeline.json, report.md and chart.svg',
    default: '',
    defaultText: 'bench/results/demo-<timestamp>',
    parse: parseString,
  } satisfies OptionSpec<string>,
  statusIntervalMs: {
    flag: 'status-interval',
    description: "How often the balancer's /__lb/status is read; the resolution of rotation times",
    default: 100,
    defaultText: '100ms',
    parse: durationParser(20, 1000),
  } satisfies OptionSpec<number>,
  requestTimeoutMs: {
    flag: 'request-timeout',
    description: 'A request with no complete answer by then counts as failed',
    default: 10_000,
    defaultText: '10s',
    parse: durationParser(100, 60_000),
  } satisfies OptionSpec<number>,
  settleTimeoutMs: {
    flag: 'settle-timeout',
    description: 'Longest wait for the whole pool to be in rotation, before the load and after it',
    default: 30_000,
    defaultText: '30s',
    parse: durationParser(1000, 300_000),
  } satisfies OptionSpec<number>,
  portOffset: portOffsetOption,
  pm2Home: pm2HomeOption,
  logLevel: logOptions.logLevel,
  logFormat: logOptions.logFormat,
};

export type DemoOptionValues = OptionValues<typeof demoOptions>;

/** What both demos take from the options they share (hosts-config.ts reuses their specs). */
export interface DemoRunConfig {
  durationMs: number;
  rate: number;
  concurrency: number;
  /** Sorted by time. */
  schedule: ScheduledAction[];
  retries: boolean;
  path: string;
  /** Absolute folder for the report files. */
  outDir: string;
  statusIntervalMs: number;
  requestTimeoutMs: number;
  settleTimeoutMs: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

export interface DemoConfig extends DemoRunConfig {
  portOffset: number;
  /** The PM2 daemon's folder (PM2_HOME). */
  pm2Home: string;
}

/** The default schedule: restart, a balancer reload, SIGKILL, then stop and start a third backend. */
export function defaultSchedule(): ScheduledAction[] {
  return DEFAULT_SCHEDULE_TEXT.split(' ').map(parseScheduleEntry);
}

/**
 * The `--at` entries given, sorted by time, or null when none was (the demo's default schedule
 * runs). The repeatable values arrive as a list; a lone env value would arrive as one entry.
 */
export function givenSchedule(raw: ScheduledAction | ScheduledAction[]): ScheduledAction[] | null {
  const list = Array.isArray(raw) ? raw : [raw];
  return list.length === 0 ? null : [...list].sort((a, b) => a.atMs - b.atMs);
}

function scheduleOf(values: DemoOptionValues): ScheduledAction[] {
  return givenSchedule(values.schedule) ?? defaultSchedule();
}

export function validateDemo(values: DemoOptionValues): string[] {
  const problems = scheduleProblems(scheduleOf(values), values.durationMs);
  const ports = [DEFAULT_PORTS.balancer, DEFAULT_PORTS.admin].map((p) => p + values.portOffset);
  if (ports.some((p) => p < 1 || p > 65535)) {
    problems.push(`--port-offset ${values.portOffset} puts the balancer outside 1..65535`);
  }
  return problems;
}

/** Pure: the typed config, or a ConfigError listing every problem. `now` names the default folder. */
export function buildDemoConfig(
  input: RawInput,
  now: Date = new Date(),
): { config: DemoConfig; help: boolean } {
  const { value, help } = buildConfig(demoOptions, input, validateDemo);
  return { config: toDemoConfig(value, now), help };
}

type SharedValues = Pick<
  DemoOptionValues,
  | 'durationMs'
  | 'rate'
  | 'concurrency'
  | 'retries'
  | 'path'
  | 'out'
  | 'statusIntervalMs'
  | 'requestTimeoutMs'
  | 'settleTimeoutMs'
  | 'logLevel'
  | 'logFormat'
>;

/**
 * The shared options as config. `schedule` is the demo's own reading of --at; without --out the
 * report goes to bench/results/<name>-<timestamp of now>.
 */
export function toRunConfig(
  value: SharedValues,
  schedule: ScheduledAction[],
  name: string,
  now: Date,
): DemoRunConfig {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return {
    durationMs: value.durationMs,
    rate: value.rate,
    concurrency: value.concurrency,
    schedule,
    retries: value.retries,
    path: value.path,
    outDir: value.out === '' ? path.join(RESULTS_DIR, `${name}-${stamp}`) : path.resolve(value.out),
    statusIntervalMs: value.statusIntervalMs,
    requestTimeoutMs: value.requestTimeoutMs,
    settleTimeoutMs: value.settleTimeoutMs,
    logLevel: value.logLevel,
    logFormat: value.logFormat,
  };
}

export function toDemoConfig(value: DemoOptionValues, now: Date = new Date()): DemoConfig {
  return {
    ...toRunConfig(value, scheduleOf(value), 'demo', now),
    portOffset: value.portOffset,
    pm2Home: value.pm2Home,
  };
}
