/**
 * The request path (Caddy's reverse proxy handler): check the request, pick an upstream, send it
 * there through the proxy engine, relay the response, and when an attempt fails decide (with the
 * pure retry policy) whether to try another upstream or answer 502/504 itself. Passive health
 * feeds the pool from here: a refused or reset connection takes the upstream out at once.
 *
 * Accounting happens in one place, when the client's response closes: in-flight counts, the access
 * log line and the `requestFinished` event. A client that hangs up is never held against the
 * upstream it was talking to, and neither is a slow one: a request body is buffered before any
 * upstream is chosen (request-body.ts), and a body still arriving when the balancer's request
 * timeout ends gets the client a 408 from the balancer (docs/hardening.md).
 */
import { performance } from 'node:perf_hooks';
import { UpstreamError, errorMessage } from '../errors.js';
import { NO_FIELDS, type Logger } from '../logger.js';
import { accessMessage, clientFields, clientTail, hostAndAgent } from './access-log.js';
import { AttemptFailures } from './attempt-failure.js';
import { deniedBy } from './deny-paths.js';
import type { BalancerEvents } from './events.js';
import { DeadlineWatch, type Expiry } from './deadline-watch.js';
import { Http1Exchange, type ClientMessage, type Exchange, type UpstreamRequest } from './exchange.js';
import { hasRequestBody, requestFramingProblem, forwardResponseHeaders } from './headers.js';
import { LogGate } from './log-gate.js';
import { sendOwnAnswer, type OwnAnswer } from './own-answers.js';
import { waitsForTurn, whenItsTurn } from './pipelined-requests.js';
import type { Pool } from './pool.js';
import type { EngineHandlers, ProxyEngine } from './engines/proxy-engine.js';
import { ReplayableBody } from './request-body.js';
import { RequestIdMaker, clientRequestId, requestIdSource } from './request-id.js';
import { classifyError, type FailureKind } from './retry-policy.js';
import type { Upstream } from './upstream.js';
import type { ProxySettings } from './proxy-settings.js';

/** What this process's request path has done, for the status page (summed over a cluster's workers). */
export interface RequestCounts {
  /** Requests being handled now (waiting, proxied, or being answered). */
  inFlight: number;
  /** Requests finished, whoever answered. */
  served: number;
  /** Requests the balancer answered 502, 503 or 504 itself. */
  failures: number;
}

/** Retry-After of the 503 sent when the balancer itself is out of descriptors or ports. */
const LOCAL_RETRY_AFTER_S = 1;
/** A refused client that keeps sending is cut after this (as client-error.ts lingers). */
const LINGER_MS = 1000;

/** What a final status must be to be relayed: 1xx are interim, and node:http writes 100-999 only. */
function relayableStatus(status: number): boolean {
  return status >= 200 && status <= 599;
}

