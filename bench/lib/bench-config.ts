/**
 * Options of the benchmark (`npm run bench:all`). Pure: specs, validation and the typed config
 * built from a RawInput. Every option also reads a BENCH_* variable, and the bench prints the
 * settings it runs with before it starts.
 */
import path from 'node:path';
import { DEFAULT_PORTS, RESULTS_DIR, logOptions, portOffsetOption } from '../../src/config/common.js';
import { buildConfig } from '../../src/config/load.js';
import {
  durationParser,
  enumParser,
  intParser,
  listParser,
  parseBoolean,
  parseString,
  type OptionSpec,
  type OptionValues,
  type RawInput,
} from '../../src/config/options.js';
import { LOG_LEVELS, type LogFormat, type LogLevel } from '../../src/logger.js';

export const SCENARIOS = ['page', 'image', 'large', 'cpu'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
export const BUILT_IN_TARGETS = ['async', 'threaded', 'balancer'] as const;
export type BuiltInTarget = (typeof BUILT_IN_TARGETS)[number];
export type ClientModeChoice = 'auto' | 'default' | 'keepalive' | 'tcp';
export type Extra = 'ab';

export interface TargetUrl {
  name: string;
  url: string;
}

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

export function parseTargetName(raw: string): string {
  if (!NAME.test(raw)) throw new Error(`"${raw}" is not a target name (lower-case letters, digits, -)`);
  return raw;
}

/** `name=http://host:port`, the base URL of a target that is already running somewhere. */
export function parseTargetUrl(raw: string): TargetUrl {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new Error(`"${raw}" is not NAME=URL (example: async=http://127.0.0.1:45000)`);
  const name = parseTargetName(raw.slice(0, eq));
  const value = raw.slice(eq + 1);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`"${value}" is not a URL`);
  }
  if (url.protocol !== 'http:') throw new Error(`"${value}": only http:// targets can be measured`);
  if (url.pathname !== '/' || url.search !== '')
    throw new Error(`"${value}": give the base URL only, no path`);
  return { name, url: url.origin };
}

function parsePath(raw: string): string {
  if (!raw.startsWith('/')) throw new Error(`"${raw}" must start with /`);
  return raw;
}

