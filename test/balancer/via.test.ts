import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildBalancerConfig } from '../../src/balancer/config.js';
import { appendVia, forwardResponseHeaders } from '../../src/balancer/headers.js';
import { relayedResponseHead, switchingProtocolsHead } from '../../src/balancer/upgrade-rules.js';
import { parseViaPseudonym, viaEntry } from '../../src/balancer/via.js';
import {
  REQUEST_PATHS,
  balancerOn,
  startBackend,
  startBalancer,
  startHttpServer,
} from '../helpers/balancer-fleet.js';
import { rawExchange, rawRequest, request } from '../helpers/raw-http.js';
import { h2Request, h2Session, https1, makeDevCert } from '../helpers/tls-client.js';

// ---- pure ----

void test('a Via pseudonym is a token, optionally with a port; anything that could split the header is refused', () => {
  assert.equal(parseViaPseudonym('f1'), 'f1');
  assert.equal(parseViaPseudonym(' front-1.example:8443 '), 'front-1.example:8443');
  assert.equal(parseViaPseudonym(''), '');
  for (const bad of ['f 1', 'f1, 1.1 evil', 'f1\r\nX: y', 'f1:', 'f1:port', 'é', 'x'.repeat(65)]) {
    assert.throws(() => parseViaPseudonym(bad), /is not a Via pseudonym/, bad);
  }
  assert.equal(buildBalancerConfig({ argv: ['--via', 'f1'], env: {} }).via, 'f1');
  assert.equal(buildBalancerConfig({ argv: [], env: { VIA: 'f2' } }).via, 'f2');
  assert.equal(buildBalancerConfig({ argv: [], env: {} }).via, null);
  assert.throws(() => buildBalancerConfig({ argv: ['--via', 'two words'], env: {} }), /--via: "two words"/);
});

void test("the entry goes after the upstream's last Via, or is the Via; own answers name the request's version", () => {
  const one = ['Content-Type', 'text/plain'];
  appendVia(one, '1.1 f1');
  assert.deepEqual(one, ['Content-Type', 'text/plain', 'Via', '1.1 f1']);
  const two = ['via', '1.0 a', 'X', 'y', 'VIA', '1.1 b '];
  appendVia(two, '1.1 f1');
  assert.deepEqual(two, ['via', '1.0 a', 'X', 'y', 'VIA', '1.1 b, 1.1 f1']);

  const relayed = forwardResponseHeaders(['Via', '1.1 up', 'Connection', 'close'], 'id-1', '1.1 f1');
  assert.deepEqual(relayed, ['Via', '1.1 up, 1.1 f1', 'X-Request-ID', 'id-1']);
  assert.deepEqual(forwardResponseHeaders(['Via', '1.1 up']), ['Via', '1.1 up'], 'off: untouched');

  assert.match(switchingProtocolsHead(['Upgrade', 'websocket'], '1.1 f1'), /\r\nVia: 1\.1 f1\r\n/);
  assert.match(
    relayedResponseHead(404, 'Not Found', ['Via', '1.1 up'], '1.1 f1'),
    /\r\nVia: 1\.1 up, 1\.1 f1\r\n/,
  );
  assert.doesNotMatch(switchingProtocolsHead(['Upgrade', 'websocket']), /Via/);

  const entry = viaEntry('f1');
  assert.equal(entry?.relayed, '1.1 f1');
  assert.equal(entry?.forRequest(1, 1), '1.1 f1');
  assert.equal(entry?.forRequest(1, 0), '1.0 f1');
  assert.equal(entry?.forRequest(2, 0), '2 f1');
  assert.equal(viaEntry(null), null);
});

// ---- a real balancer ----

/** An upstream whose /with-via answers carry a Via of their own (a proxy behind the balancer). */
async function viaUpstream(t: Parameters<typeof startHttpServer>[0]) {
  return startHttpServer(t, (req, res) => {
    if (req.url === '/with-via') res.setHeader('Via', '1.1 inner');
    res.setHeader('X-Served-By', 'up');
    res.end('ok');
  });
}

