/**
 * The optional plain listener beside HTTPS (`--http-redirect-port`): every request gets a 308 to
 * the same path on the HTTPS port, method and body preserved (RFC 9110 section 15.4.9), as
 * nginx's `return 308 https://$host$request_uri` does.
 */
import http from 'node:http';
import type { ViaEntry } from './via.js';

/** Pure: the https:// URL for a request that came in as `host` + `target`. */
export function httpsLocation(host: string | undefined, target: string, httpsPort: number): string {
  const fallback = '127.0.0.1';
  const raw = host === undefined || host.trim() === '' ? fallback : host.trim();
  // Bracketed IPv6 keeps its brackets; any port given is replaced by the HTTPS one.
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d*)?$/.exec(raw);
  const name = m?.[1] ?? fallback;
  const port = httpsPort === 443 ? '' : `:${httpsPort}`;
  const path = target.startsWith('/') ? target : '/';
  return `https://${name}${port}${path}`;
}

export function createRedirectServer(
  httpsPort: () => number,
  name: string,
  via: ViaEntry | null = null,
): http.Server {
  return http.createServer((req, res) => {
    const location = httpsLocation(req.headers.host, req.url ?? '/', httpsPort());
    const body = `308 Permanent Redirect: this balancer speaks HTTPS at ${location}\n`;
    res.writeHead(308, {
      Location: location,
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'X-Served-By': name,
      ...(via === null ? {} : { Via: via.forRequest(req.httpVersionMajor, req.httpVersionMinor) }),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}
