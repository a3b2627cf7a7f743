import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { SupervisorError } from '../../src/errors.js';
import { quietLogger } from '../helpers/memory-logger.js';
import { loadFleetApps } from '../../src/fleet/ecosystem.js';
import { ensureFleet, poolShortfall } from '../../src/fleet/fleet.js';
import { statusDocument } from '../helpers/status-document.js';
import { holdPort } from '../helpers/held-port.js';
import { createFleetHome } from '../helpers/pm2-home.js';
import { waitFor } from '../helpers/wait.js';

const quiet = quietLogger;

const names = loadFleetApps({}, 0);
const backends = names.filter((a) => a.role === 'backend').map((a) => a.name);
const balancer = names.find((a) => a.role === 'balancer')?.name ?? 'balancer';

void test('the pool is complete when the balancer has every backend available', () => {
  const status = statusDocument(2, ['b2']);
  assert.equal(poolShortfall(status, ['b1']), null);
  assert.equal(poolShortfall(status, ['b1', 'b2', 'b3']), 'not yet in rotation: b2, b3');
  assert.equal(poolShortfall({}, ['b1']), 'balancer status: balancer is not an object');
});

void test('ensureFleet starts only what is missing, waits for the pool, and stop() undoes only that', async (t) => {
  const { pm2, offset, env } = await createFleetHome(t);
  // Someone already runs one backend of this fleet.
  const [mine, ...others] = backends;
  const pre = await pm2.pm2(['start', 'ecosystem.config.cjs', '--only', mine as string], {
    ...env,
    PORT_OFFSET: String(offset),
  });
  assert.equal(pre.code, 0, pre.stderr);

  const only = [...backends, balancer];
  const fleet = await ensureFleet({ portOffset: offset, logger: quiet, pm2Home: pm2.home, only, env });
  for (const entry of await pm2.jlist()) pm2.track(entry.pid);
  assert.deepEqual([...fleet.startedByUs].sort(), [...others, balancer].sort());
  assert.deepEqual(fleet.restartedByUs, []);
  assert.deepEqual(
    fleet.apps.map((a) => a.name),
    only,
  );
  assert.equal(fleet.pm2Home, pm2.home);
  assert.equal(fleet.app(balancer).port, (names.find((a) => a.name === balancer)?.port ?? 0) + offset);
  // Resolved only once the balancer had every backend in rotation.
  const status = await new Promise<unknown>((resolve, reject) => {
    http
      .get(fleet.app(balancer).statusUrl as string, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
  assert.equal(poolShortfall(status, backends), null);

  // A second caller finds it running and starts nothing; its stop() leaves everything alone.
  const again = await ensureFleet({ portOffset: offset, logger: quiet, pm2Home: pm2.home, only, env });
  assert.deepEqual(again.startedByUs, []);
  await again.stop();
  assert.equal((await pm2.jlist()).length, only.length);

  // The first caller's stop() deletes what it started, and only that; twice is harmless.
  await fleet.stop();
  await fleet.stop();
  const left = await pm2.jlist();
  assert.deepEqual(
    left.map((e) => [e.name, e.pm2_env.status]),
    [[mine, 'online']],
  );
  assert.throws(() => fleet.app('nope'), /no app named nope/);
});

void test('ensureFleet refuses a port another program answers on, before touching PM2', async (t) => {
  const { pm2, offset, env } = await createFleetHome(t);
  const target = loadFleetApps(env, offset).find((a) => a.role === 'backend');
  assert.ok(target !== undefined);
  const impostor = http.createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ status: 'ok', name: 'someone-else' }));
  });
  await new Promise<void>((resolve) => impostor.listen(target.port, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => impostor.close(() => resolve())));

  await assert.rejects(
    ensureFleet({ portOffset: offset, logger: quiet, pm2Home: pm2.home, only: [target.name], env }),
    (err: unknown) => {
      assert.ok(err instanceof SupervisorError);
      assert.equal(err.code, 'ERR_FLEET_PORT_TAKEN');
      assert.match(
        err.message,
        new RegExp(`port ${target.port} is served by "someone-else", not ${target.name}`),
      );
      return true;
    },
  );
  assert.equal(await pm2.daemonPid(), null, 'no daemon was started');
});

void test('a port another process listens on fails ensureFleet before anything starts, naming the process', async (t) => {
  const { pm2, offset, env } = await createFleetHome(t);
  const [first, second] = loadFleetApps(env, offset).filter((a) => a.role === 'backend');
  assert.ok(first !== undefined && second !== undefined);
  // Something that is not an HTTP server holds the second backend's port. (Before the port check,
  // the backend crash-looped on EADDRINUSE; now it would retry the port for 75 s.)
  await holdPort(t, second.port);
  // The process's name as the kernel has it: `node`, or `node-MainThread` on newer Node lines.
  const ownName = fs.readFileSync('/proc/self/comm', 'utf8').trim();

  await assert.rejects(
    ensureFleet({
      portOffset: offset,
      logger: quiet,
      pm2Home: pm2.home,
      only: [first.name, second.name],
      env,
      timeoutMs: 4000,
    }),
    (err: unknown) => {
      assert.ok(err instanceof SupervisorError);
      assert.equal(err.code, 'ERR_FLEET_PORT_TAKEN');
      assert.match(
        err.message,
        new RegExp(
          `${second.name} needs port ${second.port}, which is listened on by pid ${process.pid} \\(${ownName}\\)`,
        ),
      );
      assert.doesNotMatch(err.message, new RegExp(`${first.name} needs`), 'the free one is not named');
      return true;
    },
  );
  assert.deepEqual(await pm2.jlist(), [], 'nothing was started');
});

void test("a backend under PM2 whose port is held waits for it, past PM2's whole restart backoff, and is never restarted", async (t) => {
  const { pm2, offset, env } = await createFleetHome(t);
  const [app] = loadFleetApps(env, offset).filter((a) => a.role === 'backend');
  assert.ok(app !== undefined);
  // Held by a listener this test closes later (as a process that is still exiting would).
  const squatter = await holdPort(t, app.port);
  const started = await pm2.pm2(['start', 'ecosystem.config.cjs', '--only', app.name], {
    ...env,
    PORT_OFFSET: String(offset),
  });
  assert.equal(started.code, 0, started.stderr);
  for (const entry of await pm2.jlist()) pm2.track(entry.pid);
  // Longer than PM2's backoff for 10 quick restarts (about 11 s).
  await new Promise((resolve) => setTimeout(resolve, 13_000));
  await squatter.release();
  await waitFor(
    () =>
      new Promise<boolean | undefined>((resolve) => {
        http
          .get({ host: '127.0.0.1', port: app.port, path: '/healthz', agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode === 200 ? true : undefined);
          })
          .on('error', () => resolve(undefined));
      }),
    `${app.name} to answer once the port is free`,
    { timeoutMs: 5000 },
  );
  const [entry] = await pm2.jlist();
  assert.equal(entry?.pm2_env.status, 'online');
  assert.equal(entry?.pm2_env.restart_time, 0, 'it waited for the port instead of crash-looping');
  // Warnings go to stderr, which PM2 files in .err.log.
  const log = fs.readFileSync(path.join(env.FLEET_LOG_DIR, `${app.name}.err.log`), 'utf8');
  assert.match(log, new RegExp(`127\\.0\\.0\\.1:${app.port} is in use \\(try 10\\)`));
});
