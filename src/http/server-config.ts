/**
 * Options of the two file servers: the event-loop backend and the thread-pool server. Pure: the
 * specs, the checks that need several values, and the typed config built from them; the entry
 * points hand these to loadConfigOrExit.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LogFormat, LogLevel } from '../logger.js';
import { buildConfig, type Validator } from '../config/load.js';
import { clientTimeoutProblems, maxHeaderSizeOption } from '../config/client-limits.js';
import {
  durationParser,
  intParser,
  parsePort,
  parseBoolean,
  parseString,
  type OptionSpec,
  type OptionValues,
  type RawInput,
  parseHost,
} from '../config/options.js';
import { DEFAULT_PORTS, PUBLIC_DIR, logOptions, portOffsetOption } from '../config/common.js';

export type ServerKind = 'backend' | 'threaded';

/** Everything a file server needs, after parsing and validation. */
export interface ServerConfig {
  kind: ServerKind;
  port: number;
  host: string;
  /** Shown in `X-Served-By`, `/healthz` and every log line. */
  name: string;
  /** Absolute path of the folder served. */
  root: string;
  graceMs: number;
  /** Part of the grace period spent still accepting, so a balancer notices the stop first. */
  drainDelayMs: number;
  /** Highest `ms` accepted by `/work`; 0 turns the route off. */
  workCapMs: number;
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxHeaderSize: number;
  maxBodyBytes: number;
  /** Files up to this size are kept in memory; larger ones are streamed from disk. */
  cacheMaxFileBytes: number;
  /** How long a cached file is served before it is checked against the disk again. */
  cacheValidMs: number;
  /** Thread-pool server only (0 for the backend). */
  threads: number;
  maxQueue: number;
  /** Write access lines for GET /healthz too (off: a balancer's checks would bury the real lines). */
  logHealthChecks: boolean;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** A folder that exists; checked when given, so a wrong --root is reported with the other problems. */
function parseRoot(raw: string): string {
  const root = path.resolve(parseString(raw));
  const problem = rootProblem(root);
  if (problem !== undefined) throw new Error(problem);
  return root;
}

function rootProblem(root: string): string | undefined {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(root);
  } catch {
    return `the folder ${root} does not exist`;
  }
  return stat.isDirectory() ? undefined : `${root} is not a folder`;
}

const MIB = 1024 * 1024;

function serverSpecs(kind: ServerKind) {
  const defaultPort = kind === 'backend' ? DEFAULT_PORTS.backends[0] : DEFAULT_PORTS.threaded;
  return {
    portOffset: portOffsetOption,
    port: {
      flag: 'port',
      env: 'PORT',
      description: 'Port to listen on; 0 picks a free one',
      default: (p: Record<string, unknown>) => defaultPort + Number(p.portOffset ?? 0),
      defaultText: `${defaultPort} + PORT_OFFSET`,
      parse: parsePort,
    } satisfies OptionSpec<number>,
    host: {
      flag: 'host',
      env: 'HOST',
      description: 'Address to listen on; 0.0.0.0 must be asked for',
      default: '127.0.0.1',
      parse: parseHost,
    } satisfies OptionSpec<string>,
    name: {
      flag: 'name',
      env: 'NAME',
      description: 'Name shown in X-Served-By, /healthz and log lines',
      default: (p: Record<string, unknown>) =>
        kind === 'backend' ? `backend-${String(p.port)}` : 'threaded',
      defaultText: kind === 'backend' ? 'backend-<port>' : 'threaded',
      parse: parseString,
    } satisfies OptionSpec<string>,
    root: {
      flag: 'root',
      env: 'ROOT',
      description: 'Folder of files to serve',
      default: PUBLIC_DIR,
      defaultText: "the project's public/",
      parse: parseRoot,
    } satisfies OptionSpec<string>,
    graceMs: {
      flag: 'grace-ms',
      env: 'GRACE_MS',
      description: 'On SIGINT/SIGTERM, how long in-flight requests may take before their sockets are closed',
      default: 1000,
      parse: durationParser(0, 600_000),
    } satisfies OptionSpec<number>,
    drainDelayMs: {
      flag: 'drain-delay-ms',
      env: 'DRAIN_DELAY_MS',
      description:
        'On SIGINT/SIGTERM, keep accepting this long (healthz 503, Connection: close) so a balancer takes the server out of rotation before its port closes; counts against --grace-ms',
      default: 0,
      parse: durationParser(0, 60_000),
    } satisfies OptionSpec<number>,
    workCapMs: {
      flag: 'work-cap-ms',
      env: 'WORK_CAP_MS',
      description: 'Largest ms accepted by GET /work?ms=N (CPU work); 0 turns /work off',
      default: 200,
      parse: intParser(0, 60_000),
    } satisfies OptionSpec<number>,
    keepAliveTimeoutMs: {
      flag: 'keep-alive-timeout',
      env: 'KEEP_ALIVE_TIMEOUT',
      description:
        'Idle time before a keep-alive socket is closed; keep it longer than the balancer agent idle timeout (4s)',
      default: 5000,
      parse: durationParser(0, 600_000),
    } satisfies OptionSpec<number>,
    headersTimeoutMs: {
      flag: 'headers-timeout',
      env: 'HEADERS_TIMEOUT',
      description: 'A client must send all request headers within this time (slow clients get 408)',
      default: 10_000,
      parse: durationParser(100, 600_000),
    } satisfies OptionSpec<number>,
    requestTimeoutMs: {
      flag: 'request-timeout',
      env: 'REQUEST_TIMEOUT',
      description: 'A client must send the whole request (headers and body) within this time',
      default: 30_000,
      parse: durationParser(100, 3_600_000),
    } satisfies OptionSpec<number>,
    maxHeaderSize: maxHeaderSizeOption,
    maxBodyBytes: {
      flag: 'max-body-bytes',
      env: 'MAX_BODY_BYTES',
      description: 'Largest POST body in bytes; bigger gets 413',
      default: MIB,
      parse: intParser(0, 1024 * MIB),
    } satisfies OptionSpec<number>,
    cacheMaxFileBytes: {
      flag: 'cache-max-file-bytes',
      env: 'CACHE_MAX_FILE_BYTES',
      description: 'Files up to this size are kept in memory; larger ones are streamed from disk',
      default: 256 * 1024,
      parse: intParser(0, 64 * MIB),
    } satisfies OptionSpec<number>,
    cacheValidMs: {
      flag: 'cache-valid-ms',
      env: 'CACHE_VALID_MS',
      description: 'How long a cached file is trusted before it is checked on disk again',
      default: 1000,
      parse: durationParser(0, 3_600_000),
    } satisfies OptionSpec<number>,
    logHealthChecks: {
      flag: 'log-health-checks',
      env: 'LOG_HEALTH_CHECKS',
      description: 'Write access lines for GET /healthz too (a balancer asks every second)',
      default: false,
      boolean: true,
      parse: parseBoolean,
    } satisfies OptionSpec<boolean>,
    logLevel: logOptions.logLevel,
    logFormat: logOptions.logFormat,
  };
}

