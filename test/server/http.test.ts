/**
 * Both file servers as real processes on ephemeral ports, through one table of requests: every
 * route, HEAD, 304, 405, bytes identical to the files on disk, every traversal spelling, bad input
 * over a raw socket, keep-alive reuse and HTTP/1.0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { startNode, type StartedProcess } from '../helpers/processes.js';
import { RawConnection, rawExchange, rawRequest, request, type RawResponse } from '../helpers/raw-http.js';
import { makeServedFolder, TRAVERSALS_400, type ServedFolder } from '../helpers/served-folder.js';
import { waitFor } from '../helpers/wait.js';

const KINDS = ['backend', 'threaded'] as const;
const MAX_BODY = 4096;

async function start(kind: (typeof KINDS)[number], folder: ServedFolder): Promise<StartedProcess> {
  const args = ['--port', '0', '--root', folder.root, '--max-body-bytes', String(MAX_BODY)];
  args.push('--work-cap-ms', '1000', '--headers-timeout', '600', '--request-timeout', '5000');
  if (kind === 'threaded') args.push('--threads', '2', '--name', 'threaded-under-test');
  return startNode(kind, args);
}

const FILES: Array<[string, string, string]> = [
  ['/', 'page.html', 'text/html; charset=utf-8'],
  ['/page.html', 'page.html', 'text/html; charset=utf-8'],
  ['/images/small.jpg', 'images/small.jpg', 'image/jpeg'],
  ['/images/large.jpg', 'images/large.jpg', 'image/jpeg'],
  ['/favicon.ico', 'favicon.ico', 'image/vnd.microsoft.icon'],
  ['/files/1mb.bin', 'files/1mb.bin', 'application/octet-stream'],
];

/** [request target, expected status]: none may ever return the secret kept outside root. */
const TRAVERSALS: Array<[string, number]> = [
  ...TRAVERSALS_400.map((target): [string, number] => [target, 400]),
  ['/%252e%252e/secret.txt', 404],
  ['/%252e%252e%252fsecret.txt', 404],
  ['http://127.0.0.1/../secret.txt', 400],
  ['/.secret', 403],
  ['/escape.txt', 403],
  ['/escape-dir/secret.txt', 403],
  ['/../public-evil/secret.txt', 400],
];

