import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BalancerEvents, type AdminChange } from '../../src/balancer/events.js';
import { Pool } from '../../src/balancer/pool.js';
import { buildStatus, type WorkerStatus } from '../../src/balancer/status.js';
import { adminChangeView, statusView } from '../../src/dashboard/status-adapter.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { statusFacts } from '../helpers/status-document.js';

const facts = statusFacts({
  pid: 4242,
  now: 61_000,
  discovery: 'pm2',
  pool: 'web',
  workers: 2,
  reloads: 3,
});

const worker = (id: number, generation: number, state: WorkerStatus['state']): WorkerStatus => ({
  id,
  pid: 500 + id,
  generation,
  startedAt: 2000 + id,
  state,
  inFlight: id,
  served: 10 * id,
  failures: id === 7 ? 1 : 0,
  rssBytes: 50_000_000,
  cpuPercent: 1.5,
});

void test("the view carries the balancer's workers, oldest generation first, with the reload count", () => {
  const pool = new Pool({
    thresholds: { fall: 2, rise: 2 },
    logger: memoryLogger(),
    events: new BalancerEvents(),
    clock: () => 1000,
  });
  // As the primary lists them mid-reload: its map's order, newest workers last.
  const workers = [worker(9, 3, 'starting'), worker(7, 2, 'draining'), worker(8, 3, 'ready')];
  const status = buildStatus(
    pool.members,
    facts,
    { inFlight: 24, served: 240, failures: 1, queued: 0 },
    workers,
  );
  const view = statusView(JSON.parse(JSON.stringify(status)) as typeof status);
  assert.equal(view.balancer.workers, 2);
  assert.equal(view.balancer.singleProcessReason, null);
  assert.equal(view.balancer.reloads, 3);
  assert.equal(view.balancer.uptimeMs, 60_000);
  assert.deepEqual(
    view.workers.map((w) => [w.id, w.pid, w.generation, w.state, w.inFlight, w.served, w.failures]),
    [
      [7, 507, 2, 'draining', 7, 70, 1],
      [8, 508, 3, 'ready', 8, 80, 0],
      [9, 509, 3, 'starting', 9, 90, 0],
    ],
  );
  assert.equal(view.workers[0]?.startedAt, 2007);
});

void test("an operator's decision shows as the upstream's admin state and weight, not as ill health, and goes to the log", () => {
  const events = new BalancerEvents();
  const decided: AdminChange[] = [];
  events.onAdminChange((e) => decided.push(e));
  const pool = new Pool({
    thresholds: { fall: 2, rise: 2 },
    logger: memoryLogger(),
    events,
    clock: () => 5000,
  });
  pool.setMembers(
    [1, 2, 3, 4].map((port) => ({ id: `127.0.0.1:${port}`, name: `b${port}`, host: '127.0.0.1', port })),
    'static',
    true,
  );
  for (const u of pool.members) {
    for (const at of [1100, 1200]) pool.recordCheck(u, { ok: true, ms: 1, at, error: null });
  }
  const [b1, , b3, b4] = pool.members;
  assert.ok(b1 !== undefined && b3 !== undefined && b4 !== undefined);
  pool.decide(b1, { admin: 'drain' }, 'supervised-balancer lb (alice) from 127.0.0.1:5000');
  pool.decide(b3, { weight: 0 }, 'state file');
  pool.decide(b4, { admin: 'maint' }, 'state file');
  const status = JSON.parse(
    JSON.stringify(buildStatus(pool.members, facts, { inFlight: 0, served: 0, failures: 0, queued: 0 }, [])),
  ) as ReturnType<typeof buildStatus>;
  assert.deepEqual(
    statusView(status).upstreams.map((u) => [u.name, u.health, u.admin, u.weight, u.available]),
    [
      ['b1', 'healthy', 'drain', 1, false],
      ['b2', 'healthy', 'ready', 1, true],
      ['b3', 'healthy', 'ready', 0, false],
      ['b4', 'healthy', 'maint', 1, false],
    ],
  );
  // Up, ready and weighed, yet out of rotation: that is not an operator's doing.
  const b2 = status.upstreams[1];
  assert.ok(b2 !== undefined);
  b2.available = false;
  assert.equal(statusView(status).upstreams[1]?.health, 'unhealthy');

  assert.deepEqual(decided.map(adminChangeView), [
    {
      at: 5000,
      id: '127.0.0.1:1',
      name: 'b1',
      admin: 'drain',
      weight: 1,
      change: 'ready -> drain',
      by: 'supervised-balancer lb (alice) from 127.0.0.1:5000',
    },
    {
      at: 5000,
      id: '127.0.0.1:3',
      name: 'b3',
      admin: 'ready',
      weight: 0,
      change: 'weight 1 -> 0',
      by: 'state file',
    },
    {
      at: 5000,
      id: '127.0.0.1:4',
      name: 'b4',
      admin: 'maint',
      weight: 1,
      change: 'ready -> maint',
      by: 'state file',
    },
  ]);
});
