/**
 * Reloads of the real fleet under a real PM2 daemon, with load through the balancer (a cluster of
 * two workers under PM2): `npm run reload:balancer`, `npm run reload`, every backend reloaded by
 * PM2 at once, and the daemon killed. None may cost a request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { quietLogger } from '../helpers/memory-logger.js';
import { loadFleetApps } from '../../src/fleet/ecosystem.js';
import { ensureFleet } from '../../src/fleet/fleet.js';
import { readBalancerStatus } from '../../src/balancer/status-reader.js';
import { runLoad, getJson, type LoadResult } from '../helpers/balancer-fleet.js';
import { createPm2Home, findFreePortOffset, terminate } from '../helpers/pm2-home.js';
import { runNode } from '../helpers/processes.js';
import { isPidAlive } from '../../src/supervisor/pm2-client.js';
import { waitFor } from '../helpers/wait.js';
import { postAdmin } from '../helpers/admin-client.js';

const quiet = quietLogger;

const backends = loadFleetApps({}, 0)
  .filter((a) => a.role === 'backend')
  .map((a) => a.name);

/** Keep-alive and Connection: close clients, GETs and a POST, until `action` is done. */
async function underLoad(port: number, action: () => Promise<void>): Promise<LoadResult[]> {
  let done = false;
  const body = Buffer.alloc(10_000, 'y');
  const client = (keepAlive: boolean, post: boolean) =>
    runLoad(port, {
      total: 100_000,
      concurrency: 3,
      keepAlive,
      ...(post ? { body } : {}),
      stopWhen: () => done,
    });
  const loads = Promise.all([client(true, false), client(false, false), client(true, true)]);
  try {
    await action();
  } finally {
    done = true;
  }
  return loads;
}

/**
 * Watches one primary and its workers through a PM2 restart: whether a worker was still alive
 * once the primary had gone (they serve on until the next primary's are ready), and that they all
 * went in the end. Bounded: gives up after 30 s.
 */
