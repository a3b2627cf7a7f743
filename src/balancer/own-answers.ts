/**
 * The answers the balancer gives itself, never an upstream's: 400 for a request it will not pass
 * on, 408 for a body that did not arrive within the request timeout, 502 when every attempt failed,
 * 503 (with Retry-After) when no upstream is available or the balancer is out of descriptors, 504
 * when the upstream was too slow. A short plain-text body says why, so a person with curl sees it.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';

export interface OwnAnswer {
  status: 400 | 408 | 502 | 503 | 504;
  /** One sentence for the body and the log line. */
  reason: string;
  /** Seconds, for 503. */
  retryAfterS?: number;
  /** Close the connection after it (the request's framing cannot be trusted). */
  close?: boolean;
}

/** Pure: the body text of an own answer. */
export function ownAnswerBody(answer: OwnAnswer): string {
  return `${answer.status} ${STATUS_CODES[answer.status] ?? 'Error'}: ${answer.reason}\n`;
}

export function sendOwnAnswer(res: ServerResponse, answer: OwnAnswer, servedBy: string): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = ownAnswerBody(answer);
  const headers: Record<string, string | number> = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Served-By': servedBy,
  };
  if (answer.retryAfterS !== undefined) headers['Retry-After'] = answer.retryAfterS;
  if (answer.close === true) {
    headers.Connection = 'close';
    res.shouldKeepAlive = false;
  }
  res.writeHead(answer.status, headers);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
