/**
 * What went wrong with one attempt, and what to do about it: retry elsewhere, take the upstream
 * out of rotation, and which status the client gets if nothing else works. Pure (Caddy's
 * `retries.go` decision, nginx's `proxy_next_upstream error` default): tested without sockets.
 */
import type { UpstreamErrorCode } from '../errors.js';

/** How an attempt failed, in the order a request meets the network. */
export type FailureKind =
  /** The upstream refused the connection: nothing reached it. */
  | 'connect-refused'
  /** No connection within --connect-timeout: nothing reached it. */
  | 'connect-timeout'
  /** The connection broke after the request went out and before any response byte came back. */
  | 'reset-before-response'
  /** No response byte within --proxy-timeout. */
  | 'response-timeout'
  /** The upstream answered something that is not HTTP. */
  | 'bad-response'
  /** The connection broke while the response was being relayed (headers already sent). */
  | 'reset-during-response'
  /** Our own client went away; not the upstream's fault. */
  | 'client-gone'
  /**
   * The engine refused to send the request as given (undici validates what node:http let
   * through); nothing reached the upstream, and it is not the upstream's fault.
   */
  | 'unsendable';

export interface RetrySettings {
  enabled: boolean;
  /** Most attempts for one request (the pool size when the config says 0). */
  maxAttempts: number;
  /** No new attempt once the request is this old. */
  budgetMs: number;
  /** Retry idempotent requests after a response timeout instead of answering 504. */
  onTimeout: boolean;
}

export interface AttemptFacts {
  kind: FailureKind;
  method: string;
  /** The request carries a body (Content-Length > 0 or chunked). */
  hasBody: boolean;
  /** The body is still available to send again (it was kept, and not too big to keep). */
  bodyReplayable: boolean;
  /** Attempts made so far, this one included. */
  attempts: number;
  elapsedMs: number;
  /** Another available upstream exists that this request has not tried. */
  otherUpstreamLeft: boolean;
}

export interface RetryDecision {
  retry: boolean;
  /** Why not, for the log line (empty when retrying). */
  reason: string;
}

/** RFC 9110 section 9.2.2: repeating these has the same effect as doing them once. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** The request never reached the upstream, so any method may go elsewhere. */
function neverReached(kind: FailureKind): boolean {
  return kind === 'connect-refused' || kind === 'connect-timeout';
}

export function decideRetry(facts: AttemptFacts, settings: RetrySettings): RetryDecision {
  if (facts.kind === 'client-gone') return { retry: false, reason: 'the client went away' };
  if (facts.kind === 'unsendable') return { retry: false, reason: 'no upstream would get it either' };
  if (!settings.enabled) return { retry: false, reason: 'retries are off' };
  if (facts.kind === 'bad-response') return { retry: false, reason: 'the upstream answered, badly' };
  if (facts.kind === 'reset-during-response') {
    return { retry: false, reason: 'the response had started' };
  }
  if (facts.kind === 'response-timeout' && !settings.onTimeout) {
    return { retry: false, reason: 'timeouts are not retried (--retry-timeouts)' };
  }
  if (!neverReached(facts.kind)) {
    if (facts.hasBody) return { retry: false, reason: 'the request body may have reached the upstream' };
    if (!isIdempotent(facts.method)) {
      return { retry: false, reason: `${facts.method} is not idempotent and may have reached the upstream` };
    }
  } else if (facts.hasBody && !facts.bodyReplayable) {
    return { retry: false, reason: 'the request body was too big to keep for a retry' };
  }
  if (facts.attempts >= settings.maxAttempts) {
    return { retry: false, reason: `${facts.attempts} of ${settings.maxAttempts} attempts made` };
  }
  if (facts.elapsedMs >= settings.budgetMs) {
    return { retry: false, reason: `the retry budget of ${settings.budgetMs}ms is spent` };
  }
  if (!facts.otherUpstreamLeft) return { retry: false, reason: 'no other upstream is available' };
  return { retry: true, reason: '' };
}

/**
 * Passive health: a refused connection or a reset takes the upstream out of rotation at once (the
 * active checks bring it back). A slow or confused upstream only counts a failure; a client that
 * hung up counts nothing.
 */
export function marksDown(kind: FailureKind): boolean {
  return (
    kind === 'connect-refused' ||
    kind === 'connect-timeout' ||
    kind === 'reset-before-response' ||
    kind === 'reset-during-response'
  );
}

export function countsAsFailure(kind: FailureKind): boolean {
  return kind !== 'client-gone' && kind !== 'unsendable';
}

/** The client's answer when no attempt produced a response. */
export function finalStatus(kind: FailureKind): 502 | 504 {
  return kind === 'response-timeout' || kind === 'connect-timeout' ? 504 : 502;
}

/**
 * Turn a socket or parser error from an attempt into a failure kind. Codes come from node (errno,
 * `HPE_*` from its parser), undici (`UND_ERR_*`, and the same `HPE_*` from llhttp) or the
 * balancer itself (`UpstreamErrorCode`, every one of which the switch must name).
 */
export function classifyError(
  code: string | undefined,
  phase: { responded: boolean; clientGone: boolean },
): FailureKind {
  if (phase.clientGone) return 'client-gone';
  if (code === 'UND_ERR_INVALID_ARG') return 'unsendable';
  if (phase.responded) return 'reset-during-response';
  if (code === undefined) return 'reset-before-response';
  if (isUpstreamErrorCode(code)) return ownFailure(code);
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect-timeout';
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'connect-refused';
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return 'bad-response';
    default:
      // llhttp names every parse failure HPE_*; anything else broke the connection.
      return code.startsWith('HPE_') ? 'bad-response' : 'reset-before-response';
  }
}

/** The balancer's own codes; a new one fails to compile until it is given a kind here. */
function ownFailure(code: UpstreamErrorCode): FailureKind {
  switch (code) {
    case 'ERR_UPSTREAM_CONNECT_TIMEOUT':
      return 'connect-timeout';
    case 'ERR_UPSTREAM_TIMEOUT':
      return 'response-timeout';
    case 'ERR_UPSTREAM_BAD_RESPONSE':
      return 'bad-response';
    case 'ERR_UPSTREAM_BROKE_OFF':
      return 'reset-before-response';
  }
}

function isUpstreamErrorCode(code: string): code is UpstreamErrorCode {
  return code.startsWith('ERR_UPSTREAM_');
}
