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
  /** No response byte within --proxy-timeout, or no complete head within --upstream-header-timeout. */
  | 'response-timeout'
  /** The upstream answered something that is not HTTP. */
  | 'bad-response'
  /** The connection broke while the response was being relayed (headers already sent). */
  | 'reset-during-response'
  /** Our own client went away; not the upstream's fault. */
  | 'client-gone'
  /**
   * The upstream closed while the client was still sending its body: a slow client's doing as
   * likely as the upstream's, so it is held against neither (docs/hardening.md).
   */
  | 'awaiting-body'
  /**
   * The balancer itself is out of descriptors, buffers or local ports (EMFILE, ENFILE, ENOBUFS,
   * EADDRNOTAVAIL): its own failure, never an upstream's. The client gets 503 with Retry-After.
   */
  | 'local-resource'
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
  if (facts.kind === 'local-resource') {
    return {
      retry: false,
      reason: 'the balancer is out of local resources; another upstream would not help',
    };
  }
  if (facts.kind === 'awaiting-body') return { retry: false, reason: 'part of the body was sent already' };
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
  return (
    kind !== 'client-gone' && kind !== 'unsendable' && kind !== 'local-resource' && kind !== 'awaiting-body'
  );
}

/** The client's answer when no attempt produced a response. */
export function finalStatus(kind: FailureKind): 502 | 503 | 504 {
  if (kind === 'local-resource') return 503;
  return kind === 'response-timeout' || kind === 'connect-timeout' ? 504 : 502;
}

/** Errors that say the balancer's own process or host ran out of something. */
const LOCAL_RESOURCE = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'EADDRNOTAVAIL', 'ENOMEM']);

export function isLocalResourceError(code: string | undefined): boolean {
  return code !== undefined && LOCAL_RESOURCE.has(code);
}

/**
 * Turn a socket or parser error from an attempt into a failure kind. Codes come from node (errno,
 * `HPE_*` from its parser), undici (`UND_ERR_*`, and the same `HPE_*` from llhttp) or the
 * balancer itself (`UpstreamErrorCode`, every one of which the switch must name).
 */
export function classifyError(
  code: string | undefined,
  phase: { responded: boolean; clientGone: boolean; bodyPending?: boolean },
): FailureKind {
  if (phase.clientGone) return 'client-gone';
  if (code === 'UND_ERR_INVALID_ARG') return 'unsendable';
  if (isLocalResourceError(code)) return 'local-resource';
  if (phase.responded) return 'reset-during-response';
  // A hang-up while the client's body was still on its way: the slow client may be why.
  const reset = phase.bodyPending === true ? 'awaiting-body' : 'reset-before-response';
  if (isUpstreamErrorCode(code)) {
    const kind = ownFailure(code);
    return kind === 'reset-before-response' ? reset : kind;
  }
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect-timeout';
    // undici's headersTimeout (--upstream-header-timeout): the upstream was slow, not gone.
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'response-timeout';
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'connect-refused';
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return 'bad-response';
    default:
      // llhttp names every parse failure HPE_*; anything else broke the connection.
      return code?.startsWith('HPE_') === true ? 'bad-response' : reset;
  }
}

/** The balancer's own codes; a new one fails to compile until it is given a kind here. */
function ownFailure(code: UpstreamErrorCode): FailureKind {
  switch (code) {
    case 'ERR_UPSTREAM_CONNECT_TIMEOUT':
      return 'connect-timeout';
    case 'ERR_UPSTREAM_TIMEOUT':
    case 'ERR_UPSTREAM_HEADER_TIMEOUT':
      return 'response-timeout';
    case 'ERR_UPSTREAM_BAD_RESPONSE':
      return 'bad-response';
    case 'ERR_UPSTREAM_BROKE_OFF':
      return 'reset-before-response';
    case 'ERR_UPSTREAM_UNSENDABLE':
      return 'unsendable';
  }
}

function isUpstreamErrorCode(code: string | undefined): code is UpstreamErrorCode {
  return code?.startsWith('ERR_UPSTREAM_') === true;
}
