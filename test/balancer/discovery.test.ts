import { createRequire } from 'node:module';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { AdminServer } from '../../src/balancer/admin-server.js';
import type { DiscoveryEvent, DiscoverySource, UpstreamSpec } from '../../src/balancer/discovery/types.js';
import { createDiscovery } from '../../src/balancer/discovery/create-discovery.js';
import { readBalancerStatus } from '../../src/balancer/status-reader.js';
import { STATUS_PATH } from '../../src/balancer/status.js';
import { startInProcessBalancer } from '../../src/balancer/in-process-balancer.js';
import { getJson, startHttpServer } from '../helpers/balancer-fleet.js';
import { request } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait.js';
import { memoryLogger, type MemoryLine } from '../helpers/memory-logger.js';

/** A discovery source the test drives by hand, as the PM2 source would. */
function manualSource(first: UpstreamSpec[]): DiscoverySource & { send(event: DiscoveryEvent): void } {
  let listener: ((event: DiscoveryEvent) => void) | undefined;
  return {
    kind: 'pm2',
    start(l) {
      listener = l;
      return Promise.resolve(first);
    },
    stop: () => Promise.resolve(),
    send: (event) => listener?.(event),
  };
}

async function upstream(t: TestContext, name: string) {
  const server = await startHttpServer(t, (_req, res) => {
    res.writeHead(200, { 'X-Served-By': name, 'Content-Length': '2' });
    res.end('ok');
  });
  const spec: UpstreamSpec = { id: `127.0.0.1:${server.port}`, name, host: '127.0.0.1', port: server.port };
  return spec;
}

async function startInProcess(
  t: TestContext,
  source: DiscoverySource,
  interval = '100ms',
  extra: string[] = [],
) {
  const logger = memoryLogger();
  const { lb, port, adminPort, stop } = await startInProcessBalancer({
    args: ['--health-interval', interval, '--health-timeout', '2s', ...extra],
    discoveryKind: 'pm2',
    logger,
    discovery: source,
  });
  t.after(stop);
  return { lb, logger, port, adminPort };
}

const poolChanges = (logger: { lines: MemoryLine[] }) =>
  logger.lines.filter((l) => l.fields.event === 'pool-change' && l.level !== 'debug').map((l) => l.message);

void test('a member PM2 says is leaving is out of rotation at once; online brings it back after one good check', async (t) => {
  const a = await upstream(t, 'web-a');
  const b = await upstream(t, 'web-b');
  const source = manualSource([a, b]);
  const { lb, logger, port } = await startInProcess(t, source, '10s');
  assert.ok(
    logger.lines.some((l) => /^pm2 discovery \(LB_POOL=web\): a pool of 2: web-a .*web-b/.test(l.message)),
    'the start-up line names the source and the pool',
  );

  source.send({ type: 'leaving', id: a.id, reason: 'pm2 is stopping it' });
  assert.ok(poolChanges(logger).includes('web-a left the pool: pm2 is stopping it'));
  for (let i = 0; i < 4; i++) {
    assert.equal(
      (await request(port, '/')).headers['x-served-by'],
      'web-b',
      'nothing goes to the leaving one',
    );
  }

  // Checks are 10 s apart here, and rise is 2, yet right after PM2 says the process is online
  // again one good check is enough: `online` checks at once (pool.test.ts: not without it).
  const before = lb.pool.get(a.id)?.lastCheck;
  source.send({ type: 'online', id: a.id, reason: 'pm2 started it' });
  await waitFor(() => lb.pool.get(a.id)?.lastCheck !== before, 'the immediate check');
  assert.equal(lb.pool.get(a.id)?.lastCheck?.ok, true);
  assert.equal(lb.pool.get(a.id)?.available, true, 'PM2 said online: one good check is enough');
  assert.ok(poolChanges(logger).includes('web-a rejoined after 1 check'));
});

