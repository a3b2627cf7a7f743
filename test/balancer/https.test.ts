import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { startBackends, startBalancer, startHttpServer, waitForState } from '../helpers/balancer-fleet.js';
import { ROOT, runNode } from '../helpers/processes.js';
import { h2Request, h2Session, https1, makeDevCert, type DevCert } from '../helpers/tls-client.js';
import { assertWithinASecond, closedAfter } from '../helpers/timing.js';
import { openEcho } from '../helpers/ws-client.js';

const PAGE = readFileSync(path.join(ROOT, 'public', 'page.html'));

function tlsArgs(cert: DevCert, more: string[] = []): string[] {
  return ['--tls-cert', cert.certPath, '--tls-key', cert.keyPath, ...more];
}

void test('HTTPS/1.1 and HTTP/2 clients get the exact bytes of /page.html and POST bodies arrive whole', async (t) => {
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 4);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    tlsArgs(cert),
  );
  const body = Buffer.alloc(300_000, 7);

  const one = await https1(lb.port, cert.cert, '/page.html');
  assert.equal(one.status, 200);
  assert.equal(one.protocol, 'http/1.1');
  assert.deepEqual(one.body, PAGE);
  const posted1 = await https1(lb.port, cert.cert, '/upload', { method: 'POST', body });
  assert.deepEqual(JSON.parse(posted1.body.toString()), { received: body.length });

  const session = h2Session(t, lb.port, cert.cert);
  const served = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const two = await h2Request(session, '/page.html');
    assert.equal(two.status, 200);
    assert.deepEqual(two.body, PAGE);
    served.add(String(two.headers['x-served-by']));
  }
  assert.equal(served.size, 4, 'HTTP/2 streams of one session spread over every backend');
  assert.equal(session.alpnProtocol, 'h2');
  const posted2 = await h2Request(session, '/upload', { method: 'POST', body });
  assert.equal(posted2.status, 200);
  assert.deepEqual(JSON.parse(posted2.body.toString()), { received: body.length });
  // Access lines are written in batches (up to 100 ms later): waited for, not looked up.
  await lb.proc.waitForLine(
    (l) => l.event === 'access' && l.method === 'POST' && l.status === 200,
    'the access line of the HTTP/2 POST',
  );
  const status = await lb.status();
  assert.equal(status.balancer.scheme, 'https');
});

void test('curl --http2 gets the exact bytes of /page.html over HTTPS', async (t) => {
  // .ci/run installs curl; without it this test fails rather than passes unseen.
  assert.equal(spawnSync('curl', ['--version']).status, 0, 'curl is not installed (apt-get install curl)');
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 2);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    tlsArgs(cert),
  );
  const out = path.join(cert.folder, 'page.out');
  const version = execFileSync('curl', [
    '--silent',
    '--http2',
    '--cacert',
    cert.certPath,
    '--output',
    out,
    '--write-out',
    '%{http_version} %{http_code}',
    `https://127.0.0.1:${lb.port}/page.html`,
  ]).toString();
  assert.equal(version, '2 200');
  assert.deepEqual(readFileSync(out), PAGE);
});

void test('over HTTP/2 a refused upstream is retried elsewhere, and an empty pool is a 503 with a reason', async (t) => {
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 2);
  // Slow checks: the dead backend must be found by the request path, as over HTTP/1.1.
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    tlsArgs(cert, ['--health-interval', '10s']),
  );
  const session = h2Session(t, lb.port, cert.cert);
  await backends[0]!.proc.stop('SIGKILL');
  for (let i = 0; i < 4; i++) {
    const res = await h2Request(session, '/page.html');
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-served-by'], 'b2');
  }
  await waitForState(lb, `backend-${backends[0]!.port}`, 'down');
  await lb.proc.waitForLine((l) => l.event === 'access' && Number(l.retries) === 1, 'a retried request');

  await backends[1]!.proc.stop('SIGKILL');
  const failed = await h2Request(session, '/page.html');
  assert.ok(failed.status === 502 || failed.status === 503, `status ${failed.status}`);
  await waitForState(lb, `backend-${backends[1]!.port}`, 'down');
  const none = await h2Request(session, '/page.html');
  assert.equal(none.status, 503);
  assert.ok(Number(none.headers['retry-after']) >= 1);
  assert.match(none.body.toString(), /no upstream is available/);
});

