/**
 * One line per request: `GET /page.html 200 15234B 0.400 ms id=3fa0c1-2b` (the X-Request-ID the
 * balancer sent, so a request can be followed across the tiers). Refusals of bad input (400, 403, 405,
 * 413) are logged at warn, so they still show when LOG_LEVEL=warn silences the ordinary lines.
 */
import { NO_FIELDS, type Logger } from '../logger.js';
import { formatMs } from '../report/format.js';

export interface AccessLog {
  /** False when no line would be printed: callers then skip timing and formatting altogether. */
  readonly active: boolean;
  write(
    method: string,
    url: string,
    status: number,
    bytes: number,
    startedAt: number,
    reason?: string,
    requestId?: string,
  ): void;
}

/** The request's X-Request-ID from its raw headers, printable, or undefined when it has none. */
export function requestIdOf(rawHeaders: readonly string[]): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (name.length === 12 && name.toLowerCase() === 'x-request-id')
      return printablePath(rawHeaders[i + 1] ?? '');
  }
  return undefined;
}

const REFUSALS = new Set([400, 403, 405, 413]);
const MAX_PATH_CHARS = 300;

/** Keep a hostile URL from forging log lines or flooding them. */
export function printablePath(url: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = /[\x00-\x1f\x7f]/.test(url) ? url.replace(/[\x00-\x1f\x7f]/g, '?') : url;
  return clean.length > MAX_PATH_CHARS ? `${clean.slice(0, MAX_PATH_CHARS)}...` : clean;
}

export function createAccessLog(logger: Logger, now: () => number): AccessLog {
  const info = logger.enabled('info');
  const warn = logger.enabled('warn');
  return {
    active: info || warn,
    write(method, url, status, bytes, startedAt, reason, requestId) {
      const refused = REFUSALS.has(status);
      if (!(info || (refused && warn))) return;
      const ms = Math.round((now() - startedAt) * 10) / 10;
      const path = printablePath(url);
      // A readable line is its message alone (Logger.accessFields): no fields built for it.
      const fields = logger.accessFields
        ? {
            event: 'access',
            method,
            path,
            status,
            bytes,
            ms,
            ...(reason === undefined ? {} : { reason }),
            ...(requestId === undefined ? {} : { requestId }),
          }
        : NO_FIELDS;
      const id = requestId === undefined ? '' : ` id=${requestId}`;
      const line = `${method} ${path} ${status} ${bytes}B ${formatMs(ms)}${id}${reason === undefined ? '' : ` (${reason})`}`;
      if (refused) logger.warn(line, fields);
      else logger.access(line, fields);
    },
  };
}
