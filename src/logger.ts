/**
 * The one logger, on winston. By default one readable line per event (what `pm2 logs <app>`
 * shows); `LOG_FORMAT=json` gives one JSON object per line. Colours only on a TTY. Errors and
 * warnings go to stderr, the rest to stdout: under PM2 that is logs/<app>.err.log and
 * `pm2 logs --err`, and a shell's `2>` catches what needs a look.
 * Settings arrive from the config module: this file never reads the environment.
 */
import winston from 'winston';

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
}

/** Extra fields for a line; printed in JSON mode, left out of the readable line. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /** Cheap check for hot paths: skip building a line nobody will see. */
  enabled(level: LogLevel): boolean;
  /** Flush and close; call before exiting. */
  close(): Promise<void>;
}

function readableFormat(name: string, color: boolean): winston.Logform.Format {
  const colorizer = winston.format.colorize();
  return winston.format.printf((info) => {
    const level = info.level.toUpperCase().padEnd(5);
    const shown = color ? colorizer.colorize(info.level, level) : level;
    return `${String(info.timestamp)} ${shown} [${name}] ${String(info.message)}`;
  });
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
  return {
    error: (message, fields) => inner.error(message, fields),
    warn: (message, fields) => inner.warn(message, fields),
    info: (message, fields) => inner.info(message, fields),
    debug: (message, fields) => inner.debug(message, fields),
    enabled: (level) => LOG_LEVELS.indexOf(level) <= rank,
    close: () =>
      new Promise<void>((resolve) => {
        inner.on('finish', () => resolve());
        inner.end();
        // The console transport may finish before 'finish' is wired on some winston versions.
        setTimeout(resolve, 200).unref();
      }),
  };
}

/** The logger of a process's entry point: its options as parsed by the config module, colour on a TTY. */
export function createProcessLogger(
  name: string,
  options: { logLevel: LogLevel; logFormat: LogFormat },
): Logger {
  return createLogger({
    name,
    level: options.logLevel,
    format: options.logFormat,
    color: process.stdout.isTTY,
  });
}
