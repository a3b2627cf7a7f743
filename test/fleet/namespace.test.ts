/**
 * The fleet lives in its own PM2 namespace. Another project's app named `balancer`, in another
 * namespace of the same daemon, is never taken for the fleet's: not restarted, not stopped, not
 * deleted by `npm stop`; and the fleet refuses to start where PM2 would restart that app instead.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { FLEET_NAMESPACE } from '../../src/config/common.js';
import { SupervisorError } from '../../src/errors.js';
import { loadFleetApps } from '../../src/fleet/ecosystem.js';
import { ensureFleet } from '../../src/fleet/fleet.js';
import { createFleetHome, freePorts, writeFixtures, type Pm2Home } from '../helpers/pm2-home.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { ROOT, runNode } from '../helpers/processes.js';

const OTHER = 'someone-else';
const backend = (() => {
  const name = loadFleetApps({}, 0).find((a) => a.role === 'backend')?.name;
  if (name === undefined) throw new Error('the ecosystem has no backend');
  return name;
})();

/** Start the other project's `balancer` (a stand-in server) in namespace OTHER. */
async function startOtherBalancer(pm2: Pm2Home) {
  const [port] = await freePorts(1);
  const { server } = await writeFixtures(pm2.home);
  const started = await pm2.pm2(
    ['start', server, '--name', 'balancer', '--namespace', OTHER, '--no-autorestart', '--no-pmx'],
    { PORT: String(port), NAME: 'other-balancer' },
  );
  assert.equal(started.code, 0, `${started.stdout}\n${started.stderr}`);
  const entry = await theirs(pm2);
  pm2.track(entry.pid);
  assert.equal(entry.pm2_env.status, 'online');
  return entry;
}

async function theirs(pm2: Pm2Home) {
  const entry = (await pm2.jlist()).find((e) => e.name === 'balancer' && e.pm2_env.namespace === OTHER);
  assert.ok(entry !== undefined, "the other project's balancer is still in PM2");
  return entry;
}

void test("another namespace's balancer is not the fleet's: ours is restarted and stopped by id, theirs survives npm stop", async (t) => {
  const { pm2, offset, env } = await createFleetHome(t);
  const only = [backend, 'balancer'];
  // Whatever the fleet starts is the test's to find dead afterwards.
  const ensureOurs = async () => {
    const fleet = await ensureFleet({
      portOffset: offset,
      logger: memoryLogger(),
      pm2Home: pm2.home,
      only,
      env,
    });
    for (const entry of await pm2.jlist()) pm2.track(entry.pid);
    return fleet;
  };
  const fleet = await ensureOurs();
  assert.deepEqual([...fleet.startedByUs].sort(), [...only].sort());
  const other = await startOtherBalancer(pm2);

  // Our balancer goes down; the next ensureFleet must bring back ours, and only ours.
  const ours = (await pm2.jlist()).find(
    (e) => e.name === 'balancer' && e.pm2_env.namespace === FLEET_NAMESPACE,
  );
  assert.ok(ours !== undefined);
  assert.equal((await pm2.pm2(['stop', String(ours.pm_id)])).code, 0);
  const again = await ensureOurs();
  assert.deepEqual(again.startedByUs, []);
  assert.deepEqual(again.restartedByUs, ['balancer']);
  const untouched = async () => {
    const now = await theirs(pm2);
    assert.equal(now.pid, other.pid, 'same process');
    assert.equal(now.pm2_env.restart_time, 0, 'never restarted');
    assert.equal(now.pm2_env.status, 'online');
  };
  await untouched();

  // Undoing the restart stops ours alone.
  await again.stop();
  await untouched();

  // `npm stop` removes the fleet's namespace: the fleet goes, the other project's app stays.
  const scripts = (
    JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  assert.match(scripts.stop ?? '', /dist\/src\/fleet\/cli-stop\.js$/);
  const stopped = await runNode('fleet/cli-stop', [], pm2.env, 60_000);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, /stopped and removed 2 apps: /);
  const left = await pm2.jlist();
  assert.deepEqual(
    left.map((e) => [e.name, e.pm2_env.namespace, e.pm2_env.status]),
    [['balancer', OTHER, 'online']],
  );
  await untouched();
});

void test('the fleet refuses to start an app whose name another namespace holds (PM2 would restart that one)', async (t) => {
  const { pm2, offset, env } = await createFleetHome(t);
  const other = await startOtherBalancer(pm2);
  await assert.rejects(
    ensureFleet({ portOffset: offset, logger: memoryLogger(), pm2Home: pm2.home, only: ['balancer'], env }),
    (err: unknown) => {
      assert.ok(err instanceof SupervisorError);
      assert.equal(err.code, 'ERR_FLEET_NAME_TAKEN');
      assert.match(err.message, new RegExp(`balancer \\(pm2 namespace ${OTHER}\\)`));
      return true;
    },
  );
  const left = await pm2.jlist();
  assert.deepEqual(
    left.map((e) => [e.name, e.pm2_env.namespace, e.pid, e.pm2_env.restart_time]),
    [['balancer', OTHER, other.pid, 0]],
  );
});
