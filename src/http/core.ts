/**
 * The request-handling core both servers share: what a request gets. It takes a route (from
 * routeRequest) and a few request fields, and returns a CoreResponse: status, headers and a body or
 * a file to stream. The backend runs it on the event loop with a cached async file store; the
 * thread-pool server runs the same function inside worker threads with a blocking file store.
 * Writing to the socket is the response writer's job, not this module's.
 */
import { plainAnswerBody, plainAnswerHeaders } from './plain-answer.js';
import { isNotModified } from './conditional.js';
import { doCpuWork } from './cpu-work.js';
import type { FileEntry } from './file-meta.js';
import type { FileLookup, FileStore } from './file-store.js';
import { routeRequest, type Route, type RouteOptions } from './route.js';

/** The parts of a request the core looks at (plain data, so it can be posted to a worker thread). */
export interface CoreRequest {
  method: string;
  url: string;
  ifNoneMatch: string | undefined;
  ifModifiedSince: string | undefined;
  /** Bytes of a POST body, counted by the server before the core runs. */
  bodyBytes: number;
}

export type HeaderMap = Record<string, string | number>;

/** The same headers flattened, `[name, value, name, value...]`: what writeHead takes without walking an object. */
export type HeaderList = readonly string[];

export interface CoreResponse {
  status: number;
  headers: HeaderMap;
  /** `headers` as a list, when built once and kept (file answers); the writer sends it instead. */
  headerList: HeaderList | undefined;
  /** What to send; undefined for HEAD, 304, and files that are streamed. */
  body: Uint8Array | string | undefined;
  /** A large file to stream from disk after the headers. */
  file: { path: string; size: number } | undefined;
  /** Why a request was refused, for its log line. */
  reason: string | undefined;
}

export interface CoreContext {
  name: string;
  pid: number;
  startedAt: number;
  files: FileStore;
  /** True once shutdown began: /healthz answers 503 so balancers stop sending. */
  isDraining(): boolean;
  /** The answers of each file version, built on its first request and reused until it changes. */
  fileAnswers: WeakMap<FileEntry, FileAnswers>;
}

/**
 * Everything a request for one version of a file can get: the same three objects every time, so a
 * cached file is answered without building headers or allocating. Shared: never modify them.
 */
export interface FileAnswers {
  get: CoreResponse;
  head: CoreResponse;
  notModified: CoreResponse;
}

export function createCoreContext(
  fields: Omit<CoreContext, 'fileAnswers' | 'pid' | 'startedAt'> & { startedAt?: number },
): CoreContext {
  return { pid: process.pid, startedAt: Date.now(), fileAnswers: new WeakMap(), ...fields };
}

/** Route and answer in one call. */
export function handleRequest(
  req: CoreRequest,
  ctx: CoreContext,
  options: RouteOptions,
): CoreResponse | Promise<CoreResponse> {
  return answerRoute(routeRequest(req.method, req.url, options), req, ctx);
}

/** Cached files are answered synchronously (no promise); a file store miss returns a promise. */
export function answerRoute(
  route: Route,
  req: CoreRequest,
  ctx: CoreContext,
): CoreResponse | Promise<CoreResponse> {
  switch (route.kind) {
    case 'file': {
      const found = ctx.files.lookup(route.relPath);
      return found instanceof Promise
        ? found.then((f) => fileResponse(f, req, ctx))
        : fileResponse(found, req, ctx);
    }
    case 'health':
      return healthResponse(ctx);
    case 'work':
      return workResponse(route.ms, ctx);
    case 'post':
      return jsonResponse(200, { received: req.bodyBytes }, ctx.name);
    case 'error':
      return errorResponse(
        route.status,
        route.reason,
        ctx.name,
        route.allow === undefined ? undefined : { Allow: route.allow },
      );
  }
}

function fileResponse(found: FileLookup, req: CoreRequest, ctx: CoreContext): CoreResponse {
  if (found.kind === 'missing') return errorResponse(404, found.reason, ctx.name);
  if (found.kind === 'forbidden') return errorResponse(403, found.reason, ctx.name);
  let answers = ctx.fileAnswers.get(found.entry);
  if (answers === undefined) {
    answers = fileAnswers(found.entry, ctx.name);
    ctx.fileAnswers.set(found.entry, answers);
  }
  const { meta } = found.entry;
  if (isNotModified(req.ifNoneMatch, req.ifModifiedSince, meta.etag, meta.mtimeMs))
    return answers.notModified;
  return req.method === 'HEAD' ? answers.head : answers.get;
}

/** The 200 (with its bytes, or the file to stream), HEAD and 304 answers of one file version. */
export function fileAnswers(entry: FileEntry, name: string): FileAnswers {
  const { meta, body } = entry;
  const validators: HeaderMap = {
    ETag: meta.etag,
    'Last-Modified': meta.lastModified,
    'Cache-Control': meta.cacheControl,
    'X-Served-By': name,
  };
  const full: HeaderMap = { 'Content-Type': meta.contentType, 'Content-Length': meta.size, ...validators };
  const fullList = toHeaderList(full);
  const answer = (
    status: number,
    headers: HeaderMap,
    headerList: HeaderList,
    withBody: boolean,
  ): CoreResponse => ({
    status,
    headers,
    headerList,
    body: withBody ? body : undefined,
    file: withBody && body === undefined ? { path: meta.realPath, size: meta.size } : undefined,
    reason: undefined,
  });
  return {
    get: answer(200, full, fullList, true),
    head: answer(200, full, fullList, false),
    notModified: answer(304, validators, toHeaderList(validators), false),
  };
}

export function toHeaderList(headers: HeaderMap): HeaderList {
  const list: string[] = [];
  for (const [name, value] of Object.entries(headers)) list.push(name, String(value));
  return list;
}

function healthResponse(ctx: CoreContext): CoreResponse {
  const draining = ctx.isDraining();
  return jsonResponse(
    draining ? 503 : 200,
    {
      status: draining ? 'shutting-down' : 'ok',
      name: ctx.name,
      pid: ctx.pid,
      uptimeMs: Date.now() - ctx.startedAt,
    },
    ctx.name,
  );
}

function workResponse(ms: number, ctx: CoreContext): CoreResponse {
  const result = doCpuWork(ms);
  const response = jsonResponse(200, result, ctx.name);
  // Lets a client (and the tests) see the work's own measurement next to its round trip.
  response.headers['Server-Timing'] = `work;dur=${result.elapsedMs}`;
  return response;
}

export function jsonResponse(status: number, value: unknown, name: string): CoreResponse {
  const body = JSON.stringify(value);
  return {
    status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      'X-Served-By': name,
    },
    headerList: undefined,
    body,
    file: undefined,
    reason: undefined,
  };
}

/** A refusal: plain text naming the status and the reason, so a person sees what was wrong. */
export function errorResponse(
  status: number,
  reason: string,
  name: string,
  extra?: Record<string, string>,
): CoreResponse {
  const body = plainAnswerBody(status, reason);
  return {
    status,
    headers: { ...plainAnswerHeaders(body, name), ...extra },
    headerList: undefined,
    body,
    file: undefined,
    reason,
  };
}
