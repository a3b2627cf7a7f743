/**
 * The HTTPS listener's two protocols on real TLS sockets: ALPN decides who serves a connection
 * (HTTP/2 through node's core stream API, HTTP/1.1 through node:http), and an HTTP/2 stream is an
 * exchange like any other: its body and its response go with backpressure both ways, a client
 * that resets it is a 499 the upstream is not blamed for, and an answer given before its body
 * arrived ends it. The listener itself: new credentials take effect for new handshakes, and the
 * connection cap counts every TLS connection, whichever protocol it goes on to speak.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import tls from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { loadTlsCredentials } from '../../src/balancer/tls-credentials.js';
import { TlsListener } from '../../src/balancer/tls-listener.js';
import { startBackends, startBalancer, startHttpServer } from '../helpers/balancer-fleet.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { h2Request, h2Session, makeDevCert, type DevCert } from '../helpers/tls-client.js';
import { delay, waitFor } from '../helpers/wait.js';

function tlsArgs(cert: DevCert, more: string[] = []): string[] {
  return ['--tls-cert', cert.certPath, '--tls-key', cert.keyPath, ...more];
}

/** A TLS connection offering `alpn` (none when empty), closed after the test. */
async function tlsConnect(t: TestContext, port: number, ca: Buffer, alpn: string[]): Promise<tls.TLSSocket> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ca,
    ...(alpn.length > 0 ? { ALPNProtocols: alpn } : {}),
  });
  t.after(() => socket.destroy());
  socket.on('error', () => undefined);
  await once(socket, 'secureConnect');
  return socket;
}

/** Everything the server sends until it closes the connection. */
async function readAll(socket: tls.TLSSocket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

const GET_AND_CLOSE = 'GET /page.html HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';

/** A fill pattern: byte i is i % 251, so a lost, doubled or reordered chunk shows. */
function pattern(length: number, from = 0): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (from + i) % 251;
  return out;
}

void test('ALPN decides: h2 gets an HTTP/2 session, http/1.1 or no ALPN gets HTTP/1.1, on one port', async (t) => {
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 2);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    tlsArgs(cert),
  );

  const h2Socket = await tlsConnect(t, lb.port, cert.cert, ['h2', 'http/1.1']);
  assert.equal(h2Socket.alpnProtocol, 'h2');
  const session = http2.connect(`https://127.0.0.1:${lb.port}`, { createConnection: () => h2Socket });
  session.on('error', () => undefined);
  t.after(() => session.destroy());
  const two = await h2Request(session, '/page.html');
  assert.equal(two.status, 200);
  assert.ok(two.body.length > 1000);

  const h1Socket = await tlsConnect(t, lb.port, cert.cert, ['http/1.1']);
  assert.equal(h1Socket.alpnProtocol, 'http/1.1');
  h1Socket.write(GET_AND_CLOSE);
  const one = await readAll(h1Socket);
  assert.match(one, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(one.includes('</html>'), 'the whole page');

  const plainSocket = await tlsConnect(t, lb.port, cert.cert, []);
  assert.equal(plainSocket.alpnProtocol, false);
  plainSocket.write(GET_AND_CLOSE);
  assert.match(await readAll(plainSocket), /^HTTP\/1\.1 200 OK\r\n/);

  // HTTP/2's connection preface on a connection that chose http/1.1 is not HTTP/1.1: refused.
  const confused = await tlsConnect(t, lb.port, cert.cert, ['http/1.1']);
  confused.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  assert.match(await readAll(confused), /^HTTP\/1\.1 4\d\d /);

  const lines = await waitFor(() => {
    const found = lb.proc.lines.filter((l) => l.event === 'access' && l.url === '/page.html');
    return found.length >= 3 ? found : undefined;
  }, 'an access line for each request');
  assert.ok(lines.every((l) => l.status === 200));
});

