/**
 * The access log line, one per request, so `pm2 logs balancer` shows the backends taking turns and
 * a request can be followed to its backend by its ID:
 * `GET /page.html -> backend-9003 200 1.2 ms 5120B from 127.0.0.1 host=localhost:8080 "curl/8.5" id=3fa0c1-2b`.
 * Built only when the log level lets it through (the caller checks once at start-up); at
 * LOG_LEVEL=warn the request path skips all of it. Pure.
 */
import { printablePath } from '../http/access-log.js';
import { formatMs } from '../report/format.js';
import { sameName } from './headers.js';
import type { RequestIdSource } from './request-id.js';

/** Who answered: an upstream's name, or `balancer` when the balancer answered itself. */
export function accessMessage(
  method: string,
  url: string,
  answeredBy: string,
  status: number,
  ms: number,
  retries: number,
): string {
  const line = `${method} ${url} -> ${answeredBy} ${status} ${formatMs(ms)}`;
  return retries === 0 ? line : `${line} (${retries} ${retries === 1 ? 'retry' : 'retries'})`;
}

/** What the client side of an access line says beyond the method, target and outcome. */
export interface ClientSide {
  client: string;
  bytes: number;
  host: string;
  userAgent: string;
  requestId: string;
  requestIdSource: RequestIdSource;
}

/** The client's Host and User-Agent from the raw headers (no header object built), printable. */
export function hostAndAgent(rawHeaders: readonly string[]): { host: string; userAgent: string } {
  let host = '';
  let userAgent = '';
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (host === '' && name.length === 4 && sameName(name, 'host')) host = rawHeaders[i + 1] ?? '';
    else if (userAgent === '' && name.length === 10 && sameName(name, 'user-agent'))
      userAgent = rawHeaders[i + 1] ?? '';
  }
  return { host: printablePath(host), userAgent: printablePath(userAgent) };
}

/** The tail of the readable line; a replaced ID says so, since the client's own was dropped. */
export function clientTail(side: ClientSide): string {
  const agent = side.userAgent === '' ? '-' : JSON.stringify(side.userAgent);
  const replaced = side.requestIdSource === 'replaced' ? ' (malformed X-Request-ID replaced)' : '';
  return ` ${side.bytes}B from ${side.client || '-'} host=${side.host || '-'} ${agent} id=${side.requestId}${replaced}`;
}

/** The same facts as fields, for LOG_FORMAT=json. */
export function clientFields(side: ClientSide): Record<string, unknown> {
  return {
    client: side.client,
    bytes: side.bytes,
    host: side.host,
    userAgent: side.userAgent,
    requestId: side.requestId,
    ...(side.requestIdSource === 'replaced' ? { requestIdReplaced: true } : {}),
  };
}
