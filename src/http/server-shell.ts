/**
 * The node:http server both file servers are built on: socket limits and timeouts, bad-input
 * handling, POST bodies counted (never stored), access lines, and the response writer. What a
 * request gets comes from `dispatch`: the backend calls the core directly, the thread-pool server
 * sends it to a worker thread. Nothing else differs between the two.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ServerConfig } from './server-config.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { createAccessLog, requestIdOf } from './access-log.js';
import { handleClientError } from './client-error.js';
import { connectionsCheckingIntervalMs } from './connection-checks.js';
import { errorResponse, type CoreRequest, type CoreResponse } from './core.js';
import type { Lifecycle } from './graceful-shutdown.js';
import { writeResponse } from './respond.js';
import { routeRequest, type Route } from './route.js';

export type Dispatch = (route: Route, req: CoreRequest) => CoreResponse | Promise<CoreResponse>;

/** Prometheus metrics (src/metrics/backend-metrics.ts): answers GET /metrics, counts answered requests. */
export interface ShellMetrics {
  serve(req: IncomingMessage, res: ServerResponse): void;
  /** Every answer except health checks and scrapes; O(1). */
  observe(status: number, durationMs: number): void;
}

export interface ServerShellOptions {
  config: ServerConfig;
  logger: Logger;
  lifecycle: Lifecycle;
  dispatch: Dispatch;
  metrics?: ShellMetrics;
}

export function createServerShell(options: ServerShellOptions): http.Server {
  const { config, logger, lifecycle, dispatch, metrics } = options;
  const name = config.name;
  const routeOptions = { workCapMs: config.workCapMs };
  const access = createAccessLog(logger, () => performance.now());

  const server = http.createServer({
    // Node answers 431 itself when the request line and headers exceed this.
    maxHeaderSize: config.maxHeaderSize,
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    // Timeouts are only noticed when Node checks its connections; check often enough to matter.
    connectionsCheckingInterval: connectionsCheckingIntervalMs(
      config.headersTimeoutMs,
      config.requestTimeoutMs,
    ),
    keepAliveTimeout: config.keepAliveTimeoutMs,
    noDelay: true,
  });
  server.keepAliveTimeout = config.keepAliveTimeoutMs;

  // One for the server, not one per request: the response says which request it was.
  const streamFailed = (err: Error, res: ServerResponse): void =>
    logger.warn(`${res.req.method ?? '?'} ${res.req.url ?? ''}: sending the file failed: ${err.message}`, {
      event: 'stream-error',
    });

  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    response: CoreResponse,
    close: boolean,
    startedAt: number,
  ) => {
    const bytes = writeResponse(res, response, close || lifecycle.draining, streamFailed);
    // A balancer checks every second, day and night: those lines would bury the real ones.
    if (access.active && (config.logHealthChecks || req.url !== '/healthz')) {
      const method = req.method ?? '?';
      const sent = method === 'HEAD' ? 0 : bytes;
      const requestId = requestIdOf(req.rawHeaders);
      // A streamed file's line waits for the last byte, so its time covers the transfer.
      if (response.file === undefined) {
        access.write(method, req.url ?? '', response.status, sent, startedAt, response.reason, requestId);
      } else {
        res.once('close', () =>
          access.write(
            method,
            req.url ?? '',
            response.status,
            sent,
            startedAt,
            res.writableFinished ? undefined : 'the client left before the end',
            requestId,
          ),
        );
      }
    }
    if (metrics !== undefined && req.url !== '/healthz') {
      metrics.observe(response.status, performance.now() - startedAt);
    }
  };

  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown, startedAt: number) => {
    logger.error(`${req.method ?? '?'} ${req.url ?? ''} failed: ${errorMessage(err)}`, {
      event: 'request-error',
    });
    if (res.headersSent) res.destroy();
    else send(req, res, errorResponse(500, 'internal error', name), true, startedAt);
  };

  const run = (
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    core: CoreRequest,
    startedAt: number,
  ) => {
    let out: CoreResponse | Promise<CoreResponse>;
    try {
      out = dispatch(route, core);
    } catch (err) {
      fail(req, res, err, startedAt);
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (response) => send(req, res, response, false, startedAt),
        (err: unknown) => fail(req, res, err, startedAt),
      );
    } else {
      send(req, res, out, false, startedAt);
    }
  };

  /** Count the body's bytes without keeping them; over the limit is 413 and the connection closes. */
  const readBody = (req: IncomingMessage, res: ServerResponse, core: CoreRequest, startedAt: number) => {
    const limit = config.maxBodyBytes;
    const tooLarge = () => {
      send(req, res, errorResponse(413, `the request body is over ${limit} bytes`, name), true, startedAt);
      // Keep reading (and dropping) until the socket closes, so the client sees the answer, not a reset.
      req.resume();
    };
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      tooLarge();
      return;
    }
    let received = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit && !refused) {
        refused = true;
        tooLarge();
      }
    });
    req.on('end', () => {
      if (refused) return;
      core.bodyBytes = received;
      run(req, res, { kind: 'post' }, core, startedAt);
    });
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (metrics !== undefined && req.url === '/metrics') {
      metrics.serve(req, res);
      return;
    }
    const startedAt = access.active || metrics !== undefined ? performance.now() : 0;
    const route = routeRequest(req.method, req.url, routeOptions);
    const core: CoreRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      ifNoneMatch: undefined,
      ifModifiedSince: undefined,
      bodyBytes: 0,
    };
    if (route.kind === 'file') {
      // req.headers is built lazily by node:http; only file requests need it.
      const headers = req.headers;
      core.ifNoneMatch = headers['if-none-match'];
      core.ifModifiedSince = headers['if-modified-since'];
    } else if (route.kind === 'post') {
      readBody(req, res, core, startedAt);
      return;
    }
    run(req, res, route, core, startedAt);
  });

  server.on('clientError', (err: Error & { code?: string }, socket) =>
    handleClientError(err, socket, name, logger),
  );
  return server;
}