void test('an HTTP/2 request body and response both stream with backpressure, whole and in order', async (t) => {
  const cert = makeDevCert(t);
  const size = 32 * 1024 * 1024;
  let upstreamWritten = 0;
  let upstreamDone = false;
  const upstream = await startHttpServer(t, (req, res) => {
    if (req.url === '/healthz') {
      res.end('ok');
      return;
    }
    if (req.method === 'POST') {
      // Reads nothing for a while: the client must be held back, not buffered for.
      req.pause();
      let received = 0;
      let intact = true;
      req.on('data', (chunk: Buffer) => {
        if (!chunk.equals(pattern(chunk.length, received))) intact = false;
        received += chunk.length;
      });
      req.on('end', () => res.end(JSON.stringify({ received, intact })));
      setTimeout(() => req.resume(), 1000);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size });
    const step = 64 * 1024;
    const more = (): void => {
      while (upstreamWritten < size) {
        const chunk = pattern(Math.min(step, size - upstreamWritten), upstreamWritten);
        upstreamWritten += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', more);
          return;
        }
      }
      upstreamDone = true;
      res.end();
    };
    more();
  });
  const lb = await startBalancer(t, [upstream.port], tlsArgs(cert));
  const session = h2Session(t, lb.port, cert.cert);

  // Upload: count what the client got to send while the upstream read nothing.
  const post = session.request({ ':method': 'POST', ':path': '/upload' });
  let sent = 0;
  const step = 64 * 1024;
  const posted = new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    post.on('data', (chunk: Buffer) => chunks.push(chunk));
    post.on('end', () => resolve(Buffer.concat(chunks).toString()));
    post.on('error', reject);
  });
  const writeAll = async (): Promise<void> => {
    for (let offset = 0; offset < size; offset += step) {
      const chunk = pattern(Math.min(step, size - offset), offset);
      const more = post.write(chunk, () => (sent += chunk.length));
      if (!more) await once(post, 'drain');
    }
    post.end();
  };
  const writing = writeAll();
  await delay(700);
  const sentWhileStalled = sent;
  await writing;
  const answer = JSON.parse(await posted) as { received: number; intact: boolean };
  assert.deepEqual(answer, { received: size, intact: true });
  assert.ok(
    sentWhileStalled < size / 2,
    `the client was held back while the upstream read nothing (${sentWhileStalled} of ${size} bytes sent)`,
  );

  // Download: the client reads nothing for a while; the upstream must be held back in turn.
  const get = session.request({ ':path': '/big' });
  get.pause();
  await once(get, 'response');
  await delay(700);
  assert.ok(
    !upstreamDone && upstreamWritten < size,
    `the upstream was held back while the client read nothing (${upstreamWritten} of ${size} bytes written)`,
  );
  let received = 0;
  let intact = true;
  get.on('data', (chunk: Buffer) => {
    if (!chunk.equals(pattern(chunk.length, received))) intact = false;
    received += chunk.length;
  });
  get.resume();
  await once(get, 'end');
  assert.equal(received, size);
  assert.ok(intact, 'every byte in order');
});

void test('an HTTP/2 client that resets its stream mid-response is a 499, and the upstream is not blamed', async (t) => {
  const cert = makeDevCert(t);
  let upstreamCut = false;
  const upstream = await startHttpServer(t, (req, res) => {
    if (req.url === '/healthz') {
      res.end('ok');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    const timer = setInterval(() => res.write('tick\n'), 50);
    res.write('first\n');
    res.on('close', () => {
      clearInterval(timer);
      if (!res.writableFinished) upstreamCut = true;
    });
  });
  const lb = await startBalancer(t, [upstream.port], tlsArgs(cert));
  const session = h2Session(t, lb.port, cert.cert);
  const stream = session.request({ ':path': '/drip' });
  stream.on('error', () => undefined);
  await once(stream, 'data');
  stream.close(http2.constants.NGHTTP2_CANCEL);

  const line = await lb.proc.waitForLine((l) => l.event === 'access' && l.url === '/drip', 'the access line');
  assert.equal(line.status, 499);
  await waitFor(() => upstreamCut || undefined, 'the upstream request to be stopped');
  const member = await lb.upstream(`backend-${upstream.port}`);
  assert.equal(member.failures, 0);
  assert.equal(member.state, 'up');
  await waitFor(async () => ((await lb.status()).requests.inFlight === 0 ? true : undefined), 'in-flight 0');
  // The session carries on.
  assert.equal((await h2Request(session, '/healthz')).status, 200);
});

void test('an HTTP/2 request answered before its body arrived is ended, not left open', async (t) => {
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 1);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    tlsArgs(cert, ['--deny-path', '/private']),
  );
  const session = h2Session(t, lb.port, cert.cert);
  const stream = session.request({ ':method': 'POST', ':path': '/private/upload' });
  stream.on('error', () => undefined);
  // More than HTTP/2's default window, so the client is still sending when the answer comes.
  stream.write(Buffer.alloc(1024 * 1024, 1));
  const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  assert.equal(headers[':status'], 404);
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(stream, 'close');
  assert.match(Buffer.concat(chunks).toString(), /404 Not Found: \/private is not served here/);
  await waitFor(async () => ((await lb.status()).requests.inFlight === 0 ? true : undefined), 'in-flight 0');
  assert.equal((await h2Request(session, '/page.html')).status, 200);
});

