/**
 * The admin listener's read-only routes for people and Prometheus:
 *
 *   GET /                       the dashboard page (and /dashboard.css, /dashboard.js)
 *   GET /api/dashboard          the page's data as one JSON document
 *   GET /api/dashboard/events   the same, live, as server-sent events (a frame a second)
 *   GET /metrics                Prometheus text format
 *
 * Only GET and HEAD: nothing here can stop, restart or reconfigure anything. The page's controls
 * post to the balancer's own /__lb/upstreams/ routes, which its control plane serves behind the
 * admin guard.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { plainAnswerBody, plainAnswerHeaders } from '../http/plain-answer.js';
import { serveMetrics } from '../metrics/serve-metrics.js';
import type { Dashboard } from './dashboard.js';
import { StaticAssets } from './static-assets.js';

export const DASHBOARD_PATHS = {
  page: '/',
  json: '/api/dashboard',
  events: '/api/dashboard/events',
  metrics: '/metrics',
} as const;

export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Every route as (path, handler), for whatever router the admin listener has. */
export function dashboardRoutes(
  dashboard: Dashboard,
  options: {
    assets?: StaticAssets;
    onError?: (message: string) => void;
    /** Awaited before a scrape is answered (a cluster primary gathers its workers' counts). */
    beforeMetrics?: () => Promise<void> | undefined;
  } = {},
): [path: string, handler: AdminHandler][] {
  const assets = options.assets ?? new StaticAssets();
  const report = options.onError ?? (() => undefined);
  const readOnly =
    (handler: AdminHandler): AdminHandler =>
    (req, res) => {
      if (req.method === 'GET' || req.method === 'HEAD') {
        handler(req, res);
        return;
      }
      const body = plainAnswerBody(405, 'the admin listener is read-only (GET, HEAD)');
      res.writeHead(405, { Allow: 'GET, HEAD', ...plainAnswerHeaders(body) });
      res.end(body);
    };

  const routes: [string, AdminHandler][] = assets.paths.map((path) => [
    path,
    readOnly((req, res) => void assets.serve(path, req, res)),
  ]);
  routes.push(
    [
      DASHBOARD_PATHS.json,
      readOnly((req, res) => {
        const body = JSON.stringify(dashboard.view());
        res.writeHead(200, {
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': Buffer.byteLength(body),
          'Cache-Control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      }),
    ],
    [
      DASHBOARD_PATHS.events,
      readOnly((req, res) => {
        // HEAD gets the stream's headers and no stream.
        if (req.method === 'HEAD')
          res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8' }).end();
        else dashboard.stream.open(req, res);
      }),
    ],
    [
      DASHBOARD_PATHS.metrics,
      readOnly((req, res) => {
        const before = options.beforeMetrics?.();
        if (before === undefined) serveMetrics(dashboard.metrics, req, res, report);
        else void before.then(() => serveMetrics(dashboard.metrics, req, res, report));
      }),
    ],
  );
  return routes;
}