export const benchOptions = {
  scenario: {
    flag: 'scenario',
    env: 'BENCH_SCENARIO',
    description: `What to request: ${SCENARIOS.join(', ')} or all (page /page.html, image the 71 KB JPEG, large the 1 MiB file, cpu /work?ms=5)`,
    default: 'page',
    parse: enumParser<ScenarioName | 'all'>([...SCENARIOS, 'all']),
  } satisfies OptionSpec<ScenarioName | 'all'>,
  path: {
    flag: 'path',
    env: 'BENCH_PATH',
    description:
      'Benchmark this path instead of a scenario (status 200 required; body checked against public/ or the warm-up)',
    default: '',
    defaultText: 'none',
    parse: parsePath,
  } satisfies OptionSpec<string>,
  requests: {
    flag: 'requests',
    env: 'BENCH_REQUESTS',
    description: 'Requests per run (ab -n)',
    default: 1000,
    parse: intParser(1, 10_000_000),
  } satisfies OptionSpec<number>,
  concurrency: {
    flag: 'concurrency',
    env: 'BENCH_CONCURRENCY',
    description: 'Concurrency levels, comma-separated (ab -c)',
    default: [1, 5, 10, 15, 50, 100],
    parse: listParser(intParser(1, 10_000)),
  } satisfies OptionSpec<number[]>,
  targets: {
    flag: 'targets',
    env: 'BENCH_TARGETS',
    description: `Targets in order, comma-separated (${BUILT_IN_TARGETS.join(', ')}, or names given with --target-url)`,
    default: [...BUILT_IN_TARGETS] as string[],
    parse: listParser(parseTargetName),
  } satisfies OptionSpec<string[]>,
  targetUrls: {
    flag: 'target-url',
    description:
      'NAME=URL, repeatable: measure a server already running there; when every target has one, the fleet is not touched',
    default: [] as TargetUrl[],
    defaultText: 'the fleet on its default ports (+ PORT_OFFSET)',
    parse: parseTargetUrl,
    repeatable: true,
  } satisfies OptionSpec<TargetUrl | TargetUrl[]>,
  keepalive: {
    flag: 'keepalive',
    env: 'BENCH_KEEPALIVE',
    description: 'Keep connections alive (ab -k); --no-keepalive opens a connection per request',
    default: true,
    parse: parseBoolean,
    boolean: true,
  } satisfies OptionSpec<boolean>,
  repeat: {
    flag: 'repeat',
    env: 'BENCH_REPEAT',
    description: 'Runs per case; tables show the median and the spread',
    default: 3,
    parse: intParser(1, 50),
  } satisfies OptionSpec<number>,
  clients: {
    flag: 'clients',
    env: 'BENCH_CLIENTS',
    description: 'Load-client processes sharing each run (histograms merged)',
    default: 1,
    parse: intParser(1, 64),
  } satisfies OptionSpec<number>,
  clientMode: {
    flag: 'client-mode',
    env: 'BENCH_CLIENT_MODE',
    description:
      'loadtest client: auto (the fastest correct one measured against the trivial server), default, keepalive (agentKeepAlive) or tcp (tcp: true)',
    default: 'auto',
    parse: enumParser<ClientModeChoice>(['auto', 'default', 'keepalive', 'tcp']),
  } satisfies OptionSpec<ClientModeChoice>,
  with: {
    flag: 'with',
    env: 'BENCH_WITH',
    description: 'Also run these tools on the same cases: ab (ApacheBench)',
    default: [] as Extra[],
    defaultText: 'none',
    parse: listParser(enumParser<Extra>(['ab'])),
  } satisfies OptionSpec<Extra[]>,
  warmup: {
    flag: 'warmup',
    env: 'BENCH_WARMUP',
    description: 'Unrecorded requests per target and scenario before measuring',
    default: 200,
    parse: intParser(0, 1_000_000),
  } satisfies OptionSpec<number>,
  timeoutMs: {
    flag: 'timeout',
    env: 'BENCH_TIMEOUT',
    description: 'A request with no complete response by then fails (reason: timeout)',
    default: 10_000,
    defaultText: '10s',
    parse: durationParser(50, 600_000),
  } satisfies OptionSpec<number>,
  deadlineMs: {
    flag: 'deadline',
    env: 'BENCH_DEADLINE',
    description: 'Longest a single run may take; requests not done by then fail (reason: timeout)',
    default: 300_000,
    defaultText: '5m',
    parse: durationParser(1000, 3_600_000),
  } satisfies OptionSpec<number>,
  ceilingRequests: {
    flag: 'ceiling-requests',
    env: 'BENCH_CEILING_REQUESTS',
    description: 'Requests per client mode when measuring the client against the trivial server (c=10)',
    default: 20_000,
    parse: intParser(10, 10_000_000),
  } satisfies OptionSpec<number>,
  wrkDurationMs: {
    flag: 'wrk-duration',
    env: 'BENCH_WRK_DURATION',
    description: 'How long wrk -t1 -c10 runs against the trivial server as the reference (0: skip)',
    default: 3000,
    defaultText: '3s',
    parse: durationParser(0, 120_000),
  } satisfies OptionSpec<number>,
  fleetTimeoutMs: {
    flag: 'fleet-timeout',
    env: 'BENCH_FLEET_TIMEOUT',
    description: 'How long to wait for the fleet to be healthy when this run starts it',
    default: 60_000,
    defaultText: '60s',
    parse: durationParser(1000, 600_000),
  } satisfies OptionSpec<number>,
  fleetLogLevel: {
    flag: 'fleet-log-level',
    env: 'BENCH_FLEET_LOG_LEVEL',
    description:
      'LOG_LEVEL of the apps this run starts through PM2 (warn: no per-request access lines, which cost throughput)',
    default: 'warn',
    parse: enumParser<LogLevel>(LOG_LEVELS),
  } satisfies OptionSpec<LogLevel>,
  out: {
    flag: 'out',
    env: 'BENCH_OUT',
    description: 'Folder for results.json, report.md and the charts',
    default: '',
    defaultText: 'bench/results/<timestamp>',
    parse: parseString,
  } satisfies OptionSpec<string>,
  portOffset: portOffsetOption,
  logLevel: logOptions.logLevel,
  logFormat: logOptions.logFormat,
};

export type BenchOptionValues = OptionValues<typeof benchOptions>;

export interface BenchTarget {
  name: string;
  /** Base URL, no trailing slash. */
  url: string;
  /** Given with --target-url (not part of the PM2 fleet). */
  explicit: boolean;
}