for (const engine of REQUEST_PATHS) {
  void test(`${engine}: with --via f1 relayed answers get "1.1 f1" after the upstream's Via, own answers the request's version`, async (t) => {
    const up = await viaUpstream(t);
    const lb = await balancerOn(engine)(t, [up.port], ['--via', 'f1']);

    const plain = await request(lb.port, '/page');
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.via, '1.1 f1');
    const chained = await request(lb.port, '/with-via');
    assert.equal(chained.headers.via, '1.1 inner, 1.1 f1');

    // The balancer's own 404 (a denied path) to an HTTP/1.1 and an HTTP/1.0 request.
    const denied = await request(lb.port, '/metrics');
    assert.equal(denied.status, 404);
    assert.equal(denied.headers['x-served-by'], 'balancer');
    assert.equal(denied.headers.via, '1.1 f1');
    const old = await rawExchange(lb.port, 'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n');
    assert.equal(old.status, 404);
    assert.equal(old.headers.via, '1.0 f1');
    // A refused request (two Host headers) is answered by the request path.
    const refused = await rawExchange(lb.port, rawRequest('GET', '/page', { Host: 'again' }));
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.via, '1.1 f1');
  });
}

void test("without --via the balancer adds no Via: an upstream's passes as it is, own answers have none", async (t) => {
  const up = await viaUpstream(t);
  const lb = await startBalancer(t, [up.port]);
  assert.equal((await request(lb.port, '/page')).headers.via, undefined);
  assert.equal((await request(lb.port, '/with-via')).headers.via, '1.1 inner');
  assert.equal((await request(lb.port, '/metrics')).headers.via, undefined);
});

void test('--via on upgrades (101 and a refusal), on answers to unparsable requests and when no upstream is there', async (t) => {
  const backend = await startBackend(t, 'b1');
  const lb = await startBalancer(t, [backend.port], ['--via', 'f1']);
  const upgrade = await rawExchange(
    lb.port,
    rawRequest('GET', '/ws/echo', {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    }).replace('Connection: close\r\n', ''),
  );
  assert.equal(upgrade.status, 101);
  assert.equal(upgrade.headers.via, '1.1 f1');
  const h2c = await rawExchange(
    lb.port,
    rawRequest('GET', '/', {
      Connection: 'Upgrade, HTTP2-Settings',
      Upgrade: 'h2c',
      'HTTP2-Settings': '',
    }).replace('Connection: close\r\n', ''),
  );
  assert.equal(h2c.status, 400);
  assert.equal(h2c.headers.via, '1.1 f1');
  const garbage = await rawExchange(lb.port, 'NOT A REQUEST\r\n\r\n');
  assert.equal(garbage.status, 400);
  assert.equal(garbage.headers.via, '1.1 f1');

  // No upstream that answers: the balancer's 503, with its Via.
  const gone = await startBalancer(t, [backend.port], ['--via', 'f1', '--queue-timeout', '0']);
  await backend.proc.stop('SIGKILL');
  const none = await request(gone.port, '/page');
  assert.ok(none.status === 502 || none.status === 503, `status ${none.status}`);
  assert.equal(none.headers['x-served-by'], 'balancer');
  assert.equal(none.headers.via, '1.1 f1');
});

void test('--via over HTTPS: HTTP/1.1 and HTTP/2 clients get it, relayed (1.1) and own answers (2 over HTTP/2); the 308 listener too', async (t) => {
  const cert = makeDevCert(t);
  const up = await viaUpstream(t);
  const lb = await startBalancer(
    t,
    [up.port],
    ['--via', 'f1', '--tls-cert', cert.certPath, '--tls-key', cert.keyPath, '--http-redirect-port', '0'],
  );
  const one = await https1(lb.port, cert.cert, '/with-via');
  assert.equal(one.protocol, 'http/1.1');
  assert.equal(one.headers.via, '1.1 inner, 1.1 f1');

  const session = h2Session(t, lb.port, cert.cert);
  const two = await h2Request(session, '/page');
  assert.equal(two.status, 200);
  assert.equal(two.headers.via, '1.1 f1');
  const chained = await h2Request(session, '/with-via');
  assert.equal(chained.headers.via, '1.1 inner, 1.1 f1');
  const own = await h2Request(session, '/metrics');
  assert.equal(own.status, 404);
  assert.equal(own.headers.via, '2 f1');

  const line = lb.proc.lines.find((l) => l.event === 'listening' && l.listener === 'redirect');
  const redirected = await request(Number(line?.port), '/page');
  assert.equal(redirected.status, 308);
  assert.equal(redirected.headers.via, '1.1 f1');
});

void test('--via in a cluster: every worker adds it (the workers read the same command line)', async (t) => {
  const up = await viaUpstream(t);
  const lb = await startBalancer(t, [up.port], ['--via', 'f1', '--workers', '2']);
  for (let i = 0; i < 4; i++)
    assert.equal((await request(lb.port, '/with-via')).headers.via, '1.1 inner, 1.1 f1');
  assert.equal((await request(lb.port, '/metrics')).headers.via, '1.1 f1');
});
