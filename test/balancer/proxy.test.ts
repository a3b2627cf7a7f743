import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { RawConnection, rawExchange, request } from '../helpers/raw-http.js';
import {
  getJson,
  startBackends,
  balancerOn,
  REQUEST_PATHS,
  startHttpServer,
  startTcpServer,
} from '../helpers/balancer-fleet.js';
import { waitFor } from '../helpers/wait.js';

for (const engine of REQUEST_PATHS) {
  const startBalancer = balancerOn(engine);

  void test(`${engine}: eight sequential requests visit four real backends in round-robin order`, async (t) => {
    const backends = await startBackends(t, 4);
    const lb = await startBalancer(
      t,
      backends.map((b) => b.port),
    );
    const servedBy: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await request(lb.port, '/page.html');
      assert.equal(res.status, 200);
      assert.match(res.body.toString('utf8'), /<html/i);
      servedBy.push(String(res.headers['x-served-by']));
    }
    assert.deepEqual(servedBy, ['b1', 'b2', 'b3', 'b4', 'b1', 'b2', 'b3', 'b4']);
    assert.equal((await lb.status()).balancer.proxyEngine, engine.split('@')[0]);

    // The access log shows the turns too, one line per request, naming the upstream.
    const access = await waitFor(() => {
      const lines = lb.proc.lines.filter((l) => l.event === 'access');
      return lines.length >= 8 ? lines : undefined;
    }, 'eight access lines');
    const names = backends.map((b) => `backend-${b.port}`);
    assert.deepEqual(
      access.map((l) => l.upstream),
      [...names, ...names],
    );
    assert.match(
      access[0]?.message ?? '',
      /^GET \/page\.html -> backend-\d+ 200 [\d.,]+ m?s \d+B from 127\.0\.0\.1 host=\S+ - id=\S+$/,
    );
    assert.equal(access[0]?.status, 200);
  });

  void test(`${engine}: the admin listener reports every upstream; the public port does not serve the status`, async (t) => {
    const backends = await startBackends(t, 2);
    const lb = await startBalancer(
      t,
      backends.map((b) => b.port),
    );
    for (let i = 0; i < 4; i++) assert.equal((await request(lb.port, '/page.html')).status, 200);

    const status = await lb.status();
    assert.equal(status.pool.size, 2);
    assert.equal(status.pool.available, 2);
    assert.equal(status.balancer.discovery, 'static');
    for (const [i, u] of status.upstreams.entries()) {
      assert.equal(u.address, `127.0.0.1:${backends[i]?.port}`);
      assert.equal(u.state, 'up');
      assert.equal(u.served, 2);
      assert.equal(u.inFlight, 0);
      assert.equal(u.failures, 0);
      assert.equal(u.lastCheck?.ok, true);
      assert.equal(typeof u.lastCheck?.latencyMs, 'number');
      assert.ok(u.since > 0);
    }
    const publicAnswer = await request(lb.port, '/__lb/status');
    assert.equal(publicAnswer.status, 404, 'proxied to a backend, which has no such file');
    assert.notEqual(publicAnswer.headers['x-served-by'], 'balancer');

    const health = (await getJson(lb.adminPort, '/healthz')) as { status: string; available: number };
    assert.deepEqual([health.status, health.available], ['ok', 2]);
    const lines = lb.proc.lines.filter((l) => l.event === 'listening');
    assert.equal(lines[0]?.listener, undefined, 'the public listener is announced first');
    assert.equal(lines[1]?.listener, 'admin');
    assert.ok(lb.proc.lines.some((l) => l.event === 'discovery' && l.kind === 'static'));
  });

  void test(`${engine}: forwarded headers are set, hop-by-hop headers dropped, and Host never picks the target`, async (t) => {
    const seen: IncomingHttpHeaders[] = [];
    const echo = await startHttpServer(t, (req, res) => {
      if (req.url !== '/healthz') seen.push(req.headers);
      res.writeHead(200, {
        'Content-Type': 'text/plain',
        'X-Served-By': 'echo',
        'X-Internal': 'hidden',
        Connection: 'X-Internal',
      });
      res.end('ok');
    });
    const lb = await startBalancer(t, [echo.port]);
    const res = await request(lb.port, '/a?b=1', {
      headers: {
        Host: 'evil.example:1234',
        'X-Forwarded-For': '6.6.6.6',
        'Proxy-Authorization': 'Basic secret',
        TE: 'trailers',
        Connection: 'close, X-Drop-Me',
        'X-Drop-Me': '1',
      },
    });
    assert.equal(res.status, 200);
    assert.equal(
      res.headers['x-internal'],
      undefined,
      'a header the upstream named in Connection is dropped',
    );
    const h = seen.at(-1);
    assert.ok(h);
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], 'evil.example:1234');
    assert.equal(h.host, 'evil.example:1234', 'Host is passed on, but only the pool picks where');
    assert.equal(h['proxy-authorization'], undefined);
    assert.equal(h.te, undefined);
    assert.equal(h['x-drop-me'], undefined);
  });

  void test(`${engine}: smuggling attempts, malformed and oversize requests are answered by the balancer itself`, async (t) => {
    let reached = 0;
    const echo = await startHttpServer(t, (req, res) => {
      if (req.url !== '/healthz') reached++;
      req.resume();
      res.end('ok');
    });
    const lb = await startBalancer(t, [echo.port]);
    const cases: [string, string, number][] = [
      [
        'CL+TE',
        'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        400,
      ],
      [
        'duplicate CL',
        'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
        400,
      ],
      ['TE not chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc', 400],
      ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
      ['garbage', 'HELLO THERE\r\n\r\n', 400],
      ['bad target', 'GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['no Host', 'GET / HTTP/1.1\r\n\r\n', 400],
      // Asterisk-form asks about the server as a whole; nginx answers it with 400 too.
      ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['huge header', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ];
    for (const [what, raw, status] of cases) {
      const res = await rawExchange(lb.port, raw);
      assert.equal(res.status, status, what);
      assert.match(res.body.toString('utf8'), new RegExp(`^${status} `), `${what}: the body says why`);
    }
    assert.equal(reached, 0, 'none of them reached the upstream');
    const upstream = (await lb.status()).upstreams[0];
    assert.equal(upstream?.state, 'up', 'refused requests never count against the upstream');
    assert.equal(upstream.failures, 0);

    // A well-formed request on the same balancer still works, and absolute-form targets are fine.
    const ok = await rawExchange(
      lb.port,
      'GET http://other.example/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    assert.equal(ok.status, 200);
    assert.equal(reached, 1);
    const refusals = lb.proc.lines.filter((l) => l.event === 'own-answer' || l.event === 'client-error');
    assert.ok(refusals.length >= cases.length, 'one log line per refusal');
  });

  void test(`${engine}: an HTTP/1.0 request without Host reaches an upstream that requires one, with the upstream's address as Host`, async (t) => {
    let host: string | undefined;
    // node:http's server with its defaults refuses an HTTP/1.1 request without Host (400).
    const upstream = await startHttpServer(t, (req, res) => {
      if (req.url !== '/healthz') host = req.headers.host;
      res.end('ok');
    });
    const lb = await startBalancer(t, [upstream.port]);
    const res = await rawExchange(lb.port, 'GET /old HTTP/1.0\r\n\r\n');
    assert.equal(res.status, 200, res.body.toString('latin1'));
    assert.ok(host !== undefined && host.endsWith(`:${upstream.port}`), `Host at the upstream: ${host}`);
  });

  void test(`${engine}: pipelined requests reach the upstream in the order sent and are answered in order; queued ones of a client that left are accounted for`, async (t) => {
    const arrivals: string[] = [];
    const upstream = await startHttpServer(t, (req, res) => {
      if (req.url === '/healthz') {
        res.end('ok');
        return;
      }
      arrivals.push(`${req.method} ${req.url}`);
      if (req.url === '/hold') return; // never answered
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      // The POST is answered a moment late: time for a request behind it to overtake it.
      req.on('end', () =>
        setTimeout(
          () => res.end(`${req.method} ${req.url} ${Buffer.concat(chunks).toString('latin1')}`),
          req.method === 'POST' ? 200 : 0,
        ),
      );
    });
    const lb = await startBalancer(t, [upstream.port]);

    // A chunked POST and two GETs in one write: the POST's body is still being read when node
    // hands over the GETs.
    const conn = await RawConnection.openFor(t, lb.port);
    await conn.write(
      'POST /first HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' +
        'GET /second HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' +
        'GET /third HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );
    const bodies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await conn.readResponse({ timeoutMs: 8000 });
      assert.equal(res.status, 200, res.body.toString('latin1'));
      bodies.push(res.body.toString('latin1'));
    }
    assert.deepEqual(arrivals, ['POST /first', 'GET /second', 'GET /third']);
    assert.deepEqual(bodies, ['POST /first hello', 'GET /second ', 'GET /third ']);

    // A client that leaves while one request is at its upstream and another waits behind it.
    const leaving = await RawConnection.openFor(t, lb.port);
    await leaving.write(
      'GET /hold HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /queued HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    );
    await waitFor(() => arrivals.includes('GET /hold'), 'the first request at its upstream');
    leaving.destroy();
    const held = await lb.proc.waitForLine(
      (l) => l.event === 'access' && l.url === '/hold',
      'the access line of the request at its upstream',
    );
    assert.equal(held.status, 499);
    if (engine.endsWith('@node')) {
      // node:http hands over a pipelined request at once, so it is accounted for as a 499.
      const queued = await lb.proc.waitForLine(
        (l) => l.event === 'access' && l.url === '/queued',
        'the access line of the request that waited',
      );
      assert.equal(queued.status, 499);
      assert.equal(queued.upstream, null);
    }
    await waitFor(
      async () => (await lb.status()).workers.every((w) => w.inFlight === 0),
      'nothing in flight',
    );
    assert.ok(!arrivals.includes('GET /queued'), 'the request of a client gone was never forwarded');
    if (!engine.endsWith('@node')) {
      // The balancer's own server reads a connection's next request only after the answer to the
      // one before (as nginx does): a request never read is not a request served.
      assert.ok(!lb.proc.lines.some((l) => l.event === 'access' && l.url === '/queued'));
    }
  });

  void test(`${engine}: an upstream that answers garbage gets the client a 502, and the balancer carries on`, async (t) => {
    const garbage = await startTcpServer(t, (socket) => {
      socket.once('data', (chunk: Buffer) => {
        if (chunk.toString('latin1').startsWith('GET /healthz')) {
          socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        } else {
          socket.end('this is not HTTP at all\r\n\r\n');
        }
      });
    });
    const lb = await startBalancer(t, [garbage.port]);
    const res = await request(lb.port, '/page.html');
    assert.equal(res.status, 502);
    assert.match(res.body.toString('utf8'), /malformed response/);
    assert.equal(res.headers['x-served-by'], 'balancer');
    const line = await lb.proc.waitForLine(
      (l) => l.event === 'own-answer' && l.status === 502,
      'the 502 line',
    );
    assert.deepEqual(line.tried, [`backend-${garbage.port}`]);
    assert.equal((await lb.status()).pool.size, 1, 'still answering');
  });

  void test(`${engine}: an upstream that closes in the middle of a response gets the client connection cut`, async (t) => {
    const broken = await startTcpServer(t, (socket) => {
      socket.once('data', (chunk: Buffer) => {
        if (chunk.toString('latin1').startsWith('GET /healthz')) {
          socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        } else {
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a part');
          setTimeout(() => socket.destroy(), 50);
        }
      });
    });
    const lb = await startBalancer(t, [broken.port]);
    const conn = await RawConnection.open(lb.port);
    t.after(() => conn.destroy());
    await conn.write('GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n');
    await conn.waitForClose();
    const got = conn.pending.toString('latin1');
    assert.match(got, /^HTTP\/1\.1 200 /, 'the headers were relayed');
    assert.match(got, /only a part$/, 'then the part that came, then the cut');
    await lb.proc.waitForLine((l) => l.event === 'upstream-broke', 'the broken response line');
    assert.ok((await lb.status()).upstreams.length === 1, 'still answering');
  });
}
