/**
 * The access log line, one per request, so `pm2 logs balancer` shows the backends taking turns:
 * `GET /page.html -> backend-9003 200 1.2 ms`. Built only when the log level lets it through (the
 * caller checks once at start-up); at LOG_LEVEL=warn the request path skips all of it.
 */
import { formatMs } from '../report/format.js';

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