void test('upstreams get HTTP/1.1 with X-Forwarded-Proto https, Host from :authority and one Cookie header', async (t) => {
  const cert = makeDevCert(t);
  let seen: { version: string; headers: Record<string, unknown>; raw: string[] } | undefined;
  const upstream = await startHttpServer(t, (req, res) => {
    if (req.url === '/healthz') {
      res.end('ok');
      return;
    }
    seen = { version: req.httpVersion, headers: req.headers, raw: req.rawHeaders };
    res.end('seen');
  });
  const lb = await startBalancer(t, [upstream.port], tlsArgs(cert));
  const session = h2Session(t, lb.port, cert.cert);
  const res = await h2Request(session, '/look', {
    headers: { cookie: ['a=1', 'b=2'], 'x-forwarded-proto': 'http' },
  });
  assert.equal(res.status, 200);
  assert.ok(seen !== undefined);
  assert.equal(seen.version, '1.1');
  assert.equal(seen.headers['x-forwarded-proto'], 'https');
  assert.equal(seen.headers.host, `127.0.0.1:${lb.port}`);
  assert.equal(seen.headers.cookie, 'a=1; b=2');
  assert.ok(!seen.raw.some((name) => name.startsWith(':')), `no pseudo-headers: ${seen.raw.join(' ')}`);

  const one = await https1(lb.port, cert.cert, '/look');
  assert.equal(one.status, 200);
  assert.equal(seen.headers['x-forwarded-proto'], 'https');
});

void test('wss:// WebSockets tunnel through the HTTPS listener', async (t) => {
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 2);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    tlsArgs(cert),
  );
  const client = await openEcho(t, `wss://127.0.0.1:${lb.port}/ws/echo`, { ca: cert.cert });
  assert.match(client.hello.hello, /^b[12]$/);
  assert.equal(await client.echo('secure'), 'secure');
});

void test('a missing, unreadable-as-PEM or mismatched certificate and key exit 2 naming the file and why', async (t) => {
  const cert = makeDevCert(t);
  const other = makeDevCert(t);
  const notPem = path.join(cert.folder, 'not.pem');
  writeFileSync(notPem, 'hello\n');
  const base = ['--port', '0', '--admin-port', '0', '--discovery', 'static', '--upstreams', '127.0.0.1:9'];
  const cases: [string[], RegExp][] = [
    [
      ['--tls-cert', path.join(cert.folder, 'nope.pem'), '--tls-key', cert.keyPath],
      /--tls-cert .*nope\.pem: no such file/,
    ],
    [['--tls-cert', cert.certPath, '--tls-key', notPem], /--tls-key .*not\.pem: holds no PEM private key/],
    [['--tls-cert', notPem, '--tls-key', cert.keyPath], /--tls-cert .*not\.pem: holds no PEM certificate/],
    [['--tls-cert', cert.certPath, '--tls-key', other.keyPath], /does not belong to the certificate/],
    [['--tls-cert', cert.certPath], /given without --tls-key/],
  ];
  for (const [args, message] of cases) {
    const run = await runNode('balancer', [...base, ...args]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, message);
  }
});

void test('TLS clients that send nothing, garbage or plain HTTP are cut off with a log line, and HTTPS carries on', async (t) => {
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 1);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    tlsArgs(cert, ['--tls-handshake-timeout', '300ms']),
  );
  const cutOff = (send: Buffer | null): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = net.connect(lb.port, '127.0.0.1', () => {
        if (send !== null) socket.write(send);
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('the connection was left open'));
      }, 5000);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.resume();
    });
  await cutOff(null);
  await cutOff(Buffer.from('\x16\x03\x01garbage garbage garbage'));
  await cutOff(Buffer.from('GET /page.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
  await lb.proc.waitForLine((l) => l.event === 'tls-error' && /handshake timeout/.test(l.message), 'silence');
  await lb.proc.waitForLine((l) => l.event === 'tls-error' && /plain HTTP/.test(l.message), 'plain HTTP');
  assert.ok(lb.proc.lines.filter((l) => l.event === 'tls-error').length >= 3);
  const page = await https1(lb.port, cert.cert, '/page.html');
  assert.deepEqual(page.body, PAGE);
});

