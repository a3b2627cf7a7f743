/**
 * The balancer without its native addons (another OS, a failed or skipped build): asked for a
 * cluster, it says why once and serves as one process, and its status and dashboard say so.
 * BALANCER_ADDON_DIR points the built balancer at a folder with no addon, or a broken one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADDON_DIR_ENV } from '../../src/balancer/native-addons.js';
import type { DashboardView } from '../../src/dashboard/view.js';
import { getJson, startBackends, startBalancer } from '../helpers/balancer-fleet.js';
import { request } from '../helpers/raw-http.js';

void test('without its addons, a balancer asked for two workers serves as one process and says why', async (t) => {
  const backends = await startBackends(t, 2);
  const missing = path.join(os.tmpdir(), `no-addons-${process.pid}`);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    ['--workers', '2'],
    { [ADDON_DIR_ENV]: missing },
  );

  const said = lb.proc.lines.filter((l) => l.event === 'single-process');
  assert.equal(said.length, 1, 'the reason is logged once');
  assert.equal(said[0]?.level, 'warn');
  assert.match(said[0]?.message ?? '', /fd_passing\.node is missing/);

  const status = await lb.status();
  assert.equal(status.balancer.workers, 1);
  assert.match(status.balancer.singleProcessReason ?? '', /--workers 2 needs the native addons/);
  assert.deepEqual(
    status.workers.map((w) => w.pid),
    [status.balancer.pid],
    'one process: the balancer serves requests itself',
  );

  for (let i = 0; i < 4; i++) {
    const res = await request(lb.port, '/page.html');
    assert.equal(res.status, 200);
  }

  const view = (await getJson(lb.adminPort, '/api/dashboard')) as DashboardView;
  assert.equal(view.balancer.workers, 1);
  assert.equal(view.balancer.singleProcessReason, status.balancer.singleProcessReason);
});

void test('an addon that is there but does not load is a reason too, and the balancer still serves', async (t) => {
  const backends = await startBackends(t, 1);
  const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'broken-addons-'));
  t.after(() => fs.rmSync(broken, { recursive: true, force: true }));
  fs.writeFileSync(path.join(broken, 'fd_passing.node'), 'not a shared object');
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    ['--workers', '2'],
    { [ADDON_DIR_ENV]: broken },
  );
  const status = await lb.status();
  assert.equal(status.balancer.workers, 1);
  assert.match(status.balancer.singleProcessReason ?? '', /fd_passing\.node does not load/);
  assert.equal((await request(lb.port, '/page.html')).status, 200);
});

void test('a balancer of one process asked for never looks for the addons', async (t) => {
  const backends = await startBackends(t, 1);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    ['--workers', '1'],
    { [ADDON_DIR_ENV]: path.join(os.tmpdir(), `no-addons-${process.pid}`) },
  );
  assert.equal(lb.proc.lines.filter((l) => l.event === 'single-process').length, 0);
  assert.equal((await lb.status()).balancer.singleProcessReason, null);
});
