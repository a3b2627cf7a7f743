/**
 * The answers the balancer gives itself, never an upstream's: 400 for a request it will not pass
 * on, 404 for a path it keeps off the public listener (--deny-path), 408 for a body that did not arrive within the request timeout, 502 when every attempt failed,
 * 503 (with Retry-After) when no upstream is available or the balancer is out of descriptors, 504
 * when the upstream was too slow. A short plain-text body says why, so a person with curl sees it.
 */
import { plainAnswerBody, plainAnswerHeaders } from '../http/plain-answer.js';
import type { Exchange } from './exchange.js';
import type { ViaEntry } from './via.js';

export interface OwnAnswer {
  status: 400 | 404 | 408 | 413 | 502 | 503 | 504;
  /** One sentence for the body and the log line. */
  reason: string;
  /** Seconds, for 503. */
  retryAfterS?: number;
  /** Close the connection after it (the request's framing cannot be trusted). */
  close?: boolean;
}

export function sendOwnAnswer(
  res: Exchange,
  answer: OwnAnswer,
  servedBy: string,
  via: ViaEntry | null = null,
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = plainAnswerBody(answer.status, answer.reason);
  const headers = plainAnswerHeaders(body, servedBy);
  if (answer.retryAfterS !== undefined) headers['Retry-After'] = answer.retryAfterS;
  if (res.requestId !== '') headers['X-Request-ID'] = res.requestId;
  if (via !== null) headers.Via = via.forRequest(res.req.httpVersionMajor, res.req.httpVersionMinor);
  // HTTP/2 has no Connection header: one stream ends, the connection stays.
  if (answer.close === true && res.req.httpVersionMajor < 2) {
    headers.Connection = 'close';
    res.shouldKeepAlive = false;
  }
  res.writeHead(answer.status, headers);
  if (res.req.method === 'HEAD') res.end();
  else {
    res.bytesSent += Buffer.byteLength(body);
    res.end(body);
  }
}