async function watchOutliving(
  primary: number,
  workers: readonly number[],
): Promise<{ outlived: boolean; gone: boolean }> {
  let outlived = false;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const serving = workers.filter(isPidAlive);
    if (!isPidAlive(primary)) {
      if (serving.length > 0) outlived = true;
      else return { outlived, gone: true };
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return { outlived, gone: false };
}

function assertNoneFailed(results: readonly LoadResult[], what: string): void {
  for (const r of results) {
    assert.equal(r.failed, 0, `${what}: ${r.problems.join('; ')}`);
    assert.ok(r.ok > 0, `${what}: every client was served`);
  }
}

void test('the fleet reloads under load without losing a request', async (t) => {
  const pm2 = await createPm2Home(t);
  const offset = await findFreePortOffset();
  const logDir = path.join(pm2.home, 'fleet-logs');
  fs.mkdirSync(logDir);
  const stateFile = path.join(pm2.home, 'balancer-state.json');
  const env = {
    FLEET_LOG_DIR: logDir,
    LOG_LEVEL: 'warn',
    PM2_HOME: pm2.home,
    BALANCER_WORKERS: '2',
    STATE_FILE: stateFile,
  };
  const fleet = await ensureFleet({
    portOffset: offset,
    logger: quiet,
    pm2Home: pm2.home,
    only: [...backends, 'balancer'],
    env,
  });
  const track = async () => {
    for (const entry of await pm2.jlist()) pm2.track(entry.pid);
  };
  await track();
  const balancer = fleet.app('balancer');
  const status = async () => readBalancerStatus(await getJson(balancer.adminPort ?? 0, '/__lb/status'));
  const reload = (args: string[]) =>
    runNode('fleet/cli-reload', args, { PM2_HOME: pm2.home, PORT_OFFSET: String(offset) }, 120_000);
  assert.equal((await status()).workers.length, 2, 'the balancer under PM2 runs two workers');

  await t.test('npm run reload:balancer five times in a row', async () => {
    const results = await underLoad(balancer.port, async () => {
      for (let n = 1; n <= 5; n++) {
        const run = await reload(['--balancer']);
        assert.equal(run.code, 0, run.stderr + run.stdout);
        assert.match(run.stdout, /balancer reloaded in \d+ ms: 2 workers of generation \d+/);
      }
    });
    assertNoneFailed(results, 'reload:balancer');
    assert.equal((await status()).balancer.reloads, 5);
  });

  await t.test('npm run reload: every app in turn, the balancer last', async () => {
    const results = await underLoad(balancer.port, async () => {
      const run = await reload([]);
      assert.equal(run.code, 0, run.stderr + run.stdout);
      for (const name of backends)
        assert.match(run.stdout, new RegExp(`${name} restarted, back in rotation`));
      assert.match(run.stdout, /balancer reloaded/);
    });
    await track();
    assertNoneFailed(results, 'reload');
  });

  await t.test('pm2 restart of the balancer: the next primary takes the sockets over', async () => {
    const before = await status();
    const primaries: number[] = [];
    const watches: Promise<{ outlived: boolean; gone: boolean }>[] = [];
    const results = await underLoad(balancer.port, async () => {
      for (let n = 1; n <= 3; n++) {
        const current = await status();
        primaries.push(current.balancer.pid);
        watches.push(
          watchOutliving(
            current.balancer.pid,
            current.workers.map((w) => w.pid),
          ),
        );
        const run = await pm2.pm2(['restart', 'balancer'], env, 60_000);
        assert.equal(run.code, 0, run.stderr);
        await track();
      }
      // The last one's old workers serve until the new ones are ready, then drain.
      await new Promise((r) => setTimeout(r, 1500));
    });
    await track();
    assertNoneFailed(results, 'pm2 restart balancer');
    const after = await status();
    assert.equal(after.workers.length, 2);
    assert.ok(
      after.workers.every((w) => !before.workers.some((b) => b.pid === w.pid)),
      'every worker is new',
    );
    // The sockets themselves went from each primary to the next, not a new bind.
    assert.equal(after.balancer.takenOverFrom, primaries.at(-1));
    // PM2 waited for each primary alone (treekill off): its workers served on after it, then went.
    for (const [n, watched] of (await Promise.all(watches)).entries()) {
      assert.deepEqual(watched, { outlived: true, gone: true }, `restart ${n + 1}`);
    }
  });

  await t.test(
    'pm2 reload all: requests wait for the pool, the balancer hands its sockets over',
    async () => {
      const results = await underLoad(balancer.port, async () => {
        // PM2 reloads every app two at a time, the balancer's primary among them.
        const run = await pm2.pm2(['reload', 'all'], env, 60_000);
        assert.equal(run.code, 0, run.stderr);
        await track();
        // Back in rotation, each after one good check once PM2 said it is online.
        const deadline = Date.now() + 30_000;
        while ((await status()).pool.available < backends.length && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
        }
      });
      await track();
      assertNoneFailed(results, 'pm2 reload all');
      assert.equal((await status()).pool.available, backends.length);
    },
  );

  await t.test(
    'pm2 scale of a backend: the second process waits for the port, the original stays in rotation',
    async () => {
      const name = backends[0] ?? '';
      const restartsBefore = (await pm2.jlist()).find((e) => e.name === name)?.pm2_env.restart_time;
      const results = await underLoad(balancer.port, async () => {
        const scaled = await pm2.pm2(['scale', name, '2'], env, 60_000);
        assert.equal(scaled.code, 0, scaled.stderr);
        await track();
        const log = path.join(logDir, `${name}.err.log`);
        const deadline = Date.now() + 20_000;
        while (!/waiting for it to be free/.test(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '')) {
          assert.ok(Date.now() < deadline, 'the second process says why it waits');
          await new Promise((r) => setTimeout(r, 200));
        }
        await new Promise((r) => setTimeout(r, 3000));
      });
      const processes = (await pm2.jlist()).filter((e) => e.name === name);
      assert.equal(processes.length, 2);
      const [original, second] = [...processes].sort((x, y) => x.pm_id - y.pm_id);
      assert.equal(original?.pm2_env.restart_time, restartsBefore, 'the original was not restarted');
      assert.equal(second?.pm2_env.restart_time, 0, 'the second process waits instead of crash-looping');
      assertNoneFailed(results, 'pm2 scale');
      const member = (await status()).upstreams.find((u) => u.name === name);
      assert.equal(member?.available, true, 'the original is still in rotation');
      const ignored = fs.readFileSync(path.join(logDir, 'balancer.err.log'), 'utf8');
      assert.match(ignored, new RegExp(`${name} \\(pm_id \\d+\\) is in pool web but is a second process`));
    },
  );

  const decide = async (name: string, action: string): Promise<void> => {
    const answer = await postAdmin(balancer.adminPort ?? 0, `/__lb/upstreams/${name}/${action}`);
    assert.equal(answer.status, 200, answer.body);
  };
  const adminOf = async () =>
    new Map((await status()).upstreams.map((u) => [u.name, `${u.admin} ${u.weight}`] as const));
  const [inMaint = '', weighed = ''] = backends.slice(1);

  await t.test(
    "operators' decisions hold through pm2 restart balancer, and are in the state file",
    async () => {
      await decide(inMaint, 'maint');
      await decide(weighed, 'weight/3');
      const before = await adminOf();
      assert.equal(before.get(inMaint), 'maint 1');
      assert.equal(before.get(weighed), 'ready 3');
      const kept = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { upstreams: Record<string, unknown> };
      assert.deepEqual(Object.keys(kept.upstreams).sort(), [inMaint, weighed].sort());
      const oldPid = (await status()).balancer.pid;
      const run = await pm2.pm2(['restart', 'balancer'], env, 60_000);
      assert.equal(run.code, 0, run.stderr);
      await track();
      await waitFor(async () => (await status()).balancer.pid !== oldPid, 'a new primary');
      assert.deepEqual(await adminOf(), before);
    },
  );

  await t.test('a backend in maint that PM2 restarts stays in maint and gets no request', async () => {
    const run = await pm2.pm2(['restart', inMaint], env, 60_000);
    assert.equal(run.code, 0, run.stderr);
    await track();
    await waitFor(
      async () => (await status()).upstreams.find((u) => u.name === inMaint)?.pm2?.status === 'online',
      `${inMaint} online again`,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const member = (await status()).upstreams.find((u) => u.name === inMaint);
    assert.equal(member?.admin, 'maint');
    assert.equal(member?.available, false);
    const load = await runLoad(balancer.port, { total: 60, concurrency: 3, keepAlive: false });
    assert.equal(load.failed, 0, load.problems.join('; '));
    assert.equal(load.servedBy.get(inMaint) ?? 0, 0);
  });

  await t.test('kill -9 of the primary under load: nothing fails, and the decisions hold', async () => {
    const before = await status();
    const decisions = await adminOf();
    const results = await underLoad(balancer.port, async () => {
      await new Promise((r) => setTimeout(r, 500));
      process.kill(before.balancer.pid, 'SIGKILL');
      // PM2 starts the next primary; it takes the sockets and the zone from the old workers.
      const after = await waitFor(
        async () => {
          try {
            const s = await status();
            return s.balancer.pid !== before.balancer.pid && s.workers.length === 2 ? s : false;
          } catch {
            return false; // the admin port is bound again by the next primary
          }
        },
        'the next primary to serve',
        { timeoutMs: 30_000 },
      );
      await track();
      assert.equal(after.balancer.takenOverFrom, before.balancer.pid, 'it took the sockets over');
      await new Promise((r) => setTimeout(r, 1500));
    });
    await track();
    assertNoneFailed(results, 'kill -9 of the primary');
    assert.deepEqual(await adminOf(), decisions);
    // The old workers drained once the new ones served.
    await waitFor(() => before.workers.every((w) => !isPidAlive(w.pid)), 'the old workers to exit', {
      timeoutMs: 30_000,
    });
    await decide(inMaint, 'ready');
    await decide(weighed, 'weight/1');
  });

  await t.test(
    'pm2 stop of the balancer: its workers go too and the port is let go; pm2 start binds it again',
    async () => {
      const before = await status();
      const watch = watchOutliving(
        before.balancer.pid,
        before.workers.map((w) => w.pid),
      );
      const stopped = await pm2.pm2(['stop', 'balancer'], env, 60_000);
      assert.equal(stopped.code, 0, stopped.stderr);
      // No next primary is coming: the holder sees PM2's stop and drains the workers it kept.
      assert.equal((await watch).gone, true, 'every worker of the stopped balancer exited');
      const refused = (): Promise<boolean> =>
        new Promise((resolve) => {
          const s = net.connect(balancer.port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve(false)));
          s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
        });
      await waitFor(refused, 'the balancer port to be refused', { timeoutMs: 5000 });
      const started = await pm2.pm2(['start', 'balancer'], env, 60_000);
      assert.equal(started.code, 0, started.stderr);
      await track();
      const again = await waitFor(async () => {
        const s = await status();
        return s.workers.length === 2 && s.pool.available >= backends.length ? s : false;
      }, 'the balancer to serve again');
      assert.equal(again.balancer.takenOverFrom, null, 'a start after a stop binds its own sockets');
    },
  );

  await t.test('the PM2 daemon killed: the balancer and its workers keep serving', async (st) => {
    const orphans = (await pm2.jlist()).map((e) => e.pid).filter((pid) => pid > 0);
    const workers = (await status()).workers.map((w) => w.pid);
    // Without a daemon nobody else stops them: this subtest does, by pid, even when it fails.
    st.after(() => terminate([...orphans, ...workers]));
    const daemon = await pm2.daemonPid();
    assert.ok(daemon !== null);
    const results = await underLoad(balancer.port, async () => {
      process.kill(daemon, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 2000));
    });
    assertNoneFailed(results, 'daemon killed');
  });
});
