/**
 * HTTP/2's headers to and from HTTP/1.1 (pure): a request's list as the upstreams get it, and a
 * response head as node's `stream.respond` takes it, checked against node itself where node
 * refuses (a real HTTP/2 session on loopback).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { http1RequestHeaders, http2ResponseHeaders, rawHeaderList } from '../../src/balancer/h2-headers.js';

void test('a request: pseudo-headers go, :authority becomes Host, cookie crumbs join, a body without length is chunked', () => {
  const raw = [':method', 'POST', ':path', '/x', ':authority', 'a.test', 'cookie', 'a=1', 'cookie', 'b=2'];
  assert.deepEqual(http1RequestHeaders(raw, true), [
    'host',
    'a.test',
    'cookie',
    'a=1; b=2',
    'transfer-encoding',
    'chunked',
  ]);
  assert.deepEqual(
    http1RequestHeaders([':authority', 'a.test', 'Host', 'b.test', 'content-length', '3'], true),
    ['Host', 'b.test', 'content-length', '3'],
  );
});

void test('a response head: lower-case names, forbidden fields dropped, Set-Cookie kept apart, other repeats joined', () => {
  const raw = [
    'Content-Type',
    'text/plain',
    'Set-Cookie',
    'a=1',
    'Set-Cookie',
    'b=2',
    'Set-Cookie',
    'c=3',
    'Vary',
    'Accept',
    'vary',
    'Origin',
    'TE',
    'trailers',
    'HTTP2-Settings',
    'AAA',
    'Transfer-Encoding',
    'chunked',
    'Connection',
    'close',
  ];
  assert.deepEqual(http2ResponseHeaders(200, raw), {
    ':status': 200,
    'content-type': 'text/plain',
    'set-cookie': ['a=1', 'b=2', 'c=3'],
    vary: 'Accept, Origin',
  });
  assert.deepEqual(rawHeaderList({ 'Content-Length': 5, 'X-A': ['1', '2'], Gone: undefined }), [
    'Content-Length',
    '5',
    'X-A',
    '1',
    'X-A',
    '2',
  ]);
});

void test("node's stream.respond takes every head made from an HTTP/1.1 list, however odd", async (t) => {
  const server = http2.createServer();
  const heads: Record<string, string | string[] | number>[] = [
    http2ResponseHeaders(200, ['Content-Length', '0', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'TE', 'x']),
    http2ResponseHeaders(204, ['Keep-Alive', 'timeout=5', 'Upgrade', 'h2c', 'Proxy-Connection', 'x']),
    http2ResponseHeaders(200, ['Date', 'Mon, 07 Dec 2026 07:00:00 GMT', 'X-Many', 'a', 'X-Many', 'b']),
  ];
  let next = 0;
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    const head = heads[next++] ?? { ':status': 500 };
    stream.respond(head, { endStream: true });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  t.after(() => {
    session.destroy();
    server.close();
  });
  const statuses: number[] = [];
  for (let i = 0; i < heads.length; i++) {
    const req = session.request({ ':path': '/' });
    const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
    statuses.push(Number(headers[':status']));
    req.resume();
    await once(req, 'close');
  }
  assert.deepEqual(statuses, [200, 204, 200]);
});
