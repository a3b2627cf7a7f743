/**
 * Running out of descriptors is the balancer's own problem: started under `ulimit -n 256`, with
 * more clients than that, it caps its connections, answers what it cannot serve with 503 and
 * Retry-After, marks no upstream down, and is whole again as soon as the clients are gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { REQUEST_PATHS, balancerOn, startBackends } from '../helpers/balancer-fleet.js';
import { delay } from '../helpers/wait.js';

interface Outcome {
  status: number | 'cut';
  retryAfter: string | undefined;
}

/** `count` GETs at once, each on its own connection, held open until `release()` is called. */
async function manyClients(
  port: number,
  count: number,
): Promise<{ outcomes: Outcome[]; release: () => void }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: count });
  const outcomes = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Outcome>((resolve) => {
          const req = http.get({ host: '127.0.0.1', port, path: '/page.html', agent }, (res) => {
            res.resume();
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }),
            );
            res.on('error', () => resolve({ status: 'cut', retryAfter: undefined }));
          });
          req.on('error', () => resolve({ status: 'cut', retryAfter: undefined }));
        }),
    ),
  );
  return { outcomes, release: () => agent.destroy() };
}

for (const engine of REQUEST_PATHS) {
  const startBalancer = balancerOn(engine);

  void test(`${engine}: more clients than descriptors get 200, 503 with Retry-After or a closed connection; no upstream is marked down`, async (t) => {
    const backends = await startBackends(t, 2);
    // The cap set above what 256 descriptors allow: the balancer meets EMFILE itself.
    const lb = await startBalancer(
      t,
      backends.map((b) => b.port),
      ['--max-connections', '400'],
      {},
      { descriptorLimit: 256 },
    );
    const { outcomes, release } = await manyClients(lb.port, 300);
    const by = new Map<string, number>();
    for (const o of outcomes) by.set(String(o.status), (by.get(String(o.status)) ?? 0) + 1);
    const summary = [...by].map(([k, v]) => `${k}: ${v}`).join(', ');
    for (const o of outcomes) {
      assert.ok(o.status === 200 || o.status === 503 || o.status === 'cut', `unexpected answer (${summary})`);
      if (o.status === 503) assert.equal(o.retryAfter, '1', 'a 503 says when to come back');
    }
    release();
    // Once the clients are gone, the balancer is whole within a second.
    await delay(1000);
    const status = await lb.status();
    for (const u of status.upstreams) {
      assert.equal(u.state, 'up', `${u.name}: ${u.reason} (${summary})`);
      assert.equal(u.failures, 0, `${u.name} was blamed (${summary})`);
    }
    assert.equal(lb.proc.child.exitCode, null, 'the balancer is still running');
    // Whole again at once: a request right after the crowd left is served.
    const again = await manyClients(lb.port, 5);
    again.release();
    assert.deepEqual(
      again.outcomes.map((o) => o.status),
      [200, 200, 200, 200, 200],
    );
  });
}

void test('under ulimit -n 256 the default cap is 96 connections; the rest are closed at once and counted', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await balancerOn('undici')(
    t,
    backends.map((b) => b.port),
    [],
    {},
    { descriptorLimit: 256 },
  );
  const line = await lb.proc.waitForLine((l) => l.event === 'connection-limit', 'the connection-limit line');
  assert.equal(line.limit, 96);
  assert.equal(line.descriptorLimit, 256);
  const { outcomes, release } = await manyClients(lb.port, 200);
  const served = outcomes.filter((o) => o.status === 200).length;
  assert.ok(
    outcomes.every((o) => o.status === 200 || o.status === 'cut'),
    'served or closed, nothing else',
  );
  assert.ok(served >= 96, `${served} served`);
  const status = await lb.status();
  assert.equal(status.balancer.connections.limit, 96);
  assert.ok(status.balancer.connections.open <= 96, `${status.balancer.connections.open} open`);
  release();
  for (const u of status.upstreams) assert.equal(u.failures, 0);
});
