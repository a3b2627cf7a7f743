/**
 * The project's own short answers, as plain text naming the status and the reason, so a person
 * with curl sees what was wrong: `503 Service Unavailable: no upstream is available`. The file
 * servers' refusals, the balancer's own answers, the admin listener's 405 and the raw answers
 * written to a socket the HTTP parser gave up on all take their body and headers from here.
 */
import { STATUS_CODES } from 'node:http';

export type PlainHeaders = Record<string, string | number>;

export function plainAnswerBody(status: number, reason: string): string {
  return `${status} ${STATUS_CODES[status] ?? 'Error'}: ${reason}\n`;
}

/** Headers for `body`; `servedBy` names who answered (X-Served-By), when that is part of the contract. */
export function plainAnswerHeaders(body: string, servedBy?: string): PlainHeaders {
  const headers: PlainHeaders = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  };
  if (servedBy !== undefined) headers['X-Served-By'] = servedBy;
  return headers;
}

/** The whole HTTP/1.1 answer as bytes to write on a raw socket; the connection closes after it. */
export function rawPlainAnswer(
  status: number,
  reason: string,
  servedBy: string,
  extra: PlainHeaders = {},
): string {
  const body = plainAnswerBody(status, reason);
  const head = Object.entries({ ...plainAnswerHeaders(body, servedBy), ...extra, Connection: 'close' })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${head}\r\n${body}`;
}
