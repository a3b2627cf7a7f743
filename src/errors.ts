/**
 * The project's error classes. Every error has a stable `code` (for logs, tests and metrics), a
 * `source` saying whose fault it is (as Pingora does), whether retrying elsewhere may help, and the
 * `cause` that led to it.
 */

/** Whose fault an error is: the client (downstream), a backend (upstream), us, config, or PM2. */
export type ErrorSource = 'downstream' | 'upstream' | 'internal' | 'config' | 'supervisor';

export interface AppErrorOptions {
  cause?: unknown;
  retryable?: boolean;
}

export class AppError extends Error {
  readonly code: string;
  readonly source: ErrorSource;
  readonly retryable: boolean;

  constructor(code: string, source: ErrorSource, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.source = source;
    this.retryable = options.retryable ?? false;
  }
}

/** Bad configuration: every problem found, so a person can fix them all at once. Exit code 2. */
export class ConfigError extends AppError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options: AppErrorOptions = {}) {
    super(
      'ERR_CONFIG',
      'config',
      `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      options,
    );
    this.problems = problems;
  }
}

/** A client sent something we refuse; carries the HTTP status to answer with. */
export class BadRequestError extends AppError {
  readonly status: number;

  constructor(status: number, message: string, options: AppErrorOptions = {}) {
    super('ERR_BAD_REQUEST', 'downstream', message, options);
    this.status = status;
  }
}

/** An upstream could not be reached or failed before answering. */
export class UpstreamError extends AppError {
  readonly upstream: string;

  constructor(code: string, upstream: string, message: string, options: AppErrorOptions = {}) {
    super(code, 'upstream', message, options);
    this.upstream = upstream;
  }
}

/** A call to the PM2 daemon failed (not connected, app unknown, daemon gone). */
export class SupervisorError extends AppError {
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(code, 'supervisor', message, options);
  }
}

/** Something that should not happen; a bug or an environment we cannot work in. */
export class InternalError extends AppError {
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(code, 'internal', message, options);
  }
}

/** The message of anything thrown, for a log line. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== undefined && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