export class ProxyHandler implements EngineHandlers {
  /** Set at shutdown: responses carry `Connection: close` so clients move on. */
  draining = false;
  /** Set while the front door closes (front-door.ts): the same `Connection: close`, nothing else. */
  leaving = false;
  private engine: ProxyEngine | undefined;
  private readonly accessLog: boolean;
  /** Attempts in progress, for the proxy timeout. */
  private readonly deadlines: DeadlineWatch<Exchange>;
  /** What follows a failed attempt (shared with the upgrade handler's rules). */
  private readonly afterFailure: AttemptFailures;
  /** Requests waiting for an upstream to become available, oldest first. */
  private readonly queue = new Set<Exchange>();
  readonly counts: RequestCounts = { inFlight: 0, served: 0, failures: 0 };
  /** Running out of descriptors is logged once a second at most. */
  private readonly localGate = new LogGate(1000);
  /** Requests answered 503 because the balancer was out of local resources (for /metrics). */
  localFailures = 0;
  /** IDs for requests that came without a sane X-Request-ID. */
  private readonly requestIds = new RequestIdMaker();
  /** This front's Via entry on relayed responses (--via); undefined: none, and no cost. */
  private readonly via: string | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly settings: ProxySettings,
    private readonly logger: Logger,
    private readonly events: BalancerEvents,
  ) {
    // Checked once: at LOG_LEVEL=warn the request path never builds an access line.
    this.accessLog = logger.enabled('info');
    this.deadlines = new DeadlineWatch(
      { silenceMs: settings.proxyTimeoutMs, headMs: settings.upstreamHeaderTimeoutMs },
      (res, why) => this.timedOut(res, why),
    );
    this.afterFailure = new AttemptFailures(pool, settings.retry, logger);
    this.via = settings.via?.relayed;
  }

  use(engine: ProxyEngine): void {
    this.engine = engine;
    this.deadlines.start();
  }

  /** Stop the timeout timer (at shutdown); waiting requests get their 503 now. */
  close(): void {
    this.deadlines.stop();
    for (const res of this.queue) this.noneAvailable(res);
  }

  /** Requests waiting for an upstream. */
  get queued(): number {
    return this.queue.size;
  }

  /** An upstream may have become available: send the waiting requests, oldest first, while one is. */
  readonly wake = (): void => {
    for (const res of this.queue) {
      const upstream = this.pool.select();
      if (upstream === undefined) return;
      this.dequeue(res);
      this.attempt(res.req, res, upstream);
    }
  };

  /** The public listener's request handler. */
  readonly handle = (req: ClientMessage, res: Exchange): void => {
    res.started = performance.now();
    res.owner = this;
    this.counts.inFlight++;
    res.on('close', onExchangeClose);
    if (res instanceof Http1Exchange && waitsForTurn(res)) {
      // Pipelined behind a request not yet answered: it goes once that one has (pipelined-requests.ts).
      whenItsTurn(
        res,
        () => this.begin(req, res),
        () => onExchangeClose.call(res),
      );
      return;
    }
    this.begin(req, res);
  };

  /** The request's turn on its connection: check it, then route it. */
  private begin(req: ClientMessage, res: Exchange): void {
    if (this.draining || this.leaving) res.shouldKeepAlive = false;
    const fromClient = clientRequestId(req.rawHeaders);
    res.requestId = this.requestIds.idFor(fromClient);
    res.requestIdSource = requestIdSource(fromClient);

    const refusal = this.checkRequest(req);
    if (refusal !== undefined) {
      this.answer(res, { status: 400, reason: refusal, close: true });
      return;
    }
    const denied = deniedBy(req.url ?? '', this.settings.denyPaths);
    if (denied !== undefined) {
      // No warn line: a scanner would write one per probe. The access line says 404 -> balancer.
      this.answer(res, { status: 404, reason: `${denied} is not served here` }, undefined, null);
      return;
    }
    res.hasBody = hasRequestBody(req.rawHeaders);
    if (res.hasBody) {
      // Nothing goes upstream before the body is in hand (or the buffer is full).
      const body = (res.body = new ReplayableBody(
        req,
        Math.max(this.settings.requestBufferBytes, this.settings.retry.maxBodyBytes),
      ));
      body.whenBuffered(() => {
        if (!res.destroyed && !res.headersSent) this.route(req, res);
      });
      return;
    }
    this.route(req, res);
  }

  /**
   * The client's request did not arrive whole within the request timeout (node:http's
   * ERR_HTTP_REQUEST_TIMEOUT on a request already handed to us): the client's 408, answered here.
   * An attempt in progress (a body bigger than the buffer) is stopped without blaming its upstream.
   */
  requestTimedOut(res: Exchange, timeoutMs: number): void {
    this.clientFault(res, 408, `the request was not received within ${timeoutMs}ms`);
  }

  /**
   * The client's request cannot be had whole: its body did not arrive in time (408), or cannot be
   * read (a malformed chunk, 400; chunk extensions over the limit, 413). The client gets the
   * answer and its connection closes; an attempt in progress (a body bigger than the buffer) is
   * stopped without blaming its upstream.
   */
  clientFault(res: Exchange, status: 400 | 408 | 413, reason: string): void {
    const upstream = res.current;
    if (upstream !== null) {
      this.endAttempt(res, upstream);
      res.upstreamRequest?.destroy();
    }
    const socket = res.req.socket;
    this.answer(res, { status, reason, close: true });
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  }

  private route(req: ClientMessage, res: Exchange): void {
    const upstream = this.pool.select();
    if (upstream === undefined) {
      this.waitOrRefuse(res);
      return;
    }
    this.attempt(req, res, upstream);
  }

  /** None available: wait for one (HAProxy's queue) while there is room and time, else 503. */
  private waitOrRefuse(res: Exchange): void {
    const { queueTimeoutMs, maxQueued } = this.settings;
    if (queueTimeoutMs === 0 || this.draining || this.queue.size >= maxQueued) {
      this.noneAvailable(res);
      return;
    }
    res.queueTimer = setTimeout(() => {
      this.dequeue(res);
      this.noneAvailable(res, `after waiting ${queueTimeoutMs}ms`);
    }, queueTimeoutMs);
    this.queue.add(res);
  }

  private dequeue(res: Exchange): void {
    if (res.queueTimer === null) return;
    clearTimeout(res.queueTimer);
    res.queueTimer = null;
    this.queue.delete(res);
  }

  private noneAvailable(res: Exchange, after?: string): void {
    this.dequeue(res);
    this.answer(res, {
      status: 503,
      reason: `no upstream is available (${this.pool.size} in the pool, all down${after === undefined ? '' : `, ${after}`})`,
      retryAfterS: this.settings.retryAfterS,
    });
  }

  // ---- engine callbacks ----

  onRequestSent(request: UpstreamRequest, res: Exchange, upstream: Upstream): void {
    if (res.current !== upstream) {
      // An attempt given up (timed out, or its client gone) before it had a connection: stop it.
      request.destroy();
      return;
    }
    res.upstreamRequest = request;
  }

  onResponse(res: Exchange, upstream: Upstream, statusCode: number, rawHeaders: readonly string[]): boolean {
    if (res.current !== upstream || res.responded) return false;
    if (!relayableStatus(statusCode)) {
      // 000, 099, 600+: not a status a client can be given. A bad response, like garbage would be.
      const err = new UpstreamError(
        'ERR_UPSTREAM_BAD_RESPONSE',
        upstream.id,
        `${upstream.name} answered with status ${String(statusCode).padStart(3, '0')}`,
      );
      if (res.upstreamRequest !== null) res.upstreamRequest.destroy(err);
      // The engine may not report the error of a request it considers finished: fail it here.
      this.onError(err, res, upstream);
      return false;
    }
    res.responded = true;
    res.servedBy = upstream;
    upstream.served++;
    if (res.destroyed) return false;
    if (this.draining || this.leaving) res.shouldKeepAlive = false;
    res.writeHead(statusCode, forwardResponseHeaders(rawHeaders, res.requestId, this.via));
    return true;
  }

  onError(err: Error, res: Exchange, upstream: Upstream): void {
    if (res.current !== upstream) return; // an attempt already given up, or a finished request
    const clientGone = res.destroyed || res.req.socket.destroyed;
    const kind = classifyError((err as NodeJS.ErrnoException).code, {
      responded: res.responded,
      clientGone,
      bodyPending: res.hasBody && !res.req.complete,
    });
    this.failed(res, upstream, kind, errorMessage(err));
  }

  // ---- the attempt loop ----

  private attempt(req: ClientMessage, res: Exchange, upstream: Upstream): void {
    res.current = upstream;
    res.upstreamRequest = null;
    res.responded = false;
    res.attempts++;
    upstream.enter();
    upstream.attempts++;
    this.deadlines.watch(res);
    const body = res.body?.open();
    if (this.engine === undefined) throw new Error('ProxyHandler.use(engine) was not called');
    this.engine.forward(upstream, req, res, body);
  }

  /** The attempt on `upstream` is over (answered, failed or abandoned). */
  private endAttempt(res: Exchange, upstream: Upstream): void {
    res.current = null;
    upstream.leave();
    this.deadlines.unwatch(res);
  }

  /**
   * The upstream of `res`'s attempt has been silent for the proxy timeout, or has not finished its
   * response head within the head timeout (a 504 either way, counted against it).
   */
  private timedOut(res: Exchange, why: Expiry): void {
    const upstream = res.current;
    if (upstream === null) return;
    const { proxyTimeoutMs, upstreamHeaderTimeoutMs } = this.settings;
    const err =
      why === 'silence'
        ? new UpstreamError(
            'ERR_UPSTREAM_TIMEOUT',
            upstream.id,
            `nothing from ${upstream.name} for ${proxyTimeoutMs}ms`,
          )
        : new UpstreamError(
            'ERR_UPSTREAM_HEADER_TIMEOUT',
            upstream.id,
            `no complete response head from ${upstream.name} within ${upstreamHeaderTimeoutMs}ms`,
          );
    // Once on a connection, stopping the upstream request reports this error through the usual path...
    const attempt = res.attempts;
    if (res.upstreamRequest !== null) res.upstreamRequest.destroy(err);
    // ...unless the engine had already let go of it (a connection taken over by an unasked 101):
    // the attempt still being current after that means nobody reported it, so fail it here.
    if (res.current === upstream && res.attempts === attempt)
      this.failed(res, upstream, 'response-timeout', err.message);
  }

  private failed(res: Exchange, upstream: Upstream, kind: FailureKind, detail: string): void {
    this.endAttempt(res, upstream);
    if (kind === 'local-resource') {
      this.localFailures++;
      this.answer(
        res,
        {
          status: 503,
          reason: `the balancer is out of local resources (${detail}); no upstream was at fault`,
          retryAfterS: LOCAL_RETRY_AFTER_S,
        },
        undefined,
        this.localGate.pass(performance.now()) ?? null,
      );
      return;
    }
    if (kind === 'unsendable') {
      // The engine would not send it as given: the request's doing, so no upstream is blamed.
      this.answer(res, {
        status: 400,
        reason: `the request cannot be forwarded as sent (${detail})`,
        close: true,
      });
      return;
    }
    const req = res.req;
    const request = `${req.method} ${req.url}`;
    const next = this.afterFailure.next(res, {
      upstream,
      kind,
      detail,
      request,
      doing: `proxying ${request}`,
      method: req.method ?? 'GET',
      hasBody: res.hasBody,
      body: res.body,
      responseStarted: res.headersSent,
    });
    if (next.step === 'retry') this.attempt(req, res, next.upstream);
    else if (next.step === 'answer') this.answer(res, next.answer, next.why);
    else if (next.step === 'cut') res.destroy();
    else res.upstreamRequest?.destroy(); // dropped: the client went away
  }

  /**
   * `skipped`: null sends without a line (a log gate said quiet), a number notes the skipped. Null,
   * not undefined: an undefined argument would take the default and log after all.
   */
  private answer(res: Exchange, answer: OwnAnswer, why?: string, skipped: number | null = 0): void {
    const req = res.req;
    if (skipped !== null) {
      const tail = why === undefined ? '' : ` (not retried: ${why})`;
      const more = skipped > 0 ? ` (and ${skipped} more like it in the last second)` : '';
      this.logger.warn(`${answer.status} for ${req.method} ${req.url}: ${answer.reason}${tail}${more}`, {
        event: 'own-answer',
        status: answer.status,
        tried: res.tried?.map((u) => u.name) ?? [],
        reason: answer.reason,
      });
    }
    sendOwnAnswer(res, answer, this.settings.name, this.settings.via);
  }

  /** Why a request is refused before it reaches any upstream, or undefined. */
  private checkRequest(req: ClientMessage): string | undefined {
    const url = req.url ?? '';
    if (url.charCodeAt(0) !== 47 /* '/' */) {
      // Asterisk-form asks about the server as a whole, which no single upstream can answer for
      // (nginx refuses it with 400 too).
      if (url === '*') return 'asterisk-form (OPTIONS *) is not forwarded; ask about a path';
      // Absolute form (`GET http://host/path`): pass on the path only. Host never picks a target.
      try {
        const parsed = new URL(url);
        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `unsupported target ${url}`;
        req.url = `${parsed.pathname}${parsed.search}`;
      } catch {
        return 'malformed request target';
      }
    }
    return requestFramingProblem(req.rawHeaders, req.httpVersionMinor === 1 || req.httpVersionMajor > 1);
  }

  // ---- when the client's response closes ----

  closed(res: Exchange): void {
    this.dequeue(res);
    this.counts.inFlight--;
    this.counts.served++;
    const upstream = res.current;
    if (upstream !== null) {
      // The attempt ends first: an engine may report the abort below at once, and by then it must
      // find no attempt to fail.
      this.endAttempt(res, upstream);
      if (!res.writableFinished) {
        // The client went away mid-attempt: stop the upstream request; it is not the upstream's fault.
        res.upstreamRequest?.destroy();
      }
    }
    const status = res.writableFinished ? res.statusCode : 499;
    if (res.servedBy === null && status >= 502 && status <= 504) this.counts.failures++;
    const wantEvent = this.events.wantsRequests;
    if (!this.accessLog && !wantEvent) return;
    const ms = performance.now() - res.started;
    const req = res.req;
    const method = req.method ?? '?';
    const url = req.url ?? '';
    const retries = res.attempts > 1 ? res.attempts - 1 : 0;
    const servedBy = res.servedBy?.name ?? null;
    if (this.accessLog) {
      const side = {
        client: req.socket.remoteAddress ?? '',
        bytes: res.bytesSent,
        ...hostAndAgent(req.rawHeaders),
        requestId: res.requestId,
        requestIdSource: res.requestIdSource,
      };
      const message = accessMessage(method, url, servedBy ?? this.settings.name, status, ms, retries);
      this.logger.access(
        message + clientTail(side),
        this.logger.accessFields
          ? {
              event: 'access',
              method,
              url,
              upstream: servedBy,
              status,
              ms: Math.round(ms * 1000) / 1000,
              retries,
              ...clientFields(side),
            }
          : NO_FIELDS,
      );
    }
    if (wantEvent) this.events.requestFinished({ method, url, upstream: servedBy, status, ms, retries });
  }
}

/** Accounted once: a pipelined request whose client left before its turn is closed from here too. */
function onExchangeClose(this: Exchange): void {
  const owner = this.owner;
  if (owner === null) return;
  this.owner = null;
  owner.closed(this);
}
