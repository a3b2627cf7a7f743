/**
 * The project's error classes. Every error has a stable `code` for logs, tests and metrics, typed
 * per class (undici's one-code-per-class rule, as unions here), so a code cannot be misspelt at a
 * throw site, and the `cause` that led to it. Whose fault an error is follows from its class.
 */

export interface AppErrorOptions {
  cause?: unknown;
}

export class AppError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad configuration: every problem found, so a person can fix them all at once. Exit code 2. */
export class ConfigError extends AppError<'ERR_CONFIG'> {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options: AppErrorOptions = {}) {
    super('ERR_CONFIG', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
    this.problems = problems;
  }
}

/**
 * The balancer's own names for an attempt that failed at the upstream. `classifyError` in
 * src/balancer/retry-policy.ts maps each to a failure kind (and must, or it does not compile).
 */
export type UpstreamErrorCode =
  /** No connection within --connect-timeout. */
  | 'ERR_UPSTREAM_CONNECT_TIMEOUT'
  /** Nothing from the upstream within --proxy-timeout. */
  | 'ERR_UPSTREAM_TIMEOUT'
  /** The upstream's response head not complete within --upstream-header-timeout. */
  | 'ERR_UPSTREAM_HEADER_TIMEOUT'
  /** The upstream's answer could not be read as HTTP. */
  | 'ERR_UPSTREAM_BAD_RESPONSE'
  /** The upstream closed the connection before its answer was complete. */
  | 'ERR_UPSTREAM_BROKE_OFF'
  /** The request could not be written as given (a byte that would split its head); nothing was sent. */
  | 'ERR_UPSTREAM_UNSENDABLE';

/** An upstream could not be reached or failed before answering. */
export class UpstreamError extends AppError<UpstreamErrorCode> {
  readonly upstream: string;

  constructor(code: UpstreamErrorCode, upstream: string, message: string, options: AppErrorOptions = {}) {
    super(code, message, options);
    this.upstream = upstream;
  }
}

/** Why the balancer itself broke off a client's exchange. */
export type ExchangeErrorCode =
  /** A response that cannot be finished (its upstream failed after the head): the client must see it cut. */
  'ERR_RESPONSE_CUT';

/** The balancer ended a client's request before its response was complete. */
export class ExchangeError extends AppError<ExchangeErrorCode> {}

export type SupervisorErrorCode =
  | 'ERR_PM2_API'
  | 'ERR_PM2_APP_NOT_FOUND'
  | 'ERR_PM2_CALL'
  | 'ERR_PM2_DAEMON_DOWN'
  | 'ERR_PM2_LIST'
  | 'ERR_PM2_NOT_RUNNING'
  | 'ERR_PM2_NOT_STOPPED'
  | 'ERR_PM2_TIMEOUT'
  | 'ERR_SIGNAL'
  | 'ERR_FLEET_NAME_TAKEN'
  | 'ERR_FLEET_PORT_TAKEN'
  | 'ERR_FLEET_RELOAD'
  | 'ERR_FLEET_START'
  | 'ERR_FLEET_STOP'
  | 'ERR_FLEET_UNKNOWN_APP';

/** A call to the PM2 daemon, or an operation on the fleet through it, failed. */
export class SupervisorError extends AppError<SupervisorErrorCode> {}

export type AdminApiErrorCode =
  /** Nothing listens on the admin address: no balancer runs there. */
  | 'ERR_ADMIN_NOT_RUNNING'
  /** No answer within the deadline, or the connection broke. */
  | 'ERR_ADMIN_NO_ANSWER'
  /** The balancer said no: an unknown upstream (404), no token (401), its guard (403, 415). */
  | 'ERR_ADMIN_REFUSED'
  /** It answered something that is not what the balancer sends. */
  | 'ERR_ADMIN_ANSWER';

/** A request to a balancer's admin listener (`npm run lb`) did not do what was asked. */
export class AdminApiError extends AppError<AdminApiErrorCode> {}

export type DecisionErrorCode =
  /** etcd did not take an operator's decision (unreachable, no quorum, past the deadline). */
  'ERR_DECISION_NOT_SHARED';

/** An operator's decision the balancers share could not be shared, so it was not made. */
export class DecisionError extends AppError<DecisionErrorCode> {}

export type InternalErrorCode =
  | 'ERR_BENCH_CLIENT'
  | 'ERR_DASHBOARD_ASSET'
  | 'ERR_DEMO_FLEET'
  | 'ERR_DEMO_HOSTS'
  | 'ERR_DEMO_INTERRUPTED'
  | 'ERR_DEMO_STATUS'
  | 'ERR_DEMO_TARGET'
  | 'ERR_DEMO_TIMEOUT'
  | 'ERR_DISCOVERY'
  | 'ERR_ENGINE'
  | 'ERR_HANDOVER'
  | 'ERR_HOSTS'
  | 'ERR_HOSTS_COMMAND'
  | 'ERR_HOSTS_PM2'
  | 'ERR_NATIVE'
  | 'ERR_STATUS_SHAPE'
  | 'ERR_TRIVIAL_SERVER'
  | 'ERR_WRONG_THREAD'
  | 'ERR_ZONE';

/** Something that should not happen; a bug or an environment we cannot work in. */
export class InternalError extends AppError<InternalErrorCode> {}

/** The message of anything thrown, for a log line. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== undefined && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
