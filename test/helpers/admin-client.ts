/**
 * A mutating request to a balancer's admin listener, as an operator's tool sends it: POST, JSON,
 * the listener's own Host. For tests of the upstream-control routes (and of their refusals, with
 * `options` changing the method and headers).
 */
import http from 'node:http';

export interface AdminAnswer {
  status: number;
  body: string;
  /** The body as JSON (an empty object when there is none). */
  json: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
}

export function postAdmin(
  port: number,
  route: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders } = {},
): Promise<AdminAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: route,
        method: options.method ?? 'POST',
        agent: false,
        headers: { 'Content-Type': 'application/json', ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            json: body === '' ? {} : (JSON.parse(body) as Record<string, unknown>),
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}
