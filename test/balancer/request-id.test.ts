/**
 * X-Request-ID across the tiers, per engine, on real sockets: a sane client ID is kept, forwarded
 * and returned; a missing one is made; a malformed one is replaced and the access line says so.
 * The balancer's access line carries client, bytes, host and user agent; the backend's carries the
 * ID; the backends write no line for health checks unless asked to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../helpers/raw-http.js';
import { REQUEST_PATHS, balancerOn, startBackend } from '../helpers/balancer-fleet.js';
import { freePort } from '../../src/net/free-port.js';
import { waitFor } from '../helpers/wait.js';
import { clientRequestId, RequestIdMaker, saneRequestId } from '../../src/balancer/request-id.js';
import { forwardRequestHeaders, forwardResponseHeaders } from '../../src/balancer/headers.js';
import { upgradeRequestHeaders } from '../../src/balancer/upgrade-rules.js';

void test('request IDs: sane ones are kept, two or malformed ones are refused, made ones are unique', () => {
  assert.equal(clientRequestId(['Host', 'x', 'X-Request-Id', 'abc-123']), 'abc-123');
  assert.equal(clientRequestId(['Host', 'x']), undefined);
  assert.equal(clientRequestId(['x-request-id', 'has space']), null);
  assert.equal(clientRequestId(['x-request-id', 'a', 'X-Request-ID', 'b']), null);
  assert.equal(saneRequestId(''), false);
  assert.equal(saneRequestId('x'.repeat(128)), true);
  assert.equal(saneRequestId('x'.repeat(129)), false);
  assert.equal(saneRequestId('caf\u00e9'), false);
  const maker = new RequestIdMaker('p');
  assert.deepEqual([maker.next(), maker.next()], ['p-1', 'p-2']);
  assert.notEqual(new RequestIdMaker().next(), new RequestIdMaker().next());
  // The client's ID gives way to the settled one, both ways.
  const up = forwardRequestHeaders(['Host', 'h', 'x-request-id', 'bad id'], '1.2.3.4', 'http', 'good');
  assert.deepEqual(up.slice(-2), ['X-Request-ID', 'good']);
  assert.equal(up.filter((v) => v.toLowerCase() === 'x-request-id').length, 1);
  // An upgrade (WebSocket) carries it upstream too.
  const upgrade = upgradeRequestHeaders(['Host', 'h', 'Upgrade', 'websocket'], '1.2.3.4', 'http', 'ws-1');
  assert.equal(upgrade[upgrade.indexOf('X-Request-ID') + 1], 'ws-1');
  const down = forwardResponseHeaders(['X-Request-Id', 'other', 'Content-Length', '0'], 'good');
  assert.deepEqual(down, ['Content-Length', '0', 'X-Request-ID', 'good']);
});

void test('backends write no access line for health checks unless --log-health-checks', async (t) => {
  const quiet = await startBackend(t, 'quiet');
  const loud = await startBackend(t, 'loud', 0, ['--log-health-checks']);
  for (const b of [quiet, loud]) {
    assert.equal((await request(b.port, '/healthz')).status, 200);
    assert.equal((await request(b.port, '/page.html')).status, 200);
  }
  for (const b of [quiet, loud]) {
    await waitFor(
      () => b.proc.lines.some((l) => l.event === 'access' && l.path === '/page.html'),
      'a page line',
    );
  }
  const healthLines = (b: typeof quiet) =>
    b.proc.lines.filter((l) => l.event === 'access' && l.path === '/healthz').length;
  assert.equal(healthLines(quiet), 0);
  assert.equal(healthLines(loud), 1);
});

for (const engine of REQUEST_PATHS) {
  const startBalancer = balancerOn(engine);

  void test(`${engine}: X-Request-ID is kept, made or replaced, forwarded, returned and logged on both tiers`, async (t) => {
    const backend = await startBackend(t, 'b1');
    const lb = await startBalancer(t, [backend.port]);

    const kept = await request(lb.port, '/page.html', {
      headers: { 'X-Request-ID': 'trace-42', 'User-Agent': 'test-agent/1' },
    });
    assert.equal(kept.status, 200);
    assert.equal(kept.headers['x-request-id'], 'trace-42');

    const made = await request(lb.port, '/page.html');
    const madeId = String(made.headers['x-request-id']);
    assert.match(madeId, /^[0-9a-f]{12}-[0-9a-z]+$/);

    const replaced = await request(lb.port, '/page.html', { headers: { 'X-Request-ID': 'x'.repeat(200) } });
    const replacedId = String(replaced.headers['x-request-id']);
    assert.notEqual(replacedId, 'x'.repeat(200));
    assert.match(replacedId, /^[0-9a-f]{12}-[0-9a-z]+$/);

    const lines = await waitFor(() => {
      const found = lb.proc.lines.filter((l) => l.event === 'access');
      return found.length >= 3 ? found : undefined;
    }, 'three access lines');
    const [first, second, third] = lines;
    assert.equal(first?.requestId, 'trace-42');
    assert.equal(first?.client, '127.0.0.1');
    assert.equal(first?.userAgent, 'test-agent/1');
    assert.equal(first?.host, `127.0.0.1:${lb.port}`);
    assert.equal(first?.bytes, kept.body.length);
    assert.equal(first?.requestIdReplaced, undefined);
    assert.match(first?.message ?? '', / id=trace-42$/);
    assert.equal(second?.requestId, madeId);
    assert.equal(third?.requestId, replacedId);
    assert.equal(third?.requestIdReplaced, true);
    assert.match(third?.message ?? '', /malformed X-Request-ID replaced/);

    // The backend saw the same IDs and wrote them on its own lines.
    const ids = await waitFor(() => {
      const found = backend.proc.lines
        .filter((l) => l.event === 'access' && l.path === '/page.html')
        .map((l) => l.requestId);
      return found.length >= 3 ? found : undefined;
    }, "the backend's three lines");
    assert.deepEqual(ids, ['trace-42', madeId, replacedId]);
  });

  void test(`${engine}: the balancer's own answers carry the request ID too`, async (t) => {
    // Nothing listens on this upstream's port: every attempt is refused, the client gets a 502/503.
    const lb = await startBalancer(t, [await freePort()]);
    const res = await request(lb.port, '/x', { headers: { 'X-Request-ID': 'own-1' } });
    assert.ok(res.status >= 502 && res.status <= 503, `status ${res.status}`);
    assert.equal(res.headers['x-request-id'], 'own-1');
  });
}
