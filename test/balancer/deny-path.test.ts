/**
 * Internal routes stay off the public listener: /metrics is answered 404 by the balancer itself,
 * --deny-path adds prefixes (here /work, the backends' CPU route), everything else is forwarded;
 * a malformed --deny-path stops the balancer at start with exit 2, naming the option. Per engine,
 * on real sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../helpers/raw-http.js';
import { REQUEST_PATHS, balancerOn, startBackend } from '../helpers/balancer-fleet.js';
import { runNode } from '../helpers/processes.js';
import { deniedBy, deniedPaths, parseDenyPath } from '../../src/balancer/deny-paths.js';

void test('deny paths: /metrics always, prefixes matched on the path without the query', () => {
  const list = deniedPaths(['/work', '/metrics']);
  assert.deepEqual(list, ['/metrics', '/work']);
  assert.equal(deniedBy('/metrics', list), '/metrics');
  assert.equal(deniedBy('/metrics/x?y', list), '/metrics');
  assert.equal(deniedBy('/work?ms=5', list), '/work');
  assert.equal(deniedBy('/page.html?/metrics', list), undefined);
  assert.equal(deniedBy('/', list), undefined);
  for (const bad of ['metrics', '', '/a b', '/a?b', '/a#b', '/caf\u00e9']) {
    assert.throws(() => parseDenyPath(bad), Error, bad);
  }
});

void test('a malformed --deny-path exits 2 naming the option', async () => {
  const run = await runNode('balancer', ['--port', '0', '--admin-port', '0', '--deny-path', 'work']);
  assert.equal(run.code, 2);
  assert.match(run.stderr + run.stdout, /--deny-path/);
});

for (const engine of REQUEST_PATHS) {
  const startBalancer = balancerOn(engine);

  void test(`${engine}: /metrics and --deny-path prefixes get the balancer's 404, the rest is forwarded`, async (t) => {
    const backend = await startBackend(t, 'b1');
    const lb = await startBalancer(t, [backend.port], ['--deny-path', '/work', '--deny-path', '/private/']);

    for (const path of ['/metrics', '/work?ms=1', '/private/x']) {
      const res = await request(lb.port, path);
      assert.equal(res.status, 404, path);
      assert.equal(res.headers['x-served-by'], 'balancer', path);
    }
    const page = await request(lb.port, '/page.html');
    assert.equal(page.status, 200);
    assert.equal(page.headers['x-served-by'], 'b1');
    // The backend itself still answers /work to whoever reaches it directly.
    assert.equal((await request(backend.port, '/work?ms=1')).status, 200);
    // No WARN per refusal (a scanner would write one per probe); the access lines say 404 -> balancer.
    assert.equal(lb.proc.lines.filter((l) => l.event === 'own-answer').length, 0);
    // The backend's lines come in batches: once its line of the direct request is out, so is every
    // line before it.
    await backend.proc.waitForLine(
      (l) => l.event === 'access' && l.path === '/work?ms=1',
      'the direct request',
    );
    const seen = backend.proc.lines.filter((l) => l.event === 'access').map((l) => l.path);
    assert.ok(!seen.includes('/private/x'), 'a denied path reached the backend');
  });
}
