/**
 * The one logger, on winston. By default one readable line per event (what `pm2 logs <app>`
 * shows); `LOG_FORMAT=json` gives one JSON object per line. Colours only on a TTY. Errors and
 * warnings go to stderr, the rest to stdout: under PM2 that is logs/<app>.err.log and
 * `pm2 logs --err`, and a shell's `2>` catches what needs a look.
 * Access lines, one per request, skip winston: formatted to the same text (logging/line-format.ts)
 * and written to stdout in batches (logging/line-batch.ts), which every other line waits for.
 * Settings arrive from the config module: this file never reads the environment.
 */
import winston from 'winston';
import { LineBatch } from './logging/line-batch.js';
import { IsoClock, JsonLines, plainLevelLabel, readableLine, type LogFields } from './logging/line-format.js';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

export interface LoggerSettings {
  /** Shown on every line: the process name (backend-9002, balancer...). */
  name: string;
  level: LogLevel;
  format: LogFormat;
  /** Colour the level; the caller passes `process.stdout.isTTY`. */
  color?: boolean;
  /** Most bytes of access lines waiting for stdout before more are dropped (default 1 MiB). */
  accessBacklogBytes?: number;
}

/** Docker's default for its non-blocking log mode: seconds of lines at full load, bounded. */
export const DEFAULT_ACCESS_BACKLOG_BYTES = 1024 * 1024;

/** Extra fields for a line (defined with the line's text, src/logging/line-format.ts). */
export type { LogFields };

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /**
   * An access line: at info, the same text as `info` gives, written with others in one batch
   * (logging/line-batch.ts); dropped, and counted in a warning, when stdout is more than its
   * backlog behind.
   */
  access(message: string, fields: LogFields): void;
  /**
   * Whether access lines carry their fields (LOG_FORMAT=json): a readable line is its message
   * alone, so a hot path can skip building the fields and pass NO_FIELDS.
   */
  readonly accessFields: boolean;
  /** Cheap check for hot paths: skip building a line nobody will see. */
  enabled(level: LogLevel): boolean;
  /** Flush and close; call before exiting. */
  close(): Promise<void>;
}

/** The fields of an access line whose fields nobody reads (see Logger.accessFields). */
export const NO_FIELDS: LogFields = Object.freeze({});

const colorizer = winston.format.colorize();

/** The level as a readable line shows it: upper case, five wide, coloured on a TTY. */
function levelLabel(level: string, color: boolean): string {
  const plain = plainLevelLabel(level);
  return color ? colorizer.colorize(level, plain) : plain;
}

function readableFormat(name: string, color: boolean): winston.Logform.Format {
  return winston.format.printf((info) =>
    readableLine(String(info.timestamp), levelLabel(info.level, color), name, String(info.message)),
  );
}

/** The levels winston's console transport writes to stderr instead of stdout. */
const STDERR_LEVELS: readonly LogLevel[] = ['error', 'warn'];

let outputGuarded = false;

/**
 * Under PM2, stdout and stderr are pipes to the daemon; if the daemon dies, the next write fails
 * with EPIPE. A lost log line must not take a serving process down with it, so such errors are dropped.
 */
function guardOutput(): void {
  if (outputGuarded) return;
  outputGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
  }
}

export function createLogger(settings: LoggerSettings): Logger {
  guardOutput();
  const format =
    settings.format === 'json'
      ? winston.format.combine(
          winston.format.timestamp(),
          // `service`, not `name`: lines about an upstream carry that upstream's name.
          winston.format((info) => {
            info.service = settings.name;
            return info;
          })(),
          winston.format.json(),
        )
      : winston.format.combine(
          winston.format.timestamp(),
          readableFormat(settings.name, settings.color ?? false),
        );
  const inner = winston.createLogger({
    level: settings.level,
    format,
    transports: [new winston.transports.Console({ stderrLevels: [...STDERR_LEVELS] })],
  });
  const rank = LOG_LEVELS.indexOf(settings.level);
  const enabled = (level: LogLevel): boolean => LOG_LEVELS.indexOf(level) <= rank;
  const batch = enabled('info') ? accessBatch(settings, inner) : null;
  const access = batch === null ? ignore : accessWriter(settings, batch);
  // A line through winston waits for the access lines before it, so stdout keeps their order (and
  // stderr's lines come after them too, for a terminal or a `2>&1` that shows both).
  const ordered =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (batch !== null && enabled(level)) batch.flushNow();
      inner.log(level, message, fields);
    };
  return {
    error: ordered('error'),
    warn: ordered('warn'),
    info: ordered('info'),
    debug: ordered('debug'),
    access,
    accessFields: settings.format === 'json',
    enabled,
    close: async () => {
      await batch?.close();
      await new Promise<void>((resolve) => {
        inner.on('finish', () => resolve());
        inner.end();
        // The console transport may finish before 'finish' is wired on some winston versions.
        setTimeout(resolve, 200).unref();
      });
    },
  };
}

function ignore(): void {}

/** Access lines to stdout in batches; dropped lines are told on stderr, through winston. */
function accessBatch(settings: LoggerSettings, inner: winston.Logger): LineBatch {
  return new LineBatch({
    sink: process.stdout,
    backlogBytes: settings.accessBacklogBytes ?? DEFAULT_ACCESS_BACKLOG_BYTES,
    report: {
      dropping: (backlogBytes) =>
        inner.warn(
          `stdout is ${Math.round(backlogBytes / 1024)} KiB behind: access lines are dropped until it catches up`,
          { event: 'access-lines-dropping', backlogBytes },
        ),
      dropped: (count, caughtUp) =>
        inner.warn(
          `${count} access ${count === 1 ? 'line was' : 'lines were'} dropped while stdout was behind${caughtUp ? '' : ' (still behind)'}`,
          { event: 'access-lines-dropped', dropped: count, caughtUp },
        ),
    },
  });
}

/** The access line as winston's info line would be, without winston: readable or JSON. */
function accessWriter(
  settings: LoggerSettings,
  batch: LineBatch,
): (message: string, fields: LogFields) => void {
  const clock = new IsoClock();
  const { name } = settings;
  if (settings.format === 'json') {
    const json = new JsonLines();
    return (message, fields) => batch.add(`${json.line('info', message, fields, clock.now(), name)}\n`);
  }
  const label = levelLabel('info', settings.color ?? false);
  return (message) => batch.add(`${readableLine(clock.now(), label, name, message)}\n`);
}

/** The logger of a process's entry point: its options as parsed by the config module, colour on a TTY. */
export function createProcessLogger(
  name: string,
  options: { logLevel: LogLevel; logFormat: LogFormat; accessLogBacklogBytes?: number },
): Logger {
  return createLogger({
    name,
    level: options.logLevel,
    format: options.logFormat,
    color: process.stdout.isTTY,
    ...(options.accessLogBacklogBytes === undefined
      ? {}
      : { accessBacklogBytes: options.accessLogBacklogBytes }),
  });
}
