/**
 * What follows a failed attempt, the same for a request and for an upgrade (the step of Caddy's
 * one proxy loop after a round trip fails): count the failure against the upstream, take it out
 * of rotation when the failure says it is gone (passive health), remember it as tried, pick
 * another, and ask the retry policy (retry-policy.ts) whether to go there. The result is a
 * decision; the caller does the I/O it asks for (the next attempt, the answer, the cut).
 *
 * Kept apart from the handlers so the one rule set is tested without sockets
 * (test/balancer/attempt-failure.test.ts), and so a request and an upgrade cannot drift apart.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.js';
import type { BalancerConfig } from './config.js';
import type { OwnAnswer } from './own-answers.js';
import type { Pool } from './pool.js';
import { countsAsFailure, decideRetry, finalStatus, marksDown, type FailureKind } from './retry-policy.js';
import type { Upstream } from './upstream.js';

/** What a request (or an upgrade) keeps across its attempts. */
export interface AttemptHistory {
  /** When the request arrived, on the step's clock (performance.now()). */
  readonly started: number;
  /** Attempts made so far, the failed one included. */
  readonly attempts: number;
  /** Upstreams that failed it, in order; allocated on the first failure. */
  tried: Upstream[] | null;
  /** "backend-9003: connection refused", one per failed attempt, for the answer's reason. */
  failures: string[] | null;
}

/** A kept request body, as far as the retry decision asks about it. */
export interface KeptBody {
  readonly replayable: boolean;
  readonly bytes: number;
}

/** One failed attempt, as its handler saw it. */
export interface FailedAttempt {
  upstream: Upstream;
  kind: FailureKind;
  /** The error's own message, for the line of a response cut short. */
  detail: string;
  /** The request as log lines name it: "GET /page.html", "upgrade /ws/echo". */
  request: string;
  /** What the balancer was doing, for the pool's reason: "proxying GET /page.html". */
  doing: string;
  method: string;
  hasBody: boolean;
  /** The copy of the body kept for a retry, if any. */
  body: KeptBody | null;
  /** The client has the response head already: too late for an answer of ours. */
  responseStarted: boolean;
}

export type NextStep =
  /** The client went away: nothing to answer, and no upstream is blamed. */
  | { readonly step: 'drop' }
  /** The response had started: cut the client's connection so it sees the response is incomplete. */
  | { readonly step: 'cut' }
  | { readonly step: 'retry'; readonly upstream: Upstream }
  /** `why` says why there was no retry, for the answer's log line. */
  | { readonly step: 'answer'; readonly answer: OwnAnswer; readonly why: string };

/** How each failure is named in answers, log lines and the pool's reasons. */
const FAILURE_WORDS: Record<FailureKind, string> = {
  'connect-refused': 'connection refused',
  'connect-timeout': 'connect timeout',
  'reset-before-response': 'connection reset before the response',
  'response-timeout': 'no response in time',
  'bad-response': 'malformed response',
  'reset-during-response': 'connection closed during the response',
  'client-gone': 'client went away',
  unsendable: 'request the engine would not send',
  'awaiting-body': 'connection closed while the request body was still arriving',
  'local-resource': 'the balancer is out of local resources',
};

const DROP: NextStep = { step: 'drop' };
const CUT: NextStep = { step: 'cut' };

export class AttemptFailures {
  constructor(
    private readonly pool: Pool,
    private readonly retry: BalancerConfig['retry'],
    private readonly logger: Logger,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** The attempt `failed` of the request with `history` is over: what comes next. */
  next(history: AttemptHistory, failed: FailedAttempt): NextStep {
    const { upstream, kind } = failed;
    if (kind === 'client-gone') return DROP;
    const words = FAILURE_WORDS[kind];
    if (countsAsFailure(kind)) upstream.failures++;
    if (marksDown(kind)) this.pool.takeOut(upstream, `${words} while ${failed.doing}`);
    const failures = (history.failures ??= []);
    failures.push(`${upstream.name}: ${words}`);
    const tried = (history.tried ??= []);
    tried.push(upstream);

    if (failed.responseStarted) {
      this.logger.warn(
        `${failed.request}: ${upstream.name} broke off the response (${failed.detail}); connection to the client cut`,
        { event: 'upstream-broke', upstream: upstream.name, kind },
      );
      return CUT;
    }

    const next = this.pool.select(tried);
    const { retry } = this;
    const body = failed.body;
    const decision = decideRetry(
      {
        kind,
        method: failed.method,
        hasBody: failed.hasBody,
        bodyReplayable: body !== null && body.replayable && body.bytes <= retry.maxBodyBytes,
        attempts: history.attempts,
        elapsedMs: this.clock() - history.started,
        otherUpstreamLeft: next !== undefined,
      },
      {
        enabled: retry.enabled,
        // 0: once round the pool.
        maxAttempts: retry.maxAttempts === 0 ? this.pool.size : retry.maxAttempts,
        budgetMs: retry.budgetMs,
        onTimeout: retry.onTimeout,
      },
    );
    if (decision.retry && next !== undefined) {
      if (this.logger.enabled('debug')) {
        this.logger.debug(`${failed.request}: ${upstream.name} failed (${words}), retrying on ${next.name}`, {
          event: 'retry',
          from: upstream.name,
          to: next.name,
          kind,
        });
      }
      return { step: 'retry', upstream: next };
    }
    const status = finalStatus(kind);
    const answer: OwnAnswer = {
      status,
      reason: `${status === 504 ? 'the upstream did not answer in time' : 'the upstream failed'}; tried ${failures.join(', ')}`,
      // The rest of a body the upstream stopped reading cannot be trusted to frame a next request.
      close: kind === 'awaiting-body',
    };
    return { step: 'answer', answer, why: decision.reason };
  }
}
