/**
 * The admin listener: a small router on 127.0.0.1, separate from the public port, where anyone can
 * add routes (the balancer adds `/__lb/status`; the dashboard and /metrics plug in the same way).
 * Routes match the path exactly, query strings aside; only GET and HEAD are answered (405 otherwise).
 * Unknown paths get 404 with the list of routes;
 * a handler that throws gets a 500, never a crash.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { connectionsCheckingIntervalMs } from '../http/connection-checks.js';
import { listenOnFd, listenRetrying } from '../net/listen.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';

export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export class AdminServer {
  private readonly routes = new Map<string, AdminHandler>();
  readonly server: http.Server;

  constructor(private readonly logger: Logger) {
    // node:http's own timeouts (headers 60 s, request 300 s), checked often enough to hold.
    this.server = http.createServer(
      { connectionsCheckingInterval: connectionsCheckingIntervalMs(60_000, 300_000) },
      (req, res) => this.dispatch(req, res),
    );
    this.server.keepAliveTimeout = 5000;
  }

  /** Add a route; a path can only have one handler. */
  route(path: string, handler: AdminHandler): this {
    if (!path.startsWith('/')) throw new Error(`admin route "${path}" must start with /`);
    if (this.routes.has(path)) throw new Error(`admin route ${path} is already taken`);
    this.routes.set(path, handler);
    return this;
  }

  get paths(): string[] {
    return [...this.routes.keys()];
  }

  /** On the port, or on a socket already listening there (`fd`, handed over by the last primary). */
  listen(port: number, host: string, what = 'admin', fd?: number): Promise<number> {
    if (fd !== undefined) return listenOnFd(this.server, fd);
    return listenRetrying(this.server, port, host, { logger: this.logger, what });
  }

  /** Stop listening and close every connection (event streams included). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    // Read-only: nothing on the admin listener may change the balancer.
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      sendJson(res, 405, { error: `the admin listener is read-only: ${req.method ?? '?'} is not allowed` });
      return;
    }
    const handler = this.routes.get(path);
    if (handler === undefined) {
      sendJson(res, 404, { error: `no admin route ${path}`, routes: this.paths });
      return;
    }
    try {
      const done = handler(req, res);
      if (done instanceof Promise) done.catch((err: unknown) => this.failed(path, res, err));
    } catch (err) {
      this.failed(path, res, err);
    }
  }

  private failed(path: string, res: ServerResponse, err: unknown): void {
    this.logger.error(`admin route ${path} failed: ${errorMessage(err)}`, { event: 'admin-error', path });
    if (res.headersSent) res.destroy();
    else sendJson(res, 500, { error: 'internal error' });
  }
}

/** A JSON answer that is never cached. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value, null, 2)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
