import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BalancerEvents } from '../../src/balancer/events.js';
import { Pool } from '../../src/balancer/pool.js';
import { buildStatus, type WorkerStatus } from '../../src/balancer/status.js';
import { statusView } from '../../src/dashboard/status-adapter.js';
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