function threadedSpecs() {
  return {
    ...serverSpecs('threaded'),
    threads: {
      flag: 'threads',
      env: 'THREADS',
      description: 'Worker threads in the pool',
      default: os.availableParallelism(),
      defaultText: 'the number of CPUs',
      parse: intParser(1, 256),
    } satisfies OptionSpec<number>,
    maxQueue: {
      flag: 'max-queue',
      env: 'MAX_QUEUE',
      description: 'Requests that may wait for a free thread; more get 503 with Retry-After',
      default: (p: Record<string, unknown>) => Number(p.threads ?? 1) * 64,
      defaultText: 'threads x 64',
      parse: intParser(1, 1_000_000),
    } satisfies OptionSpec<number>,
  };
}

export const backendSpecs = serverSpecs('backend');
export const threadedServerSpecs = threadedSpecs();

type BackendValues = OptionValues<typeof backendSpecs>;

/** Checks that need several values (run only when every value parsed). */
export const validateServer: Validator<BackendValues> = (v) => {
  const problems: string[] = [];
  const root = rootProblem(v.root);
  if (root !== undefined) problems.push(`--root (or ROOT): ${root}`);
  if (v.drainDelayMs >= v.graceMs && v.graceMs > 0) {
    problems.push(
      `--drain-delay-ms (${v.drainDelayMs}ms) must be shorter than --grace-ms (${v.graceMs}ms): in-flight requests need time too`,
    );
  }
  problems.push(...clientTimeoutProblems(v.headersTimeoutMs, v.requestTimeoutMs));
  return problems;
};

export function toServerConfig(
  kind: ServerKind,
  v: BackendValues & { threads?: number; maxQueue?: number },
): ServerConfig {
  return {
    kind,
    port: v.port,
    host: v.host,
    name: v.name,
    root: v.root,
    graceMs: v.graceMs,
    drainDelayMs: v.drainDelayMs,
    workCapMs: v.workCapMs,
    keepAliveTimeoutMs: v.keepAliveTimeoutMs,
    headersTimeoutMs: v.headersTimeoutMs,
    requestTimeoutMs: v.requestTimeoutMs,
    maxHeaderSize: v.maxHeaderSize,
    maxBodyBytes: v.maxBodyBytes,
    cacheMaxFileBytes: v.cacheMaxFileBytes,
    cacheValidMs: v.cacheValidMs,
    threads: v.threads ?? 0,
    maxQueue: v.maxQueue ?? 0,
    logHealthChecks: v.logHealthChecks,
    logLevel: v.logLevel,
    logFormat: v.logFormat,
  };
}

/** Pure, for tests: parse and validate the input of one kind of server; throws ConfigError. */
export function buildServerConfig(kind: ServerKind, input: RawInput): ServerConfig {
  if (kind === 'backend') return toServerConfig(kind, buildConfig(backendSpecs, input, validateServer).value);
  return toServerConfig(kind, buildConfig(threadedServerSpecs, input, validateServer).value);
}