void test('membership events add and remove upstreams and keep their PM2 state', async (t) => {
  const a = await upstream(t, 'web-a');
  const b = await upstream(t, 'web-b');
  const source = manualSource([a]);
  const { lb, adminPort, port } = await startInProcess(t, source);
  const pm2 = {
    pmId: 3,
    status: 'online',
    pid: 42,
    restarts: 2,
    uptimeMs: 1000,
    memoryBytes: 1,
    cpuPercent: 0,
  };
  source.send({ type: 'members', members: [a, { ...b, pm2 }] });
  await waitFor(() => lb.pool.get(b.id)?.health.status === 'up', 'the new member to be checked');
  const served = new Set<string>();
  for (let i = 0; i < 4; i++) served.add(String((await request(port, '/')).headers['x-served-by']));
  assert.deepEqual([...served].sort(), ['web-a', 'web-b']);
  const status = readBalancerStatus(await getJson(adminPort, STATUS_PATH));
  assert.equal(status.balancer.discovery, 'pm2');
  assert.equal(status.balancer.pool, 'web');
  assert.deepEqual(status.upstreams.find((u) => u.name === 'web-b')?.pm2, pm2);

  source.send({ type: 'members', members: [{ ...b, pm2 }] });
  assert.equal(lb.pool.size, 1);
  for (let i = 0; i < 3; i++) assert.equal((await request(port, '/')).headers['x-served-by'], 'web-b');
});

void test('the balancer reports finished requests, pool changes and health checks to listeners', async (t) => {
  const a = await upstream(t, 'web-a');
  const source = manualSource([a]);
  // No waiting for an upstream to come back: the empty pool's 503 is what this test looks at.
  const { lb, port } = await startInProcess(t, source, '100ms', ['--queue-timeout', '0']);
  const requests: unknown[] = [];
  const changes: string[] = [];
  const checks: boolean[] = [];
  lb.events.onRequestFinished((e) => requests.push([e.upstream, e.status, e.retries, typeof e.ms]));
  lb.events.onPoolChange((e) => changes.push(`${e.name} ${e.from}->${e.to}`));
  lb.events.onHealthCheck((e) => checks.push(e.ok));
  await request(port, '/x');
  await waitFor(() => requests.length === 1, 'the request event');
  assert.deepEqual(requests, [['web-a', 200, 0, 'number']]);
  source.send({ type: 'leaving', id: a.id, reason: 'test' });
  assert.deepEqual(changes, ['web-a up->down']);
  await waitFor(() => checks.length > 0, 'a health-check event');
  const refused = await request(port, '/x');
  assert.equal(refused.status, 503);
  await waitFor(() => requests.length === 2, 'the 503 event');
  assert.deepEqual(requests[1], [null, 503, 0, 'number']);
});

void test('the admin listener routes exactly, lists its routes on 404, and survives a failing route', async (t) => {
  const admin = new AdminServer(memoryLogger());
  admin.route('/ok', (_req, res) => {
    res.end('fine');
  });
  admin.route('/boom', () => {
    throw new Error('boom');
  });
  admin.route('/later', () => Promise.reject(new Error('later')));
  assert.throws(() => admin.route('/ok', () => undefined), /already taken/);
  const port = await admin.listen(0, '127.0.0.1');
  t.after(() => admin.close());
  assert.equal((await request(port, '/ok?x=1')).body.toString(), 'fine');
  const missing = await request(port, '/nope');
  assert.equal(missing.status, 404);
  assert.deepEqual((JSON.parse(missing.body.toString()) as { routes: string[] }).routes, [
    '/ok',
    '/boom',
    '/later',
  ]);
  assert.equal((await request(port, '/boom')).status, 500);
  assert.equal((await request(port, '/later')).status, 500);
  assert.equal((await request(port, '/ok')).status, 200);
});

void test('static discovery is chosen without loading PM2, and gives the configured list', async () => {
  const members: UpstreamSpec[] = [{ id: '127.0.0.1:1', name: 'one', host: '127.0.0.1', port: 1 }];
  const source = await createDiscovery(
    { kind: 'static', upstreams: members, pool: 'web', host: '127.0.0.1', reconcileMs: 1000 },
    memoryLogger(),
  );
  assert.equal(source.kind, 'static');
  assert.deepEqual(await source.start(() => undefined), members);
  await source.stop();
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  assert.ok(!loaded.some((file) => file.includes('/node_modules/pm2/')), 'pm2 was not loaded');
});
