import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeSlowClients, runSlowClients } from '../../src/demo/slow-clients.js';
import { runLoad, startBackends, startBalancer } from '../helpers/balancer-fleet.js';

void test('slow clients are summed up by what they got', () => {
  assert.equal(describeSlowClients(['200', '200', '408'], 6000), '3 slow uploads over 6s: 2 x 200, 1 x 408');
});

void test("the demo's slow clients, trickling bodies past the backends' keep-alive, cost ordinary clients nothing and take no upstream out", async (t) => {
  // Backends close idle connections after 1 s; each slow body takes 2.5 s to arrive.
  const backends = await startBackends(t, 2, ['--keep-alive-timeout', '1s']);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    ['--upstream-idle-timeout', '800ms'],
  );
  assert.equal((await runLoad(lb.port, { total: 20, concurrency: 4 })).failed, 0);
  const [slow, load] = await Promise.all([
    runSlowClients(10, {
      host: '127.0.0.1',
      port: lb.port,
      path: '/upload',
      bodyBytes: 25,
      trickleMs: 2500,
      timeoutMs: 15_000,
    }),
    runLoad(lb.port, { total: 300, concurrency: 2 }),
  ]);
  assert.equal(slow, '10 slow uploads over 2.5s: 10 x 200');
  assert.equal(load.failed, 0, load.problems.join('; '));
  for (const u of (await lb.status()).upstreams) {
    assert.equal(u.state, 'up', `${u.name}: ${u.reason}`);
    assert.equal(u.failures, 0);
  }
});