export interface BenchConfig {
  /** Scenarios to run, in order; empty when a custom path is given. */
  scenarios: ScenarioName[];
  /** A custom path instead of the scenarios. */
  path: string | null;
  requests: number;
  concurrency: number[];
  targets: BenchTarget[];
  /** True when every target was given a URL: the PM2 fleet is neither checked nor started. */
  explicitTargetsOnly: boolean;
  keepalive: boolean;
  repeat: number;
  clients: number;
  clientMode: ClientModeChoice;
  withAb: boolean;
  warmup: number;
  timeoutMs: number;
  deadlineMs: number;
  ceilingRequests: number;
  wrkDurationMs: number;
  fleetTimeoutMs: number;
  fleetLogLevel: LogLevel;
  outDir: string;
  portOffset: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

function targetUrlsOf(values: BenchOptionValues): TargetUrl[] {
  const raw = values.targetUrls;
  return Array.isArray(raw) ? raw : [raw];
}

/** Ports of the fleet's targets as ecosystem.config.cjs gives them (it may move them by env). */
export type FleetPorts = Partial<Record<BuiltInTarget, number>>;

export function defaultTargetUrl(
  name: BuiltInTarget,
  portOffset: number,
  fleetPorts: FleetPorts = {},
): string {
  return `http://127.0.0.1:${fleetPorts[name] ?? DEFAULT_PORTS[name] + portOffset}`;
}

function isBuiltIn(name: string): name is BuiltInTarget {
  return (BUILT_IN_TARGETS as readonly string[]).includes(name);
}

export function validateBench(values: BenchOptionValues): string[] {
  const problems: string[] = [];
  const urls = targetUrlsOf(values);
  const given = new Set<string>();
  for (const t of urls) {
    if (given.has(t.name)) problems.push(`--target-url: ${t.name} is given twice`);
    given.add(t.name);
    if (!values.targets.includes(t.name)) {
      problems.push(`--target-url: ${t.name} is not in --targets (${values.targets.join(',')})`);
    }
  }
  const seen = new Set<string>();
  for (const name of values.targets) {
    if (seen.has(name)) problems.push(`--targets: ${name} is listed twice`);
    seen.add(name);
    if (!isBuiltIn(name) && !given.has(name)) {
      problems.push(
        `--targets: ${name} is not one of ${BUILT_IN_TARGETS.join(', ')}; give its URL with --target-url ${name}=URL`,
      );
    }
  }
  if (new Set(values.concurrency).size !== values.concurrency.length) {
    problems.push('--concurrency: a level is listed twice');
  }
  const tooHigh = values.concurrency.filter((c) => c > values.requests);
  if (tooHigh.length > 0) {
    problems.push(`--concurrency ${tooHigh.join(',')} is more than --requests ${values.requests}`);
  }
  if (!values.keepalive && (values.clientMode === 'keepalive' || values.clientMode === 'tcp')) {
    problems.push(
      `--client-mode ${values.clientMode} always keeps connections alive; it cannot run with --no-keepalive`,
    );
  }
  if (values.keepalive && values.clientMode === 'default') {
    problems.push('--client-mode default opens a connection per request; add --no-keepalive to use it');
  }
  const ports = [DEFAULT_PORTS.async, DEFAULT_PORTS.threaded, DEFAULT_PORTS.balancer].map(
    (p) => p + values.portOffset,
  );
  if (ports.some((p) => p < 1 || p > 65535))
    problems.push(`PORT_OFFSET ${values.portOffset} puts a target outside 1..65535`);
  return problems;
}

/**
 * The typed config. `fleetPorts` are the targets' ports as the ecosystem file computes them (with
 * PORT_OFFSET and its own port variables); without them, the assignment's ports plus the offset.
 */
export function toBenchConfig(
  value: BenchOptionValues,
  now: Date = new Date(),
  fleetPorts: FleetPorts = {},
): BenchConfig {
  const urls = new Map(targetUrlsOf(value).map((t) => [t.name, t.url]));
  const targets: BenchTarget[] = value.targets.map((name) => {
    const explicit = urls.get(name);
    if (explicit !== undefined) return { name, url: explicit, explicit: true };
    // validateBench made sure a name without a URL is a built-in one.
    return {
      name,
      url: defaultTargetUrl(name as BuiltInTarget, value.portOffset, fleetPorts),
      explicit: false,
    };
  });
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  return {
    scenarios: value.path !== '' ? [] : value.scenario === 'all' ? [...SCENARIOS] : [value.scenario],
    path: value.path === '' ? null : value.path,
    requests: value.requests,
    concurrency: value.concurrency,
    targets,
    explicitTargetsOnly: targets.every((t) => t.explicit),
    keepalive: value.keepalive,
    repeat: value.repeat,
    clients: value.clients,
    clientMode: value.clientMode,
    withAb: value.with.includes('ab'),
    warmup: value.warmup,
    timeoutMs: value.timeoutMs,
    deadlineMs: value.deadlineMs,
    ceilingRequests: value.ceilingRequests,
    wrkDurationMs: value.wrkDurationMs,
    fleetTimeoutMs: value.fleetTimeoutMs,
    fleetLogLevel: value.fleetLogLevel,
    outDir: value.out === '' ? path.join(RESULTS_DIR, stamp) : path.resolve(value.out),
    portOffset: value.portOffset,
    logLevel: value.logLevel,
    logFormat: value.logFormat,
  };
}

/** Pure: the typed config, or a ConfigError listing every problem. `now` names the default folder. */
export function buildBenchConfig(
  input: RawInput,
  now: Date = new Date(),
  fleetPorts: FleetPorts = {},
): { config: BenchConfig; help: boolean } {
  const { value, help } = buildConfig(benchOptions, input, validateBench);
  return { config: toBenchConfig(value, now, fleetPorts), help };
}
