/**
 * The admin listener: a small router on 127.0.0.1 (unless asked otherwise), separate from the
 * public port, where anyone can add routes (the balancer adds `/__lb/status`; the dashboard and
 * /metrics plug in the same way). Read routes match the path exactly, query strings aside, and
 * answer GET and HEAD only (405 otherwise). Mutating routes match a prefix, and every request to
 * them passes the guard (admin-guard.ts: POST, own Host and Origin, JSON, the token) before its
 * handler runs; a refusal is answered and logged. Unknown paths get 404 with the list of routes;
 * a handler that throws gets a 500, never a crash.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { connectionsCheckingIntervalMs } from '../http/connection-checks.js';
import { listenOnFd, listenRetrying } from '../net/listen.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { refuseMutation, type AdminIdentity } from './admin-guard.js';

export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
/** A mutating route's handler: `path` is the whole path, `by` says who asked, for the log. */
export type MutationHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  by: string,
) => void | Promise<void>;

/** A mutating request's body is read and dropped: the path says everything, and it stays small. */
const MAX_MUTATION_BODY = 4096;

export class AdminServer {
  private readonly routes = new Map<string, AdminHandler>();
  private readonly mutations = new Map<string, MutationHandler>();
  /** Who this listener is, for the guard: set once it listens (the port) and the token is known. */
  identity: AdminIdentity = { host: '127.0.0.1', port: 0, token: null };
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

  /** Add a mutating route: every path under `prefix`, POST only, behind the guard. */
  mutate(prefix: string, handler: MutationHandler): this {
    if (!prefix.startsWith('/') || !prefix.endsWith('/'))
      throw new Error(`admin prefix "${prefix}" must be /.../`);
    this.mutations.set(prefix, handler);
    return this;
  }

  get paths(): string[] {
    return [...this.routes.keys(), ...[...this.mutations.keys()].map((p) => `POST ${p}...`)];
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
    for (const [prefix, handler] of this.mutations) {
      if (path.startsWith(prefix)) {
        this.mutation(req, res, path, handler);
        return;
      }
    }
    // Everything else is read-only.
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

  private mutation(req: IncomingMessage, res: ServerResponse, path: string, handler: MutationHandler): void {
    const from = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const refusal = refuseMutation(req.method, req.headers, this.identity);
    if (refusal !== null) {
      this.logger.warn(
        `admin: ${req.method ?? '?'} ${path} from ${from} refused (${refusal.status}): ${refusal.reason}`,
        {
          event: 'admin-refused',
          path,
          status: refusal.status,
          from,
        },
      );
      for (const [name, value] of Object.entries(refusal.headers ?? {})) res.setHeader(name, value);
      // The body of a refused request is not read: the connection closes after the answer.
      res.setHeader('Connection', 'close');
      sendJson(res, refusal.status, { error: refusal.reason });
      return;
    }
    const agent = req.headers['user-agent'];
    const by = `${agent === undefined ? 'admin API' : agent} from ${from}`;
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_MUTATION_BODY) req.destroy();
    });
    req.on('end', () => {
      try {
        const done = handler(req, res, path, by);
        if (done instanceof Promise) done.catch((err: unknown) => this.failed(path, res, err));
      } catch (err) {
        this.failed(path, res, err);
      }
    });
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
