/**
 * The server shell inside the test process, on a real socket (port 0), with a logger that keeps its
 * lines and metrics that keep what they were told: what the request path logs at each level, what
 * it counts, the exact head it writes for a cached file, and `Connection: close` while draining.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import type { Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { CachedFileStore } from '../../src/http/cached-file-store.js';
import { answerRoute, createCoreContext } from '../../src/http/core.js';
import type { Lifecycle } from '../../src/http/graceful-shutdown.js';
import { buildServerConfig } from '../../src/http/server-config.js';
import { createServerShell } from '../../src/http/server-shell.js';
import { LOG_LEVELS, type LogLevel } from '../../src/logger.js';
import { memoryLogger, type MemoryLine } from '../helpers/memory-logger.js';
import { RawConnection, rawExchange, rawRequest, request } from '../helpers/raw-http.js';
import { makeServedFolder } from '../helpers/served-folder.js';

const NAME = 'shell-under-test';

interface Shell {
  port: number;
  lines: MemoryLine[];
  observed: number[];
  lifecycle: Lifecycle;
}

async function startShell(t: TestContext, level: LogLevel): Promise<Shell> {
  const folder = await makeServedFolder();
  t.after(() => folder.remove());
  const config = buildServerConfig('backend', {
    argv: ['--port', '0', '--root', folder.root, '--name', NAME],
    env: {},
  });
  const logger = memoryLogger();
  logger.enabled = (asked) => LOG_LEVELS.indexOf(asked) <= LOG_LEVELS.indexOf(level);
  const observed: number[] = [];
  const lifecycle: Lifecycle = { draining: false };
  const files = new CachedFileStore({
    realRoot: realpathSync(folder.root),
    maxCachedBytes: config.cacheMaxFileBytes,
    validMs: config.cacheValidMs,
  });
  const ctx = createCoreContext({ name: NAME, files, isDraining: () => lifecycle.draining });
  const server: Server = createServerShell({
    config,
    logger,
    lifecycle,
    dispatch: (route, req) => answerRoute(route, req, ctx),
    metrics: {
      serve: (_req, res) => res.end('metrics'),
      observe: (status, durationMs) => {
        assert.ok(durationMs >= 0 && durationMs < 10_000, `duration ${durationMs}`);
        observed.push(status);
      },
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, lines: logger.lines, observed, lifecycle };
}

const accessLines = (shell: Shell) => shell.lines.filter((l) => l.fields.event === 'access');

/** Send one request and read everything until the server has sent the whole answer's head. */
function rawHead(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      got += chunk;
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(got.slice(0, end + 2));
      }
    });
    socket.on('error', reject);
    socket.write(text);
  });
}

void test('at warn, answers are counted but not logged; refusals are logged with their reason', async (t) => {
  const shell = await startShell(t, 'warn');
  const page = await request(shell.port, '/page.html');
  assert.equal(page.status, 200);
  const etag = String(page.headers.etag);
  assert.equal((await request(shell.port, '/page.html')).status, 200);
  assert.equal((await request(shell.port, '/page.html', { method: 'HEAD' })).status, 200);
  assert.equal((await request(shell.port, '/page.html', { headers: { 'If-None-Match': etag } })).status, 304);
  assert.equal((await request(shell.port, '/nope.html')).status, 404);
  assert.equal((await request(shell.port, '/.secret')).status, 403);
  assert.equal((await rawExchange(shell.port, rawRequest('GET', '/../secret.txt'))).status, 400);
  assert.equal((await request(shell.port, '/healthz')).status, 200);
  assert.equal((await request(shell.port, '/metrics')).body.toString(), 'metrics');

  assert.deepEqual(shell.observed, [200, 200, 200, 304, 404, 403, 400], 'health and scrapes are not counted');
  const lines = accessLines(shell);
  assert.deepEqual(
    lines.map((l) => [l.level, l.fields.status, l.fields.path]),
    [
      ['warn', 403, '/.secret'],
      ['warn', 400, '/../secret.txt'],
    ],
  );
  assert.match(String(lines[0]?.fields.reason), /dotfiles/);
});

void test('at info, every answer has its access line, HEAD with 0 bytes', async (t) => {
  const shell = await startShell(t, 'info');
  const page = await request(shell.port, '/page.html');
  await request(shell.port, '/page.html', { method: 'HEAD' });
  await request(shell.port, '/page.html', { headers: { 'If-None-Match': String(page.headers.etag) } });
  assert.deepEqual(
    accessLines(shell).map((l) => [l.level, l.fields.method, l.fields.status, l.fields.bytes]),
    [
      ['info', 'GET', 200, page.body.length],
      ['info', 'HEAD', 200, 0],
      ['info', 'GET', 304, 0],
    ],
  );
});

void test('a cached file gets the same head as before, header for header and in order', async (t) => {
  const shell = await startShell(t, 'warn');
  for (let i = 0; i < 2; i++) {
    const head = await rawHead(shell.port, 'GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n');
    const lines = head.split('\r\n').filter((l) => l !== '');
    assert.equal(lines[0], 'HTTP/1.1 200 OK');
    assert.deepEqual(
      lines.slice(1).map((l) => l.slice(0, l.indexOf(':'))),
      [
        'Content-Type',
        'Content-Length',
        'ETag',
        'Last-Modified',
        'Cache-Control',
        'X-Served-By',
        'Date',
        'Connection',
        'Keep-Alive',
      ],
    );
    assert.ok(lines.includes(`X-Served-By: ${NAME}`));
    assert.ok(lines.includes('Connection: keep-alive'));
  }
  const notModified = await rawHead(
    shell.port,
    `GET /page.html HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: ${new Date(Date.now() + 3_600_000).toUTCString()}\r\n\r\n`,
  );
  assert.match(notModified, /^HTTP\/1\.1 304 Not Modified\r\nETag: "[0-9a-f]+-[0-9a-f]+"\r\nLast-Modified: /);
  assert.doesNotMatch(notModified, /Content-Length/);
});

void test('while draining, a cached file is answered with Connection: close and the socket closes', async (t) => {
  const shell = await startShell(t, 'warn');
  const conn = await RawConnection.open(shell.port);
  t.after(() => conn.destroy());
  await conn.write('GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await conn.readResponse()).headers.connection, 'keep-alive');
  shell.lifecycle.draining = true;
  await conn.write('GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n');
  const last = await conn.readResponse();
  assert.equal(last.status, 200);
  assert.equal(last.headers.connection, 'close');
  assert.equal(Number(last.headers['content-length']), last.body.length);
  await conn.waitForClose();
  // The kept answer was not changed by the close: the next client still gets keep-alive.
  shell.lifecycle.draining = false;
  const again = await RawConnection.open(shell.port);
  t.after(() => again.destroy());
  await again.write('GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await again.readResponse()).headers.connection, 'keep-alive');
});
