import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeSlowClients, runSlowClients, SLOW_CLIENT_DEFAULTS } from '../../src/demo/slow-clients.js';
import { runLoad, startBackends, startBalancer } from '../helpers/balancer-fleet.js';

void test('slow clients are summed up by what they got', () => {
  assert.equal(describeSlowClients(['200', '200', '408'], 8000), '3 slow uploads over 8s: 2 x 200, 1 x 408');
});

void test("the demo's slow clients, silent past the backends' keep-alive before their bodies, cost ordinary clients nothing and take no upstream out", async (t) => {
  // Default timeouts: a backend closes a connection idle for 5 s; the slow bodies start after 6 s.
  const backends = await startBackends(t, 2);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
  );
  assert.equal((await runLoad(lb.port, { total: 20, concurrency: 4 })).failed, 0);
  const [slow, load] = await Promise.all([
    runSlowClients(10, { ...SLOW_CLIENT_DEFAULTS, host: '127.0.0.1', port: lb.port, trickleMs: 500 }),
    runLoad(lb.port, { total: 600, concurrency: 2 }),
  ]);
  assert.equal(slow, '10 slow uploads over 6.5s: 10 x 200');
  assert.equal(load.failed, 0, load.problems.join('; '));
  for (const u of (await lb.status()).upstreams) {
    assert.equal(u.state, 'up', `${u.name}: ${u.reason}`);
    assert.equal(u.failures, 0);
  }
});
