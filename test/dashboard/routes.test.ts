import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Dashboard, type DashboardSource } from '../../src/dashboard/dashboard.js';
import { dashboardRoutes } from '../../src/dashboard/routes.js';
import type { DashboardView, UpstreamView, WorkerView } from '../../src/dashboard/view.js';
import { parsePrometheusText, sumSamples } from '../helpers/prometheus-text.js';

const upstream = (port: number, health: UpstreamView['health']): UpstreamView => ({
  id: `127.0.0.1:${port}`,
  name: `backend-${port}`,
  address: `127.0.0.1:${port}`,
  health,
  reason: 'test',
  since: 0,
  available: health === 'healthy',
  admin: 'ready',
  weight: 1,
  inFlight: 2,
  tunnels: { open: 0, bytesToUpstream: 0, bytesFromUpstream: 0 },
  served: 10,
  failures: 0,
  check: { ok: health === 'healthy', latencyMs: 1, at: 0, error: null },
  pm2: null,
});

const worker = (id: number, generation: number, state: WorkerView['state'] = 'ready'): WorkerView => ({
  id,
  pid: 1000 + id,
  generation,
  startedAt: generation * 1000,
  state,
  inFlight: 0,
  served: 5,
  failures: 0,
  rssBytes: 50_000_000,
  cpuPercent: 1.5,
});

async function start(t: import('node:test').TestContext) {
  const pool = [upstream(1, 'healthy'), upstream(2, 'unhealthy')];
  /** What the pretend balancer says of its workers; a test changes it between views. */
  const cluster = { reloads: 0, workers: [worker(1, 0), worker(2, 0)] };
  const source: DashboardSource = {
    read: () => ({
      balancer: {
        name: 'balancer',
        pid: process.pid,
        uptimeMs: 1,
        discovery: 'static',
        policy: 'round-robin',
        engine: 'undici',
        connections: { open: 7, limit: 96, dropped: 2, localFailures: 1 },
        workers: 2,
        singleProcessReason: null,
        reloads: cluster.reloads,
      },
      upstreams: pool,
      workers: cluster.workers,
    }),
  };
  const dashboard = new Dashboard({ source, processMetrics: false, frameIntervalMs: 3_600_000 });
  const routes = new Map(dashboardRoutes(dashboard));
  const server = http.createServer((req, res) => {
    const handler = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (handler === undefined) res.writeHead(404).end();
    else handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        dashboard.close();
        server.close(() => resolve());
      }),
  );
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { dashboard, base, pool, cluster };
}

