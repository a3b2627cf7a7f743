/**
 * Options of the multi-host demo (`npm run demo:hosts`): the operations demo's own options where
 * they mean the same (--duration, --rate, --at, --retry, --out, ...), with host faults as the
 * schedule (host-faults.ts). Pure.
 */
import { buildConfig } from '../config/load.js';
import { intParser, type OptionSpec, type OptionValues, type RawInput } from '../config/options.js';
import { demoOptions, givenSchedule, toRunConfig, type DemoRunConfig } from './config.js';
import { hostScheduleProblems } from './host-faults.js';
import { parseScheduleEntry } from './schedule.js';
import type { ScheduledAction } from './types.js';

/** The faults, placed for a 45 s run and stretched with a longer --duration. */
const DEFAULT_FAULTS_45S = [
  '3s:stop:link-h1',
  '8s:start:link-h1',
  '12s:stop:etcd-e2',
  '16s:start:etcd-e2',
  '19s:kill:etcd-leader',
  '23s:start:etcd-leader',
  '26s:stop:etcd-all',
  '31s:start:etcd-all',
  '34s:start:host-h4',
  '38s:start:netem-h3',
  '42s:stop:netem-h3',
];
const DEFAULT_SPAN_MS = 45_000;

export function defaultHostSchedule(durationMs: number): ScheduledAction[] {
  const stretch = Math.max(1, durationMs / DEFAULT_SPAN_MS);
  return DEFAULT_FAULTS_45S.map(parseScheduleEntry).map((a) => ({
    ...a,
    atMs: Math.round((a.atMs * stretch) / 100) * 100,
  }));
}

export const hostsDemoOptions = {
  durationMs: {
    ...demoOptions.durationMs,
    description: 'How long the load runs; every fault must fall inside it (the default schedule needs 45s)',
    default: DEFAULT_SPAN_MS,
    defaultText: '45s',
  } satisfies OptionSpec<number>,
  rate: demoOptions.rate,
  concurrency: demoOptions.concurrency,
  schedule: {
    ...demoOptions.schedule,
    description:
      'TIME:ACTION:TARGET, repeatable, replaces the whole default schedule: stop|start link-hN, ' +
      'stop|start|kill etcd-eN, kill|start etcd-leader, stop|start etcd-all, start host-hN (joins), ' +
      'start|stop netem-hN (100 ms latency)',
    defaultText: DEFAULT_FAULTS_45S.join(' '),
  } satisfies OptionSpec<ScheduledAction | ScheduledAction[]>,
  retries: {
    ...demoOptions.retries,
    description: "The balancer's retries (on by default); --no-retry runs it with --no-retries",
  } satisfies OptionSpec<boolean>,
  path: demoOptions.path,
  out: {
    ...demoOptions.out,
    defaultText: 'bench/results/demo-hosts-<timestamp>',
  } satisfies OptionSpec<string>,
  statusIntervalMs: demoOptions.statusIntervalMs,
  requestTimeoutMs: demoOptions.requestTimeoutMs,
  settleTimeoutMs: demoOptions.settleTimeoutMs,
  backends: {
    flag: 'backends',
    description: 'Backends per host',
    default: 2,
    parse: intParser(1, 6),
  } satisfies OptionSpec<number>,
  logLevel: demoOptions.logLevel,
  logFormat: demoOptions.logFormat,
};

type Values = OptionValues<typeof hostsDemoOptions>;

export const DEMO_HOSTS = 3;
export const DEMO_ETCD_MEMBERS = 3;

export interface HostsDemoConfig extends DemoRunConfig {
  /** No --at was given: the schedule is the default one. */
  defaultSchedule: boolean;
  backendsPerHost: number;
}

function scheduleOf(v: Values): ScheduledAction[] {
  return givenSchedule(v.schedule) ?? defaultHostSchedule(v.durationMs);
}

export function validateHostsDemo(v: Values): string[] {
  return hostScheduleProblems(scheduleOf(v), v.durationMs, DEMO_HOSTS, DEMO_ETCD_MEMBERS);
}

export function toHostsDemoConfig(v: Values, now: Date = new Date()): HostsDemoConfig {
  const given = givenSchedule(v.schedule);
  return {
    ...toRunConfig(v, given ?? defaultHostSchedule(v.durationMs), 'demo-hosts', now),
    defaultSchedule: given === null,
    backendsPerHost: v.backends,
  };
}

export function buildHostsDemoConfig(input: RawInput, now?: Date): HostsDemoConfig {
  return toHostsDemoConfig(buildConfig(hostsDemoOptions, input, validateHostsDemo).value, now);
}
