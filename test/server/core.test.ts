/**
 * The servers' pure parts, without sockets: routing, safe path resolution, conditional requests,
 * answers to unparseable requests, log-line hygiene, file metadata and configuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_PORTS } from '../../src/config/common.js';
import { buildServerConfig } from '../../src/http/server-config.js';
import { ConfigError } from '../../src/errors.js';
import { printablePath } from '../../src/http/access-log.js';
import { clientErrorAnswer, rawErrorResponse } from '../../src/http/client-error.js';
import { connectionsCheckingIntervalMs } from '../../src/http/connection-checks.js';
import { etagMatches, isNotModified } from '../../src/http/conditional.js';
import { answerRoute, createCoreContext, type CoreRequest, type CoreResponse } from '../../src/http/core.js';
import {
  cacheControlFor,
  contentTypeFor,
  describeFile,
  isInsideRoot,
  makeEtag,
} from '../../src/http/file-meta.js';
import { routeRequest } from '../../src/http/route.js';
import { resolveRequestPath, resolveSegments } from '../../src/http/safe-path.js';
import { TRAVERSALS_400 } from '../helpers/served-folder.js';
import type { FileEntry } from '../../src/http/file-meta.js';
import { runsInPool } from '../../src/threaded/pool-dispatch.js';

const options = { workCapMs: 200 };

void test('GET and HEAD of / route to page.html, other paths to the file they name', () => {
  assert.deepEqual(routeRequest('GET', '/', options), { kind: 'file', relPath: 'page.html' });
  assert.deepEqual(routeRequest('HEAD', '/images/small.jpg?v=2', options), {
    kind: 'file',
    relPath: 'images/small.jpg',
  });
  assert.deepEqual(routeRequest('GET', '/my%20file.txt', options), { kind: 'file', relPath: 'my file.txt' });
});

void test('/healthz and /work are routes of their own; POST goes to the byte counter on any path', () => {
  assert.deepEqual(routeRequest('GET', '/healthz', options), { kind: 'health' });
  assert.deepEqual(routeRequest('HEAD', '/healthz?x=1', options), { kind: 'health' });
  assert.deepEqual(routeRequest('GET', '/work?ms=5', options), { kind: 'work', ms: 5 });
  assert.deepEqual(routeRequest('GET', '/work?x=1&ms=200', options), { kind: 'work', ms: 200 });
  assert.deepEqual(routeRequest('POST', '/anything', options), { kind: 'post' });
});

void test('/work refuses a missing, malformed, zero or over-cap ms with 400, and is 404 when turned off', () => {
  for (const url of [
    '/work',
    '/work?ms=',
    '/work?ms=abc',
    '/work?ms=-5',
    '/work?ms=1.5',
    '/work?ms=0',
    '/work?ms=201',
  ]) {
    const route = routeRequest('GET', url, options);
    assert.equal(route.kind, 'error', url);
    assert.equal(route.kind === 'error' && route.status, 400, url);
  }
  const off = routeRequest('GET', '/work?ms=5', { workCapMs: 0 });
  assert.equal(off.kind === 'error' && off.status, 404);
});

void test('methods other than GET, HEAD and POST get 405 with Allow', () => {
  for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'get', undefined]) {
    const route = routeRequest(method, '/page.html', options);
    assert.equal(route.kind, 'error');
    if (route.kind !== 'error') continue;
    assert.equal(route.status, 405);
    assert.equal(route.allow, 'GET, HEAD, POST');
  }
});

void test('every spelling of path traversal is refused before any file is touched', () => {
  const refused: Array<[string, number]> = [
    ...TRAVERSALS_400.map((target): [string, number] => [target, 400]),
    ['/..%2Fsecret.txt', 400],
    ['/./page.html', 400],
    ['/%zz', 400],
    ['http://127.0.0.1/page.html', 400],
    ['*', 400],
    ['', 400],
    ['/.secret', 403],
    ['/images/.hidden', 403],
    ['/%2esecret', 403],
    ['/images/', 404],
  ];
  for (const [target, status] of refused) {
    const result = resolveRequestPath(target);
    assert.equal(result.ok, false, target);
    assert.equal(!result.ok && result.status, status, target);
  }
});

void test('a double-encoded %252e is decoded once and stays a literal name, never ..', () => {
  assert.deepEqual(resolveRequestPath('/%252e%252e/secret.txt'), { ok: true, relPath: '%2e%2e/secret.txt' });
  assert.deepEqual(resolveRequestPath('/%252e%252e%252fsecret.txt'), {
    ok: true,
    relPath: '%2e%2e%2fsecret.txt',
  });
});

void test('the shortcut for plain paths answers exactly what segment-by-segment resolution does', () => {
  const targets = [
    '/page.html',
    '/images/small.jpg',
    '/a/b/c.txt',
    '/a..b',
    '/a.',
    '/a/b.',
    '/images/',
    '/a//b',
    '/.x',
    '/a/.x',
    '/a/..',
    '/a/./b',
    '/%41',
    '/a\\b',
    '/a\0b',
    '/a b',
    '/\u00fc.txt',
    '/a/b/',
    '/..',
    '/.',
  ];
  // And a few thousand random paths over the characters that matter, from a fixed seed.
  const alphabet = ['a', 'b', '.', '/', '%', '2', 'e', 'E', 'f', '5', 'c', '\\', '\0'];
  let seed = 12345;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
  for (let i = 0; i < 5000; i++) {
    let target = '/';
    for (let n = next() % 12; n > 0; n--) target += alphabet[next() % alphabet.length];
    targets.push(target);
  }
  for (const target of targets) {
    if (target === '/') continue;
    assert.deepEqual(resolveRequestPath(target), resolveSegments(target), JSON.stringify(target));
  }
});

void test('If-None-Match wins over If-Modified-Since; weak tags, lists and * match', () => {
  const etag = makeEtag(100, 1_700_000_000_500);
  const mtime = 1_700_000_000_500;
  const lastModified = new Date(mtime).toUTCString();
  assert.equal(isNotModified(etag, undefined, etag, mtime), true);
  assert.equal(isNotModified(`W/${etag}`, undefined, etag, mtime), true);
  assert.equal(isNotModified(`"other", ${etag}`, undefined, etag, mtime), true);
  assert.equal(isNotModified('*', undefined, etag, mtime), true);
  assert.equal(
    isNotModified('"other"', lastModified, etag, mtime),
    false,
    'a mismatched tag is not rescued by the date',
  );
  assert.equal(isNotModified(undefined, lastModified, etag, mtime), true, 'same second as Last-Modified');
  assert.equal(isNotModified(undefined, new Date(mtime - 2000).toUTCString(), etag, mtime), false);
  assert.equal(isNotModified(undefined, 'not a date', etag, mtime), false);
  assert.equal(isNotModified(undefined, undefined, etag, mtime), false);
  assert.equal(etagMatches('"a", "b"', '"c"'), false);
});

void test('unparseable requests get 400, oversize headers 431, slow ones 408; a reset gets nothing', () => {
  assert.equal(clientErrorAnswer('HPE_INVALID_METHOD')?.status, 400);
  assert.equal(clientErrorAnswer('HPE_INVALID_CONSTANT')?.status, 400);
  assert.equal(clientErrorAnswer(undefined)?.status, 400);
  assert.equal(clientErrorAnswer('HPE_HEADER_OVERFLOW')?.status, 431);
  assert.equal(clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT')?.status, 408);
  assert.equal(clientErrorAnswer('ECONNRESET'), undefined);
  const raw = rawErrorResponse({ status: 431, reason: 'too big' }, 'backend-1');
  assert.match(raw, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  assert.match(raw, /\r\nConnection: close\r\n/);
  assert.match(raw, /\r\nX-Served-By: backend-1\r\n/);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  assert.equal(Number(/Content-Length: (\d+)/.exec(raw)?.[1]), Buffer.byteLength(body));
});

void test('node:http looks for expired connections at a quarter of the shorter client timeout, every 50-250 ms', () => {
  assert.equal(connectionsCheckingIntervalMs(10_000, 30_000), 250);
  assert.equal(connectionsCheckingIntervalMs(800, 30_000), 200);
  assert.equal(connectionsCheckingIntervalMs(100, 100), 50);
  assert.equal(connectionsCheckingIntervalMs(0, 0), 250, 'both off: the default still applies');
});

void test('log lines cannot be forged or flooded through the URL', () => {
  assert.equal(printablePath('/a\r\nINFO fake line'), '/a??INFO fake line');
  assert.equal(printablePath('/ok/path?x=1'), '/ok/path?x=1');
  assert.ok(printablePath(`/${'a'.repeat(5000)}`).length < 400);
});

void test('file metadata: MIME type from a maintained library, pages revalidated, symlink checks by folder', () => {
  assert.equal(contentTypeFor('page.html'), 'text/html; charset=utf-8');
  assert.equal(contentTypeFor('images/small.jpg'), 'image/jpeg');
  assert.equal(contentTypeFor('files/1mb.bin'), 'application/octet-stream');
  assert.equal(contentTypeFor('no-extension'), 'application/octet-stream');
  assert.equal(cacheControlFor('page.html'), 'no-cache');
  assert.match(cacheControlFor('images/small.jpg'), /max-age=\d+/);
  const meta = describeFile('a.txt', '/srv/a.txt', { size: 10, mtimeMs: 1_700_000_000_000, ino: 1 });
  assert.equal(meta.lastModified, 'Tue, 14 Nov 2023 22:13:20 GMT');
  assert.notEqual(makeEtag(10, 1), makeEtag(11, 1));
  assert.notEqual(makeEtag(10, 1), makeEtag(10, 2));
  assert.equal(isInsideRoot('/srv/public', '/srv/public/a.txt'), true);
  assert.equal(isInsideRoot('/srv/public', '/srv/public-evil/a.txt'), false);
  assert.equal(isInsideRoot('/srv/public', '/srv/secret.txt'), false);
});

void test('the core answers health, POST counts and refusals without a file store', async () => {
  let draining = false;
  const ctx = createCoreContext({
    name: 'unit',
    files: {
      lookup: () => {
        throw new Error('must not be called');
      },
    },
    isDraining: () => draining,
  });
  const req: CoreRequest = {
    method: 'GET',
    url: '/',
    ifNoneMatch: undefined,
    ifModifiedSince: undefined,
    bodyBytes: 0,
  };
  const health = await answerRoute({ kind: 'health' }, req, ctx);
  assert.equal(health.status, 200);
  assert.equal(health.headers['X-Served-By'], 'unit');
  assert.deepEqual(Object.keys(JSON.parse(String(health.body)) as object), [
    'status',
    'name',
    'pid',
    'uptimeMs',
  ]);
  draining = true;
  assert.equal((await answerRoute({ kind: 'health' }, req, ctx)).status, 503);
  const post = await answerRoute({ kind: 'post' }, { ...req, method: 'POST', bodyBytes: 1234 }, ctx);
  assert.deepEqual(JSON.parse(String(post.body)), { received: 1234 });
  const refused = await answerRoute({ kind: 'error', status: 405, reason: 'no', allow: 'GET' }, req, ctx);
  assert.equal(refused.headers.Allow, 'GET');
  assert.equal(refused.headers['Content-Length'], Buffer.byteLength(String(refused.body)));
});

void test('a file version is answered with the same objects every time: 200, HEAD and 304, headers as a list', () => {
  const mtimeMs = 1_700_000_000_000;
  let entry: FileEntry = {
    meta: describeFile('page.html', '/srv/page.html', { size: 5, mtimeMs, ino: 1 }),
    body: Buffer.from('hello'),
  };
  const ctx = createCoreContext({
    name: 'unit',
    files: { lookup: () => ({ kind: 'found', entry }) },
    isDraining: () => false,
  });
  const route = { kind: 'file', relPath: 'page.html' } as const;
  const req: CoreRequest = {
    method: 'GET',
    url: '/page.html',
    ifNoneMatch: undefined,
    ifModifiedSince: undefined,
    bodyBytes: 0,
  };
  const answer = (fields: Partial<CoreRequest> = {}): CoreResponse => {
    const out = answerRoute(route, { ...req, ...fields }, ctx);
    assert.ok(!(out instanceof Promise), 'a file the store holds is answered synchronously');
    return out;
  };
  const listed = (response: CoreResponse): Record<string, string> => {
    const list = response.headerList ?? [];
    const out: Record<string, string> = {};
    for (let i = 0; i < list.length; i += 2) out[list[i] ?? ''] = list[i + 1] ?? '';
    return out;
  };

  const get = answer();
  assert.equal(answer(), get, 'the second request gets the very same answer');
  assert.equal(get.status, 200);
  assert.equal(String(get.body), 'hello');
  assert.deepEqual(get.headers, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': 5,
    ETag: entry.meta.etag,
    'Last-Modified': 'Tue, 14 Nov 2023 22:13:20 GMT',
    'Cache-Control': 'no-cache',
    'X-Served-By': 'unit',
  });
  assert.deepEqual(
    listed(get),
    Object.fromEntries(Object.entries(get.headers).map(([k, v]) => [k, String(v)])),
    'the list the writer sends says what the headers say',
  );

  const head = answer({ method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, undefined);
  assert.equal(head.file, undefined);
  assert.deepEqual(head.headers, get.headers);
  assert.equal(answer({ method: 'HEAD' }), head);

  const byTag = answer({ ifNoneMatch: entry.meta.etag });
  const byDate = answer({ ifModifiedSince: entry.meta.lastModified });
  assert.equal(byTag.status, 304);
  assert.equal(byDate, byTag);
  assert.equal(byTag.body, undefined);
  assert.deepEqual(Object.keys(byTag.headers), ['ETag', 'Last-Modified', 'Cache-Control', 'X-Served-By']);
  assert.deepEqual(Object.keys(listed(byTag)), Object.keys(byTag.headers));
  assert.equal(answer({ ifNoneMatch: '"other"' }), get, 'a stale copy gets the file');

  // A new version of the file (the store hands out a new entry) gets answers of its own.
  entry = {
    meta: describeFile('page.html', '/srv/page.html', { size: 7, mtimeMs: mtimeMs + 1000, ino: 1 }),
    body: Buffer.from('hello 2'),
  };
  const changed = answer();
  assert.notEqual(changed, get);
  assert.equal(changed.headers['Content-Length'], 7);
  assert.equal(answer({ ifNoneMatch: String(get.headers.ETag) }).status, 200, 'the old tag is stale');

  // A file too large to hold is streamed: its answer names the file and carries no bytes.
  entry = {
    meta: describeFile('big.bin', '/srv/big.bin', { size: 1_000_000, mtimeMs, ino: 2 }),
    body: undefined,
  };
  const streamed = answer();
  assert.deepEqual(streamed.file, { path: '/srv/big.bin', size: 1_000_000 });
  assert.equal(streamed.body, undefined);
  assert.equal(answer({ method: 'HEAD' }).file, undefined, 'HEAD streams nothing');
});

void test('the thread-pool server sends only files and /work to its threads', () => {
  assert.equal(runsInPool({ kind: 'file', relPath: 'page.html' }), true);
  assert.equal(runsInPool({ kind: 'work', ms: 5 }), true);
  assert.equal(runsInPool({ kind: 'health' }), false);
  assert.equal(runsInPool({ kind: 'post' }), false);
  assert.equal(runsInPool({ kind: 'error', status: 400, reason: 'x' }), false);
});

void test('server config: defaults, flags over env, names from ports, threads and queue for the pool', () => {
  const backend = buildServerConfig('backend', { argv: [], env: {} });
  const firstBackendPort = DEFAULT_PORTS.backends[0];
  assert.equal(backend.port, firstBackendPort);
  assert.equal(backend.name, `backend-${firstBackendPort}`);
  assert.equal(backend.host, '127.0.0.1');
  assert.equal(backend.graceMs, 1000);
  assert.equal(backend.workCapMs, 200);
  assert.ok(backend.root.endsWith(`${path.sep}public`));
  const shifted = buildServerConfig('backend', {
    argv: ['--port', '7001'],
    env: { PORT: '7002', PORT_OFFSET: '5' },
  });
  assert.equal(shifted.port, 7001);
  assert.equal(shifted.name, 'backend-7001');
  const threaded = buildServerConfig('threaded', { argv: ['--threads', '3'], env: { PORT_OFFSET: '10' } });
  assert.equal(threaded.name, 'threaded');
  assert.equal(threaded.port, DEFAULT_PORTS.threaded + 10);
  assert.equal(threaded.threads, 3);
  assert.equal(threaded.maxQueue, 3 * 64);
});

void test('server config: every problem is reported at once', () => {
  const missing = path.join(os.tmpdir(), 'sb-no-such-folder-xyz');
  assert.throws(
    () =>
      buildServerConfig('threaded', {
        argv: ['--port', '70000', '--root', missing, '--bogus', '--threads', '0', '--work-cap-ms', 'lots'],
        env: {},
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.problems.join('\n');
      assert.match(text, /--port: "70000" is not a port/);
      assert.match(text, /--root: the folder .*sb-no-such-folder-xyz does not exist/);
      assert.match(text, /unknown option --bogus/);
      assert.match(text, /--threads: "0"/);
      assert.match(text, /--work-cap-ms: "lots"/);
      assert.equal(err.problems.length, 5);
      return true;
    },
  );
  assert.throws(
    () =>
      buildServerConfig('backend', {
        argv: ['--headers-timeout', '20s', '--request-timeout', '10s'],
        env: {},
      }),
    /--headers-timeout \(20000ms\) must not be longer than --request-timeout/,
  );
});