void test('the page, its stylesheet and script are served with a policy that forbids other origins', async (t) => {
  const { base } = await start(t);
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'.*connect-src 'self'/);
  const html = await page.text();
  assert.match(html, /<script type="module" src="\/dashboard\.js">/);
  assert.doesNotMatch(html, /https?:\/\//, 'the page refers to no other origin');
  for (const [path, type] of [
    ['/dashboard.css', /^text\/css/],
    ['/dashboard.js', /^text\/javascript/],
  ] as const) {
    const res = await fetch(`${base}${path}`);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', type);
    assert.doesNotMatch(await res.text(), /https?:\/\//, `${path} refers to no other origin`);
  }
});

void test('HEAD on the event stream answers its headers and ends', async (t) => {
  const { base, dashboard } = await start(t);
  const res = await fetch(`${base}/api/dashboard/events`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(dashboard.stream.size, 0, 'no stream was opened');
});

void test('an unchanged asset is answered 304 to a conditional GET', async (t) => {
  const { base } = await start(t);
  const first = await fetch(`${base}/dashboard.js`);
  const etag = first.headers.get('etag');
  assert.ok(etag);
  const again = await fetch(`${base}/dashboard.js`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
});

void test('every admin route refuses methods other than GET and HEAD', async (t) => {
  const { base } = await start(t);
  for (const path of ['/', '/dashboard.js', '/api/dashboard', '/api/dashboard/events', '/metrics']) {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(`${base}${path}`, { method });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get('allow'), 'GET, HEAD');
      assert.match(await res.text(), /read-only/);
    }
  }
});

void test('the JSON view carries the upstreams, the last minute and the pool changes', async (t) => {
  const { base, dashboard } = await start(t);
  dashboard.requestFinished('backend-1', 200, 2, 0);
  dashboard.requestFinished('backend-1', 502, 4, 1);
  dashboard.poolChanged({
    id: '127.0.0.1:2',
    name: 'backend-2',
    from: 'healthy',
    to: 'unhealthy',
    reason: 'test',
  });
  const view = (await (await fetch(`${base}/api/dashboard`)).json()) as DashboardView;
  assert.deepEqual(
    view.upstreams.map((u) => [u.name, u.health]),
    [
      ['backend-1', 'healthy'],
      ['backend-2', 'unhealthy'],
    ],
  );
  assert.equal(view.totals.requests, 2);
  assert.equal(view.totals.errors, 1);
  assert.equal(view.totals.errorRate, 0.5);
  assert.equal(view.totals.series.length, 60);
  assert.deepEqual(
    view.poolChanges.map((c) => [c.name, c.to, c.reason]),
    [['backend-2', 'unhealthy', 'test']],
  );
  assert.deepEqual(view.adminChanges, [], 'no operator has decided anything');
});

void test("an operator's decision goes into the view's admin changes, newest first", async (t) => {
  const { base, dashboard } = await start(t);
  const change = {
    id: '127.0.0.1:1',
    name: 'backend-1',
    admin: 'drain',
    weight: 1,
    by: 'an operator',
  } as const;
  dashboard.adminChanged({ ...change, at: 10, change: 'ready -> drain' });
  dashboard.adminChanged({ ...change, at: 20, weight: 3, change: 'weight 1 -> 3' });
  const view = (await (await fetch(`${base}/api/dashboard`)).json()) as DashboardView;
  assert.deepEqual(
    view.adminChanges.map((c) => [c.at, c.name, c.admin, c.weight, c.change, c.by]),
    [
      [20, 'backend-1', 'drain', 3, 'weight 1 -> 3', 'an operator'],
      [10, 'backend-1', 'drain', 1, 'ready -> drain', 'an operator'],
    ],
  );
  assert.deepEqual(view.poolChanges, [], 'a decision is not a health change');
});

void test('the JSON view carries the workers, and a reload between two views is listed as it went', async (t) => {
  const { base, cluster } = await start(t);
  const view = async () => (await (await fetch(`${base}/api/dashboard`)).json()) as DashboardView;
  const first = await view();
  assert.deepEqual(
    first.workers.map((w) => [w.id, w.pid, w.generation, w.state]),
    [
      [1, 1001, 0, 'ready'],
      [2, 1002, 0, 'ready'],
    ],
  );
  assert.equal(first.balancer.workers, 2);
  assert.equal(first.balancer.reloads, 0);
  assert.deepEqual(first.workerChanges, [], 'the first reading is the baseline');

  // Mid-reload: generation 1 serves, generation 0 drains.
  cluster.reloads = 1;
  cluster.workers = [worker(1, 0, 'draining'), worker(2, 0, 'draining'), worker(3, 1), worker(4, 1)];
  const during = await view();
  assert.deepEqual(
    during.workers.map((w) => [w.id, w.state]),
    [
      [1, 'draining'],
      [2, 'draining'],
      [3, 'ready'],
      [4, 'ready'],
    ],
  );
  assert.equal(during.balancer.reloads, 1);
  cluster.workers = [worker(3, 1), worker(4, 1)];
  const after = await view();
  assert.deepEqual(
    after.workerChanges.map((c) => c.kind),
    ['drained', 'reload-done', 'reload-start'],
    'newest first',
  );
  assert.match(after.workerChanges[2]?.text ?? '', /^reload: generation 1 starting, pids 1003, 1004$/);
});

void test('/metrics is Prometheus text with the requests, retries and gauges', async (t) => {
  const { base, dashboard } = await start(t);
  for (let i = 0; i < 3; i++) dashboard.requestFinished('backend-1', 200, 1, 0);
  dashboard.requestFinished(null, 503, 0.2, 2);
  dashboard.healthChecked('backend-2', false);
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const f = parsePrometheusText(await res.text());
  assert.equal(sumSamples(f, 'balancer_requests_total', { upstream: 'backend-1', status: '200' }), 3);
  assert.equal(sumSamples(f, 'balancer_requests_total', { upstream: 'none', status: '503' }), 1);
  assert.equal(sumSamples(f, 'balancer_retries_total'), 2);
  assert.equal(sumSamples(f, 'balancer_health_checks_total', { upstream: 'backend-2', result: 'fail' }), 1);
  assert.equal(sumSamples(f, 'balancer_upstream_healthy', { upstream: 'backend-1' }), 1);
  assert.equal(sumSamples(f, 'balancer_upstream_healthy', { upstream: 'backend-2' }), 0);
  assert.equal(sumSamples(f, 'balancer_upstream_in_flight'), 4);
});

void test('/metrics shows the client connections against their limit, and what the limit turned away', async (t) => {
  const { base } = await start(t);
  const f = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
  assert.equal(sumSamples(f, 'balancer_client_connections'), 7);
  assert.equal(sumSamples(f, 'balancer_client_connections_limit'), 96);
  assert.equal(sumSamples(f, 'balancer_client_connections_dropped_total'), 2);
  assert.equal(sumSamples(f, 'balancer_local_resource_failures_total'), 1);
  assert.ok(sumSamples(f, 'nodejs_event_loop_delay_max_seconds') >= 0);
});
