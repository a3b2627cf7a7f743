/**
 * Upgrade requests (`Connection: upgrade` + `Upgrade: websocket`): node:http hands them over as a
 * raw socket, outside the ordinary request path. The same rules apply as to any request: the same
 * selection and passive health, X-Forwarded-*, own answers with a reason. The upstream's answer
 * decides what follows: `101` turns the connection into a tunnel (tunnel.ts), anything else is
 * relayed as an ordinary response and the connection closes.
 *
 * Before the answer, an upgrade is held to the request path's rules: the same connect timeout as
 * the engines' connections (connectWithin), the same proxy and head timeouts (a DeadlineWatch), and the same
 * step after a failed attempt (attempt-failure.ts). A refused or reset connection, or a connect
 * timeout, is retried on another upstream (an upgrade is a GET without a body, so nothing was
 * acted on); after the answer nothing is retried.
 */
import http, { STATUS_CODES, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { UpstreamError, errorMessage } from '../errors.js';
import type { Lifecycle } from '../http/graceful-shutdown.js';
import { NO_FIELDS, type Logger } from '../logger.js';
import { accessMessage } from './access-log.js';
import { deniedBy } from './deny-paths.js';
import { RequestIdMaker, clientRequestId } from './request-id.js';
import { AttemptFailures, type AttemptHistory } from './attempt-failure.js';
import { DeadlineWatch, type Expiry, type Watched } from './deadline-watch.js';
import { connectWithin } from './engines/upstream-agent.js';
import type { BalancerEvents } from './events.js';
import { clientProto } from './headers.js';
import type { OwnAnswer } from './own-answers.js';
import type { ClientMessage } from './client-message.js';
import { rawPlainAnswer, type PlainHeaders } from '../http/plain-answer.js';
import type { Pool } from './pool.js';
import type { ProxySettings } from './proxy-settings.js';
import { classifyError, type FailureKind } from './retry-policy.js';
import { Tunnel, type TunnelClosed, type TunnelSet } from './tunnel.js';
import {
  relayedResponseHead,
  switchingProtocolsHead,
  upgradeRefusal,
  upgradeRequestHeaders,
} from './upgrade-rules.js';
import type { Upstream } from './upstream.js';

export interface UpgradeSettings extends ProxySettings {
  connectTimeoutMs: number;
  tunnelIdleTimeoutMs: number;
  maxTunnels: number;
}

/** One upgrade request on its way to a 101 (or another answer). */
class PendingUpgrade implements AttemptHistory, Watched {
  readonly started = performance.now();
  attempts = 0;
  tried: Upstream[] | null = null;
  failures: string[] | null = null;
  headers: string[] = [];
  /** X-Request-ID as forwarded (request-id.ts), for the access line. */
  requestId = '';
  /** Set once an upstream answered, or the client got an answer of ours. */
  settled = false;
  /** The attempt in progress, for the proxy timeout to stop. */
  upstream: Upstream | null = null;
  request: ClientRequest | null = null;
  lastActivity = 0;
  headSince = 0;
  /** Never while watched: the watch ends when the upstream's answer arrives. */
  readonly responded = false;
  /** Never: an upgrade request has no body, and its head is in. */
  readonly clientBusy = false;
  watchPrev: Watched | null = null;
  watchNext: Watched | null = null;

  constructor(
    readonly req: ClientMessage,
    readonly socket: Duplex,
    readonly head: Buffer,
  ) {}
}

/** Reading and dropping a refused client's bytes for a moment lets the answer reach it (client-error.ts). */
const LINGER_MS = 1000;

export class UpgradeHandler {
  /** Upgrades waiting for their upstream's answer: the proxy timeout, as the request path keeps it. */
  private readonly deadlines: DeadlineWatch<PendingUpgrade>;
  /** IDs for upgrade requests that came without a sane X-Request-ID. */
  private readonly requestIds = new RequestIdMaker();
  private readonly afterFailure: AttemptFailures;

  constructor(
    private readonly pool: Pool,
    private readonly settings: UpgradeSettings,
    private readonly lifecycle: Lifecycle,
    readonly tunnels: TunnelSet,
    private readonly logger: Logger,
    private readonly events: BalancerEvents,
  ) {
    this.deadlines = new DeadlineWatch(
      { silenceMs: settings.proxyTimeoutMs, headMs: settings.upstreamHeaderTimeoutMs },
      (pending, why) => this.timedOut(pending, why),
    );
    this.afterFailure = new AttemptFailures(pool, settings.retry, logger);
  }

  /** The public listener's 'upgrade' listener. */
  readonly handle = (req: ClientMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', ignore);
    const pending = new PendingUpgrade(req, socket, head);
    const refusal = upgradeRefusal({
      method: req.method ?? '',
      url: req.url ?? '',
      rawHeaders: req.rawHeaders,
    });
    if (refusal !== undefined) {
      this.answer(pending, { status: 400, reason: refusal, close: true });
      return;
    }
    const denied = deniedBy(req.url ?? '', this.settings.denyPaths);
    if (denied !== undefined) {
      this.answer(pending, { status: 404, reason: `${denied} is not served here`, close: true });
      return;
    }
    if (this.lifecycle.draining) {
      this.answer(pending, {
        status: 503,
        reason: 'the balancer is shutting down; connect again',
        retryAfterS: 1,
      });
      return;
    }
    if (this.tunnels.size >= this.settings.maxTunnels) {
      this.answer(pending, {
        status: 503,
        reason: `${this.settings.maxTunnels} tunnels are open, the most allowed (--max-tunnels)`,
        retryAfterS: this.settings.retryAfterS,
      });
      return;
    }
    const upstream = this.pool.select();
    if (upstream === undefined) {
      this.answer(pending, {
        status: 503,
        reason: `no upstream is available (${this.pool.size} in the pool, all down)`,
        retryAfterS: this.settings.retryAfterS,
      });
      return;
    }
    pending.requestId = this.requestIds.idFor(clientRequestId(req.rawHeaders));
    pending.headers = upgradeRequestHeaders(
      req.rawHeaders,
      req.socket.remoteAddress,
      clientProto(req.socket),
      pending.requestId,
    );
    this.attempt(pending, upstream);
  };

  private attempt(pending: PendingUpgrade, upstream: Upstream): void {
    pending.attempts++;
    upstream.enter();
    upstream.attempts++;
    let attemptOver = false;
    const endAttempt = (): void => {
      if (attemptOver) return;
      attemptOver = true;
      upstream.leave();
      this.unwatch(pending);
    };
    const { host, port, id } = upstream;
    const request = http.request({
      host,
      port,
      method: 'GET',
      path: pending.req.url,
      headers: pending.headers,
      setHost: false,
      // No `agent` (not even `false`, which makes node ignore createConnection): a connection of
      // its own, made with the engines' connect timeout.
      createConnection: () => connectWithin({ host, port }, id, this.settings.connectTimeoutMs),
    });
    pending.upstream = upstream;
    pending.request = request;
    this.watch(pending);
    const clientGone = (): void => {
      if (pending.settled) return;
      endAttempt();
      request.destroy();
    };
    pending.socket.once('close', clientGone);

    request.on('upgrade', (res: IncomingMessage, server: Socket, upstreamHead: Buffer) => {
      pending.socket.off('close', clientGone);
      this.unwatch(pending);
      pending.settled = true;
      upstream.served++;
      if (pending.socket.destroyed) {
        server.destroy();
        endAttempt();
        return;
      }
      pending.socket.write(switchingProtocolsHead(res.rawHeaders, this.settings.via?.relayed));
      if (upstreamHead.length > 0) pending.socket.write(upstreamHead);
      if (pending.head.length > 0) server.write(pending.head);
      const tunnel = new Tunnel(
        upstream,
        pending.socket,
        server,
        this.settings.tunnelIdleTimeoutMs,
        (closed) => this.tunnelClosed(pending, closed, endAttempt),
      );
      tunnel.countEarly(pending.head.length, upstreamHead.length);
      this.tunnels.add(tunnel);
      this.logger.debug(`tunnel to ${upstream.name} open for ${pending.req.url ?? ''}`, {
        event: 'tunnel-open',
        upstream: upstream.name,
      });
    });

    request.on('response', (res: IncomingMessage) => {
      pending.socket.off('close', clientGone);
      this.unwatch(pending);
      pending.settled = true;
      upstream.served++;
      const status = res.statusCode ?? 502;
      const { socket } = pending;
      socket.write(
        relayedResponseHead(
          status,
          res.statusMessage ?? STATUS_CODES[status] ?? '',
          res.rawHeaders,
          this.settings.via?.relayed,
        ),
      );
      res.on('data', (chunk: Buffer) => {
        if (!socket.write(chunk)) {
          res.pause();
          socket.once('drain', () => res.resume());
        }
      });
      const done = (): void => {
        endAttempt();
        socket.end();
        this.finished(pending, upstream.name, res.complete ? status : 502);
      };
      res.once('end', done);
      res.once('error', ignore);
      res.once('close', () => {
        if (!res.complete) socket.destroy();
        if (!attemptOver) done();
      });
      socket.once('close', () => request.destroy());
    });

    request.on('error', (err: NodeJS.ErrnoException) => {
      pending.socket.off('close', clientGone);
      endAttempt();
      if (pending.settled) return;
      const kind = classifyError(err.code, { responded: false, clientGone: pending.socket.destroyed });
      this.failed(pending, upstream, kind, errorMessage(err));
    });
    request.end();
  }

  /** The proxy timeout runs only while an upgrade waits for its answer (they are few). */
  private watch(pending: PendingUpgrade): void {
    this.deadlines.watch(pending);
    this.deadlines.start();
  }

  private unwatch(pending: PendingUpgrade): void {
    this.deadlines.unwatch(pending);
    if (this.deadlines.size === 0) this.deadlines.stop();
  }

  /** The upstream of `pending`'s attempt has not answered in time (head or proxy timeout). */
  private timedOut(pending: PendingUpgrade, why: Expiry): void {
    const { upstream, request } = pending;
    if (upstream === null || request === null) return;
    // Reported through the request's 'error', as any other failure of the attempt.
    request.destroy(
      why === 'silence'
        ? new UpstreamError(
            'ERR_UPSTREAM_TIMEOUT',
            upstream.id,
            `no answer from ${upstream.name} in ${this.settings.proxyTimeoutMs}ms`,
          )
        : new UpstreamError(
            'ERR_UPSTREAM_HEADER_TIMEOUT',
            upstream.id,
            `no complete answer head from ${upstream.name} in ${this.settings.upstreamHeaderTimeoutMs}ms`,
          ),
    );
  }

  /** The attempt on `upstream` failed before its answer: retry, answer, or (client gone) nothing. */
  private failed(pending: PendingUpgrade, upstream: Upstream, kind: FailureKind, detail: string): void {
    const url = pending.req.url ?? '';
    const next = this.afterFailure.next(pending, {
      upstream,
      kind,
      detail,
      request: `upgrade ${url}`,
      doing: `opening a tunnel for ${url}`,
      method: 'GET',
      hasBody: false,
      body: null,
      responseStarted: false,
    });
    if (next.step === 'retry') this.attempt(pending, next.upstream);
    else if (next.step === 'answer') this.answer(pending, next.answer, next.why);
  }

  private tunnelClosed(pending: PendingUpgrade, closed: TunnelClosed, endAttempt: () => void): void {
    this.tunnels.delete(closed.tunnel);
    endAttempt();
    const { tunnel } = closed;
    this.logger.info(
      `tunnel ${pending.req.url ?? ''} -> ${tunnel.upstream.name} closed (${closed.why}) after ` +
        `${Math.round(closed.ms)}ms: ${tunnel.bytesUp} B up, ${tunnel.bytesDown} B down`,
      {
        event: 'tunnel-closed',
        upstream: tunnel.upstream.name,
        why: closed.why,
        ms: Math.round(closed.ms),
        bytesUp: tunnel.bytesUp,
        bytesDown: tunnel.bytesDown,
      },
    );
    this.finished(pending, tunnel.upstream.name, 101);
  }

  /** An own answer on the raw socket; the connection closes after it. */
  private answer(pending: PendingUpgrade, answer: OwnAnswer, why?: string): void {
    pending.settled = true;
    const { req, socket } = pending;
    const tail = why === undefined ? '' : ` (not retried: ${why})`;
    this.logger.warn(
      `${answer.status} for upgrade ${req.method ?? '?'} ${req.url ?? ''}: ${answer.reason}${tail}`,
      {
        event: 'own-answer',
        status: answer.status,
        upgrade: true,
        tried: pending.tried?.map((u) => u.name) ?? [],
        reason: answer.reason,
      },
    );
    if (socket.writable) {
      const extra: PlainHeaders = {};
      if (answer.retryAfterS !== undefined) extra['Retry-After'] = answer.retryAfterS;
      const { via } = this.settings;
      if (via !== null) extra.Via = via.forRequest(req.httpVersionMajor, req.httpVersionMinor);
      socket.end(rawPlainAnswer(answer.status, answer.reason, this.settings.name, extra));
      // Anything the client still sends (a body it should not have sent) is read and dropped.
      socket.resume();
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
    } else {
      socket.destroy();
    }
    this.finished(pending, null, answer.status);
  }

  /** The access line and the dashboard's event, as for any request: once per upgrade request. */
  private finished(pending: PendingUpgrade, upstream: string | null, status: number): void {
    const ms = performance.now() - pending.started;
    const method = pending.req.method ?? '?';
    const url = pending.req.url ?? '';
    const retries = pending.attempts > 1 ? pending.attempts - 1 : 0;
    if (this.logger.enabled('info')) {
      this.logger.access(
        accessMessage(method, url, upstream ?? this.settings.name, status, ms, retries),
        this.logger.accessFields
          ? {
              event: 'access',
              method,
              url,
              upstream,
              status,
              ms: Math.round(ms * 1000) / 1000,
              retries,
              upgrade: true,
              ...(pending.requestId === '' ? {} : { requestId: pending.requestId }),
            }
          : NO_FIELDS,
      );
    }
    if (this.events.wantsRequests)
      this.events.requestFinished({ method, url, upstream, status, ms, retries });
  }
}

function ignore(): void {}