void test("an HTTPS/1.1 body that does not arrive within --request-timeout gets the balancer's 408", async (t) => {
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 1);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    tlsArgs(cert, ['--request-timeout', '2s', '--headers-timeout', '1s']),
  );
  const socket = await tlsConnect(t, lb.port, cert.cert, ['http/1.1']);
  socket.write('POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\npart of it');
  const answer = await readAll(socket);
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.match(answer, /not received within 2000ms/);
  const line = await lb.proc.waitForLine(
    (l) => l.event === 'access' && l.method === 'POST',
    'the access line',
  );
  assert.equal(line.status, 408);
  assert.equal(line.upstream, null);
});

void test('new credentials (a reload) serve new handshakes at once; a connection already open keeps its own', async (t) => {
  const [first, second] = [makeDevCert(t), makeDevCert(t)];
  const listener = new TlsListener({
    credentials: loadTlsCredentials(first),
    handshakeTimeoutMs: 2000,
    maxHeaderSize: 16384,
    logger: memoryLogger(),
    onRequest: (_req, res) => res.end(),
    http1: {
      accept: (socket: Socket) => socket.end('HTTP/1.1 204 No Content\r\n\r\n'),
      closeIdleConnections: () => undefined,
      closeAllConnections: () => undefined,
      close: () => undefined,
    },
  });
  listener.server.listen(0, '127.0.0.1');
  await once(listener.server, 'listening');
  t.after(() => {
    listener.closeAllConnections();
    listener.server.close();
  });
  const port = (listener.server.address() as AddressInfo).port;
  const before = await tlsConnect(t, port, first.cert, ['h2']);
  listener.useCredentials(loadTlsCredentials(second));
  const after = await tlsConnect(t, port, second.cert, ['h2']);
  assert.notEqual(
    after.getPeerX509Certificate()?.fingerprint256,
    before.getPeerX509Certificate()?.fingerprint256,
  );
  assert.ok(!before.destroyed, 'the connection made before the reload is still open');
  const refused = tls.connect({ host: '127.0.0.1', port, ca: first.cert });
  t.after(() => refused.destroy());
  const [err] = (await once(refused, 'error')) as [Error & { code?: string }];
  assert.match(String(err.code), /CERT|SIGNATURE|ISSUER/, 'the old certificate is no longer served');
});

void test('the connection cap counts TLS connections whatever they speak, and closes the one over it', async (t) => {
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 1);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    tlsArgs(cert, ['--max-connections', '2']),
  );
  const two = await tlsConnect(t, lb.port, cert.cert, ['h2']);
  const one = await tlsConnect(t, lb.port, cert.cert, ['http/1.1']);
  assert.equal(two.alpnProtocol, 'h2');
  assert.equal(one.alpnProtocol, 'http/1.1');
  await waitFor(
    async () => ((await lb.status()).balancer.connections.open === 2 ? true : undefined),
    'both connections counted',
  );
  const over = tls.connect({ host: '127.0.0.1', port: lb.port, ca: cert.cert });
  t.after(() => over.destroy());
  // once() would reject on the error the client reports for the cut; only the close matters.
  await new Promise<void>((resolve) => {
    over.on('error', () => undefined);
    over.on('close', () => resolve());
  });
  assert.equal(over.alpnProtocol ?? false, false, 'closed before any handshake');
  two.destroy();
  one.destroy();
  await waitFor(
    async () => ((await lb.status()).balancer.connections.open === 0 ? true : undefined),
    'both connections gone from the count',
  );
});