for (const kind of KINDS) {
  void test(`${kind}: routes, files and bad input`, async (t) => {
    const folder = await makeServedFolder();
    t.after(() => folder.remove());
    const server = await start(kind, folder);
    t.after(() => server.stop());
    const name = kind === 'backend' ? 'backend-0' : 'threaded-under-test';
    const port = server.port;

    await t.test('every file comes back byte for byte with its type, length and validators', async () => {
      for (const [target, file, type] of FILES) {
        const onDisk = await fs.readFile(path.join(folder.root, file));
        const res = await request(port, target);
        assert.equal(res.status, 200, target);
        assert.equal(res.headers['content-type'], type, target);
        assert.equal(Number(res.headers['content-length']), onDisk.length, target);
        assert.ok(res.body.equals(onDisk), `${target}: body differs from ${file} on disk`);
        assert.equal(res.headers['x-served-by'], name);
        assert.match(String(res.headers.etag), /^"[0-9a-f]+-[0-9a-f]+"$/);
        assert.equal(Date.parse(String(res.headers['last-modified'])) > 0, true);
        assert.ok(res.headers['cache-control'], 'Cache-Control is set');
      }
    });

    await t.test('HEAD gives the headers of GET and no body', async () => {
      const conn = await RawConnection.open(port);
      t.after(() => conn.destroy());
      await conn.write('HEAD /images/large.jpg HTTP/1.1\r\nHost: x\r\n\r\n');
      const head = await conn.readResponse({ head: true });
      const size = (await fs.stat(path.join(folder.root, 'images/large.jpg'))).size;
      assert.equal(head.status, 200);
      assert.equal(Number(head.headers['content-length']), size);
      // Had a body been sent, the next response would not parse from where HEAD's ended.
      await conn.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const next = await conn.readResponse();
      assert.equal(next.status, 200);
      assert.equal((JSON.parse(next.body.toString()) as { status: string }).status, 'ok');
    });

    await t.test('a current copy gets 304 by ETag or by date, a stale one gets the file', async () => {
      const first = await request(port, '/images/small.jpg');
      const etag = String(first.headers.etag);
      const lastModified = String(first.headers['last-modified']);
      const byTag = await request(port, '/images/small.jpg', { headers: { 'If-None-Match': etag } });
      assert.equal(byTag.status, 304);
      assert.equal(byTag.body.length, 0);
      assert.equal(byTag.headers.etag, etag);
      assert.equal(byTag.headers['x-served-by'], name);
      const weakList = await request(port, '/images/small.jpg', {
        headers: { 'If-None-Match': `"x", W/${etag}` },
      });
      assert.equal(weakList.status, 304);
      const byDate = await request(port, '/images/small.jpg', {
        headers: { 'If-Modified-Since': lastModified },
      });
      assert.equal(byDate.status, 304);
      const older = new Date(Date.parse(lastModified) - 60_000).toUTCString();
      const stale = await request(port, '/images/small.jpg', { headers: { 'If-Modified-Since': older } });
      assert.equal(stale.status, 200);
      const otherTag = await request(port, '/images/small.jpg', { headers: { 'If-None-Match': '"other"' } });
      assert.equal(otherTag.status, 200);
      assert.equal(otherTag.body.length, first.body.length);
    });

    await t.test('missing files and folders are 404 with a reason', async () => {
      for (const target of ['/nope.html', '/images', '/images/', '/page.html/x']) {
        const res = await request(port, target);
        assert.equal(res.status, 404, target);
        assert.match(res.body.toString(), /^404 Not Found: /);
        assert.equal(res.headers['x-served-by'], name);
      }
    });

    await t.test('other methods get 405 with Allow', async () => {
      for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
        const res = await request(port, '/page.html', { method });
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.allow, 'GET, HEAD, POST');
        assert.equal(res.headers['x-served-by'], name);
      }
    });

    await t.test('/healthz answers who is serving', async () => {
      const res = await request(port, '/healthz');
      assert.equal(res.status, 200);
      const body = JSON.parse(res.body.toString()) as Record<string, unknown>;
      assert.equal(body.status, 'ok');
      assert.equal(body.name, name);
      assert.equal(body.pid, server.pid);
      assert.equal(typeof body.uptimeMs, 'number');
      assert.equal(res.headers['cache-control'], 'no-store');
    });

    await t.test('/work hashes for the time asked and refuses bad or over-cap ms', async () => {
      const res = await request(port, '/work?ms=30');
      assert.equal(res.status, 200);
      const body = JSON.parse(res.body.toString()) as { ms: number; elapsedMs: number; rounds: number };
      assert.equal(body.ms, 30);
      assert.ok(body.elapsedMs >= 30, `elapsed ${body.elapsedMs}`);
      assert.ok(body.rounds > 0);
      assert.match(String(res.headers['server-timing']), /^work;dur=\d/);
      for (const target of ['/work', '/work?ms=abc', '/work?ms=0', '/work?ms=1001']) {
        const bad = await request(port, target);
        assert.equal(bad.status, 400, target);
        assert.match(bad.body.toString(), /ms/);
      }
    });

    await t.test('POST answers the number of bytes received, plain or chunked', async () => {
      const plain = await request(port, '/upload', { method: 'POST', body: Buffer.alloc(1000, 1) });
      assert.equal(plain.status, 200);
      assert.deepEqual(JSON.parse(plain.body.toString()), { received: 1000 });
      const empty = await request(port, '/upload', { method: 'POST' });
      assert.deepEqual(JSON.parse(empty.body.toString()), { received: 0 });
      const chunked = await rawExchange(
        port,
        'POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
      );
      assert.deepEqual(JSON.parse(chunked.body.toString()), { received: 11 });
    });

    await t.test('a body over the limit gets 413 and the connection closes', async () => {
      const declared = await rawExchange(
        port,
        `POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: ${MAX_BODY * 10}\r\n\r\n`,
      );
      assert.equal(declared.status, 413);
      assert.equal(declared.headers.connection, 'close');
      const size = MAX_BODY + 500;
      const chunked = await rawExchange(
        port,
        `POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${size.toString(16)}\r\n${'b'.repeat(size)}\r\n0\r\n\r\n`,
      );
      assert.equal(chunked.status, 413);
      assert.match(chunked.body.toString(), /over 4096 bytes/);
      // A client that leaves halfway through its body gets nothing and harms nothing.
      const leaver = await RawConnection.open(port);
      await leaver.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789');
      leaver.destroy();
      assert.equal((await request(port, '/healthz')).status, 200);
    });

    await t.test('no spelling of path traversal reads outside the root', async () => {
      for (const [target, status] of TRAVERSALS) {
        const res = await rawExchange(port, rawRequest('GET', target));
        assert.equal(res.status, status, `${target}: ${res.body.toString()}`);
        assert.ok(!res.body.toString().includes(folder.secret), `${target} leaked the secret`);
        assert.equal(res.headers['x-served-by'], name, target);
      }
      const inside = await request(port, '/alias.html');
      assert.equal(inside.status, 200, 'a symlink inside the root is served');
    });

    await t.test('every refusal gets one access line with its reason', async () => {
      const line = await server.waitForLine(
        (l) => l.event === 'access' && l.path === '/escape.txt',
        'the access line of /escape.txt',
      );
      assert.equal(line.level, 'warn');
      assert.equal(line.status, 403);
      assert.equal(line.method, 'GET');
      assert.equal(typeof line.bytes, 'number');
      assert.equal(typeof line.ms, 'number');
      assert.match(String(line.reason), /outside the served folder/);
      const ok = await server.waitForLine(
        (l) => l.event === 'access' && l.path === '/favicon.ico',
        'favicon line',
      );
      assert.equal(ok.level, 'info');
      assert.equal(ok.status, 200);
    });

    await t.test('a malformed request line gets 400 and the socket is closed', async () => {
      for (const garbage of ['GARBAGE\r\n\r\n', 'GET / HTTP/9.x\r\n\r\n', 'GET\x00 / HTTP/1.1\r\n\r\n']) {
        const conn = await RawConnection.open(port);
        t.after(() => conn.destroy());
        await conn.write(garbage);
        const res = await conn.readResponse();
        assert.equal(res.status, 400, JSON.stringify(garbage));
        assert.equal(res.headers.connection, 'close');
        assert.equal(res.headers['x-served-by'], name);
        await conn.waitForClose();
      }
      await server.waitForLine((l) => l.event === 'client-error' && l.status === 400, 'a client-error line');
    });

    await t.test('headers over the limit get 431', async () => {
      const res = await rawExchange(
        port,
        `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      assert.equal(res.status, 431);
      assert.equal(res.headers.connection, 'close');
    });

    await t.test('a client trickling its headers is cut off with 408', async () => {
      const conn = await RawConnection.open(port);
      t.after(() => conn.destroy());
      await conn.write('GET / HTTP/1.1\r\nHost: x\r\n');
      // One header line every 100ms would go on for 5 s; the 600ms headers timeout must end it first.
      for (let i = 0; i < 50 && !conn.closed; i++) {
        await conn.write(`X-Slow-${i}: y\r\n`).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(conn.closed, true, 'the server closed the connection');
      const res = await conn.readResponse();
      assert.equal(res.status, 408);
    });

    await t.test('a keep-alive connection serves several requests', async () => {
      const conn = await RawConnection.open(port);
      t.after(() => conn.destroy());
      const answers: RawResponse[] = [];
      for (const target of ['/page.html', '/images/small.jpg', '/healthz']) {
        await conn.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
        answers.push(await conn.readResponse());
      }
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200],
      );
      assert.equal(answers[0]?.headers.connection, 'keep-alive');
      assert.equal(conn.closed, false);
      // Two requests sent at once (pipelined) are answered in order.
      await conn.write(
        'GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\nGET /page.html HTTP/1.1\r\nHost: x\r\n\r\n',
      );
      assert.equal((await conn.readResponse()).headers['content-type'], 'image/vnd.microsoft.icon');
      assert.equal((await conn.readResponse()).headers['content-type'], 'text/html; charset=utf-8');
    });

    await t.test('an HTTP/1.0 client gets one response and the connection closes (ApacheBench)', async () => {
      const conn = await RawConnection.open(port);
      t.after(() => conn.destroy());
      await conn.write('GET /page.html HTTP/1.0\r\n\r\n');
      const res = await conn.readResponse();
      assert.equal(res.status, 200);
      assert.equal(res.headers.connection, 'close');
      assert.equal(res.body.length, (await fs.stat(path.join(folder.root, 'page.html'))).size);
      await conn.waitForClose();
      const keep = await RawConnection.open(port);
      t.after(() => keep.destroy());
      await keep.write('GET /page.html HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      assert.equal((await keep.readResponse()).headers.connection, 'keep-alive');
      await keep.write('GET /healthz HTTP/1.0\r\n\r\n');
      assert.equal((await keep.readResponse()).status, 200);
    });

    await t.test('a changed file is served in its new version', async () => {
      const file = path.join(folder.root, 'changing.txt');
      await fs.writeFile(file, 'version one');
      assert.equal((await request(port, '/changing.txt')).body.toString(), 'version one');
      await fs.writeFile(file, 'version two, longer');
      // The backend trusts its cache for 1 s, then checks the disk.
      await waitFor(
        async () => (await request(port, '/changing.txt')).body.toString() === 'version two, longer',
        'the new version',
        { timeoutMs: 5000, intervalMs: 100 },
      );
    });

    await t.test(
      'a file that shrinks while it is streamed: the connection is cut and the failure logged',
      async () => {
        const size = 32 * 1024 * 1024;
        const file = path.join(folder.root, 'files', 'shrinking.bin');
        await fs.writeFile(file, Buffer.alloc(size, 7));
        const socket = net.connect({ port, host: '127.0.0.1' });
        t.after(() => socket.destroy());
        let received = 0;
        const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        socket.on('error', () => undefined);
        const first = new Promise<void>((resolve) => socket.once('data', () => resolve()));
        socket.on('data', (chunk: Buffer) => (received += chunk.length));
        socket.write('GET /files/shrinking.bin HTTP/1.1\r\nHost: x\r\n\r\n');
        // Stop reading once the answer has begun: the server is then mid-file, held by backpressure.
        await first;
        socket.pause();
        await fs.truncate(file, 0);
        socket.resume();
        await closed;
        assert.ok(received > 0 && received < size, `received ${received} of ${size} bytes`);
        const failed = await server.waitForLine((l) => l.event === 'stream-error', 'the stream-error line');
        assert.equal(failed.level, 'warn');
        assert.match(failed.message, /^GET \/files\/shrinking\.bin: sending the file failed: .*shrank/);
        const line = await server.waitForLine(
          (l) => l.event === 'access' && l.path === '/files/shrinking.bin',
          'the access line of the cut transfer',
        );
        assert.equal(line.reason, 'the client left before the end');
        await fs.rm(file);
      },
    );

    await t.test('none of the above crashed or stopped the server', async () => {
      const res = await request(port, '/healthz');
      assert.equal(res.status, 200);
      assert.equal(server.child.exitCode, null);
    });
  });
}
