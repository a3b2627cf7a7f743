/** The dashboard and /metrics as the real balancer serves them on its admin listener. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DashboardView } from '../../src/dashboard/view.js';
import { getJson, startBackends, startBalancer } from '../helpers/balancer-fleet.js';

void test('the admin listener serves the dashboard, its data and /metrics', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
  );
  const base = `http://127.0.0.1:${lb.adminPort}`;
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>supervised-balancer · dashboard<\/title>/);

  const view = (await getJson(lb.adminPort, '/api/dashboard')) as DashboardView;
  assert.deepEqual(
    view.upstreams.map((u) => [u.address, u.health]).sort(),
    [
      [`127.0.0.1:${backends[0]?.port}`, 'healthy'],
      [`127.0.0.1:${backends[1]?.port}`, 'healthy'],
    ].sort(),
  );
  assert.equal(view.balancer.discovery, 'static');
  assert.ok(
    view.poolChanges.some((c) => c.to === 'healthy'),
    'the upstreams joining are listed',
  );

  const events = await fetch(`${base}/api/dashboard/events`);
  assert.match(events.headers.get('content-type') ?? '', /^text\/event-stream/);
  await events.body?.cancel();
  const metrics = await fetch(`${base}/metrics`);
  assert.match(await metrics.text(), /^# HELP balancer_requests_total /m);
});

void test('nothing on the admin listener answers a method other than GET or HEAD', async (t) => {
  const backends = await startBackends(t, 1);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
  );
  const paths = [
    '/',
    '/dashboard.js',
    '/api/dashboard',
    '/api/dashboard/events',
    '/metrics',
    '/__lb/status',
    '/healthz',
    '/nope',
  ];
  for (const path of paths) {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`http://127.0.0.1:${lb.adminPort}${path}`, {
        method,
        ...(method === 'DELETE' ? {} : { body: '{}' }),
      });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get('allow'), 'GET, HEAD', `${method} ${path}`);
      await res.arrayBuffer();
    }
  }
  // The requests above changed nothing.
  assert.equal((await lb.status()).pool.available, 1);
});
