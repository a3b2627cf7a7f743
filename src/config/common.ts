/** Options every process shares (logging, port offset), and the project's folders. */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { DEFAULT_ACCESS_BACKLOG_BYTES, LOG_LEVELS, type LogFormat, type LogLevel } from '../logger.js';
import { PIPE_BUF } from '../logging/line-batch.js';
import { enumParser, intParser, type OptionSpec } from './options.js';

/** The project's root folder, found from this file (src/config or dist/src/config). */
export const PROJECT_ROOT = (() => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const parts = here.split(path.sep);
  const distAt = parts.lastIndexOf('dist');
  return distAt >= 0 ? parts.slice(0, distAt).join(path.sep) : path.resolve(here, '..', '..');
})();

export const PUBLIC_DIR = path.join(PROJECT_ROOT, 'public');
export const LOGS_DIR = path.join(PROJECT_ROOT, 'logs');
export const RESULTS_DIR = path.join(PROJECT_ROOT, 'bench', 'results');
export const ECOSYSTEM_FILE = path.join(PROJECT_ROOT, 'ecosystem.config.cjs');

/** PM2's namespace of the fleet's apps (ecosystem.config.cjs): what start, stop and status act on. */
export const FLEET_NAMESPACE = 'supervised-balancer';

/** The assignment's fixed ports; `PORT_OFFSET` shifts them all at once. */
export const DEFAULT_PORTS = {
  backends: [9002, 9003, 9004, 9005],
  balancer: 44444,
  admin: 44445,
  async: 45000,
  threaded: 46000,
} as const;

export const logOptions = {
  logLevel: {
    flag: 'log-level',
    env: 'LOG_LEVEL',
    description: `Lowest level logged: ${LOG_LEVELS.join(', ')}; warn silences per-request lines`,
    default: 'info',
    parse: enumParser(LOG_LEVELS),
  } satisfies OptionSpec<LogLevel>,
  logFormat: {
    flag: 'log-format',
    env: 'LOG_FORMAT',
    description: 'text: one readable line per event; json: one JSON object per line',
    default: 'text',
    parse: enumParser<LogFormat>(['text', 'json']),
  } satisfies OptionSpec<LogFormat>,
};

/**
 * How far behind stdout's reader (PM2) access lines may fall before more are dropped
 * (src/logging/line-batch.ts). A process that logs a line per request must not block on, or
 * buffer without limit for, a slow reader.
 */
export const accessLogBacklogOption = {
  flag: 'access-log-backlog',
  env: 'ACCESS_LOG_BACKLOG',
  description:
    'Access lines waiting for a slow stdout reader (PM2) are kept up to this many bytes; more are dropped and counted in a warning',
  default: DEFAULT_ACCESS_BACKLOG_BYTES,
  // A few batches at least: one may be in flight while the next fills.
  parse: intParser(4 * PIPE_BUF, 256 * 1024 * 1024),
} satisfies OptionSpec<number>;

export const portOffsetOption = {
  flag: 'port-offset',
  env: 'PORT_OFFSET',
  description: 'Added to every default port of the fleet (PORT_OFFSET=10000 puts the balancer on 54444)',
  default: 0,
  parse: intParser(-9000, 20000),
} satisfies OptionSpec<number>;