void test("a failed TLS handshake's line names the client's address and port, even once its socket is gone", async (t) => {
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 1);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    tlsArgs(cert, ['--tls-handshake-timeout', '300ms']),
  );
  /** Connects, sends `send` (or nothing), and resolves with its own port once the balancer cut it. */
  const cutOff = (send: string | null): Promise<number> =>
    new Promise((resolve, reject) => {
      const socket = net.connect(lb.port, '127.0.0.1', () => {
        if (send !== null) socket.write(send);
      });
      t.after(() => socket.destroy());
      const timer = setTimeout(() => reject(new Error('the connection was left open')), 5000);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(own);
      });
      let own = 0;
      socket.once('connect', () => (own = socket.localPort ?? 0));
      socket.resume();
    });
  // Plain HTTP to the HTTPS port, and a client that never starts a handshake (its socket is
  // destroyed by the handshake timeout before the error is reported).
  const plainPort = await cutOff('GET /page.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const silentPort = await cutOff(null);
  for (const [port, what] of [
    [plainPort, /plain HTTP/],
    [silentPort, /handshake timeout/],
  ] as const) {
    const line = await lb.proc.waitForLine(
      (l) => l.event === 'tls-error' && what.test(l.message) && l.client === `127.0.0.1:${port}`,
      `a tls-error line naming 127.0.0.1:${port}`,
    );
    assert.match(line.message, new RegExp(`^TLS handshake from 127\\.0\\.0\\.1:${port} failed: `));
  }
});

void test('an HTTPS/1.1 client that sends half a request is cut within a second of --headers-timeout, as on the plain listener', async (t) => {
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 1);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    tlsArgs(cert, ['--headers-timeout', '2s']),
  );
  const socket = tls.connect({
    host: '127.0.0.1',
    port: lb.port,
    ca: cert.cert,
    ALPNProtocols: ['http/1.1'],
  });
  t.after(() => socket.destroy());
  socket.on('error', () => undefined);
  await once(socket, 'secureConnect');
  const started = Date.now();
  socket.write('GET /page.html HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  // node's own check of a secure server runs every 30 s: the cut came up to 30 s late.
  let timer: NodeJS.Timeout | undefined;
  const cut = await Promise.race([
    closedAfter(socket, started),
    new Promise<number>((resolve) => (timer = setTimeout(() => resolve(Infinity), 8000))),
  ]);
  clearTimeout(timer);
  assertWithinASecond('the cut', cut, 2000);
});

void test('--http-redirect-port answers 308 to the same path on HTTPS', async (t) => {
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 1);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    tlsArgs(cert, ['--http-redirect-port', '0']),
  );
  const line = lb.proc.lines.find((l) => l.event === 'listening' && l.listener === 'redirect');
  const res = await fetch(`http://127.0.0.1:${Number(line?.port)}/page.html?x=1`, { redirect: 'manual' });
  assert.equal(res.status, 308);
  assert.equal(res.headers.get('location'), `https://127.0.0.1:${lb.port}/page.html?x=1`);
});

void test('a draining balancer sends GOAWAY to HTTP/2 sessions and finishes the stream in flight', async (t) => {
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 1);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    tlsArgs(cert, ['--grace-ms', '3000']),
  );
  const session = h2Session(t, lb.port, cert.cert);
  assert.equal((await h2Request(session, '/page.html')).status, 200);
  const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
  const slow = h2Request(session, '/work?ms=150');
  await new Promise((r) => setTimeout(r, 50));
  const exited = lb.proc.stop('SIGTERM', 8000);
  await goaway;
  const res = await slow;
  assert.equal(res.status, 200);
  assert.equal((await exited).code, 0);
});
