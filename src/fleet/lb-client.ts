/**
 * `npm run lb`'s side of the balancer's admin API: GET the status document, POST a control route,
 * each on a fresh connection with a deadline. A request carries what the balancer's guard asks
 * for (its own Host, Content-Type: application/json, the bearer token when there is one) and a
 * User-Agent naming the operator, so the balancer's log line says who asked. What comes back is
 * checked by the balancer's own status reader; whatever else happens becomes an AdminApiError
 * whose message says what to do (readAnswer, pure, so tested without sockets).
 */
import type http from 'node:http';
import { FRONT_PATH } from '../balancer/control-plane.js';
import { readDoorReport, type DoorReport } from '../balancer/front-door.js';
import { readBalancerStatus, readUpstreamStatus } from '../balancer/status-reader.js';
import { STATUS_PATH, type BalancerStatus, type UpstreamStatus } from '../balancer/status.js';
import { AdminApiError, errorMessage } from '../errors.js';
import { httpUrl, hostPort } from '../net/address.js';
import { getWithDeadline, type GetOutcome } from '../net/http-get.js';
import { postWithDeadline } from '../net/http-post.js';

export interface AdminTarget {
  host: string;
  port: number;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token: string | null;
  userAgent: string;
  timeoutMs: number;
}

function headersFor(target: AdminTarget): http.OutgoingHttpHeaders {
  return {
    // The guard compares Host with the listener's own address; IPv6 in brackets, as it expects.
    Host: hostPort(target.host, target.port),
    'User-Agent': target.userAgent,
    Accept: 'application/json',
    ...(target.token === null ? {} : { Authorization: `Bearer ${target.token}` }),
  };
}

/** The `error` a refusal carries (the balancer answers `{error}`), else the body's first line. */
function refusalReason(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      const reason = parsed.error;
      if (typeof reason === 'string') return reason;
    }
  } catch {
    // Not JSON: something other than the balancer answered; its words are all there is.
  }
  return text.split('\n')[0]?.trim() || '(no reason given)';
}

/** The parsed JSON of a 200, or the AdminApiError that says what went wrong and what to do. */
export function readAnswer(outcome: GetOutcome, target: Pick<AdminTarget, 'host' | 'port'>): unknown {
  const where = httpUrl(target.host, target.port);
  if (outcome.kind === 'timeout') {
    throw new AdminApiError(
      'ERR_ADMIN_NO_ANSWER',
      `the balancer at ${where} did not answer within ${outcome.timeoutMs} ms (--timeout gives it longer)`,
    );
  }
  if (outcome.kind === 'failed') {
    if ((outcome.error as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
      throw new AdminApiError(
        'ERR_ADMIN_NOT_RUNNING',
        `no balancer answers on ${where} (connection refused): the fleet is not running there. ` +
          'Start it with `npm start` (with the same PORT_OFFSET), or give --admin-port if its admin port is another.',
        { cause: outcome.error },
      );
    }
    throw new AdminApiError(
      'ERR_ADMIN_NO_ANSWER',
      `the balancer at ${where}: ${errorMessage(outcome.error)}`,
      {
        cause: outcome.error,
      },
    );
  }
  if (outcome.status !== 200) {
    throw new AdminApiError(
      'ERR_ADMIN_REFUSED',
      `the balancer at ${where} refused (${outcome.status}): ${refusalReason(outcome.body)}`,
    );
  }
  try {
    return JSON.parse(outcome.body.toString('utf8'));
  } catch (err) {
    throw new AdminApiError('ERR_ADMIN_ANSWER', `${where} answered something that is not JSON`, {
      cause: err,
    });
  }
}

/** A document that fails the reader was not sent by this balancer: say so, with the field. */
function checked<T>(read: () => T, target: AdminTarget): T {
  try {
    return read();
  } catch (err) {
    throw new AdminApiError(
      'ERR_ADMIN_ANSWER',
      `${httpUrl(target.host, target.port)} is not this project's balancer: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

/** GET /__lb/status, checked. */
export async function fetchStatus(target: AdminTarget): Promise<BalancerStatus> {
  const outcome = await getWithDeadline(
    { host: target.host, port: target.port, path: STATUS_PATH, headers: headersFor(target) },
    target.timeoutMs,
  );
  const body = readAnswer(outcome, target);
  return checked(() => readBalancerStatus(body), target);
}

/** POST a control route (`/__lb/upstreams/<name>/drain`...); the upstream's status after it. */
export async function sendControl(target: AdminTarget, path: string): Promise<UpstreamStatus> {
  const outcome = await postWithDeadline(
    {
      host: target.host,
      port: target.port,
      path,
      headers: { ...headersFor(target), 'Content-Type': 'application/json' },
      // The path says everything; the guard wants JSON, and an empty object is JSON.
      body: '{}',
    },
    target.timeoutMs,
  );
  const body = readAnswer(outcome, target);
  return checked(() => readUpstreamStatus(body), target);
}

/** POST /__lb/front/maint or /__lb/front/ready: the front door's report (front-door.ts). */
export async function sendDoor(target: AdminTarget, action: 'maint' | 'ready'): Promise<DoorReport> {
  const outcome = await postWithDeadline(
    {
      host: target.host,
      port: target.port,
      path: `${FRONT_PATH}${action}`,
      headers: { ...headersFor(target), 'Content-Type': 'application/json' },
      body: '{}',
    },
    target.timeoutMs,
  );
  const body = readAnswer(outcome, target);
  return checked(() => readDoorReport(body), target);
}
