import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SupervisorError } from '../../src/errors.js';
import {
  Pm2Client,
  daemonPid,
  isPidAlive,
  pingDaemon,
  rpcSocketFile,
  withPm2,
  type Pm2ProcessEvent,
  type Pm2ProcessMessage,
} from '../../src/supervisor/pm2-client.js';
import { createPm2Home, fixtureApp, writeFixtures } from '../helpers/pm2-home.js';
import { waitFor } from '../helpers/wait.js';

void test('with launchDaemon false, no daemon means ERR_PM2_DAEMON_DOWN and no daemon gets started', async (t) => {
  const pm2 = await createPm2Home(t);
  await assert.rejects(Pm2Client.connect({ pm2Home: pm2.home, launchDaemon: false }), (err: unknown) => {
    assert.ok(err instanceof SupervisorError);
    assert.equal(err.code, 'ERR_PM2_DAEMON_DOWN');
    assert.match(err.message, new RegExp(`no PM2 daemon is running in ${pm2.home}`));
    return true;
  });
  assert.equal(await pingDaemon(rpcSocketFile(pm2.home)), false);
  assert.equal(await daemonPid(pm2.home), null);
  assert.equal(fs.existsSync(path.join(pm2.home, 'pids')), false, 'PM2 did not even set up its folders');
});

void test('the wrapper starts, lists, describes, restarts, stops and deletes apps, and kills the daemon', async (t) => {
  const pm2 = await createPm2Home(t);
  const { server } = await writeFixtures(pm2.home);
  const app = fixtureApp(server, 'fx-one', { LB_POOL: 'test' }, { exec_mode: 'fork', kill_timeout: 3000 });

  const listed = await withPm2({ pm2Home: pm2.home }, async (client) => {
    assert.equal(client.pm2Home, pm2.home);
    await client.start([app]);
    return client.list();
  });
  assert.equal(listed.length, 1);
  const first = listed[0];
  assert.equal(first?.name, 'fx-one');
  assert.equal(first?.status, 'online');
  assert.equal(first?.env.LB_POOL, 'test');
  assert.equal(first?.env.PM2_HOME, pm2.home, 'PM2 hands its home to the app');
  assert.ok(first?.pid !== null && first?.pid !== undefined && isPidAlive(first.pid));
  pm2.track(first.pid);
  const daemon = await daemonPid(pm2.home);
  assert.ok(daemon !== null && isPidAlive(daemon));

  const client = await Pm2Client.connect({ pm2Home: pm2.home, launchDaemon: false });
  t.after(() => client.disconnect());
  assert.equal((await client.describe('fx-one')).length, 1);
  assert.deepEqual(await client.describe('nobody'), []);

  await client.restart('fx-one');
  const [restarted] = await client.describe('fx-one');
  assert.equal(restarted?.restarts, 1);
  assert.notEqual(restarted?.pid, first.pid);
  assert.equal(isPidAlive(first.pid), false, 'the old process is gone');
  if (restarted?.pid) pm2.track(restarted.pid);

  await client.stop('fx-one');
  assert.equal((await client.describe('fx-one'))[0]?.status, 'stopped');
  await client.delete('fx-one');
  assert.deepEqual(await client.list(), []);

  await assert.rejects(client.stop('nobody'), (err: unknown) => {
    assert.ok(err instanceof SupervisorError);
    assert.equal(err.code, 'ERR_PM2_APP_NOT_FOUND');
    assert.match(err.message, /^pm2 stop nobody failed: /);
    assert.notEqual(err.cause, undefined, 'PM2 error kept as the cause');
    return true;
  });

  await client.killDaemon();
  await waitFor(() => !isPidAlive(daemon), 'the daemon to exit');
  assert.equal(await daemonPid(pm2.home), null);
});

void test('the bus reports a restart as stopping notice, exit, then online, and a kill as such', async (t) => {
  const pm2 = await createPm2Home(t);
  const { server } = await writeFixtures(pm2.home);
  const client = await Pm2Client.connect({ pm2Home: pm2.home });
  t.after(() => client.disconnect());
  await client.start([fixtureApp(server, 'fx-bus')]);
  const bus = await client.launchBus();
  const seen: string[] = [];
  const events: Pm2ProcessEvent[] = [];
  const messages: Pm2ProcessMessage[] = [];
  let killed = false;
  bus.onProcessEvent((e) => {
    events.push(e);
    seen.push(`${e.event}:${e.status ?? '?'}`);
  });
  bus.onProcessMessage((m) => {
    messages.push(m);
    if (typeof m.data === 'object' && m.data !== null)
      seen.push(`msg:${(m.data as { event?: string }).event}`);
  });
  bus.onDaemonKill(() => (killed = true));

  await client.restart('fx-bus');
  await waitFor(
    () => seen.includes('online:launching') || seen.some((s) => s.startsWith('online')),
    'online',
  );
  const stopping = seen.indexOf('msg:stopping');
  const exit = seen.findIndex((s) => s.startsWith('exit:'));
  const online = seen.findIndex((s) => s.startsWith('online:'));
  assert.ok(stopping >= 0, `the app's stopping notice arrived (${seen.join(', ')})`);
  assert.ok(stopping < exit && exit < online, `notice, then exit, then online: ${seen.join(', ')}`);
  assert.equal(events.find((e) => e.event === 'exit')?.name, 'fx-bus');
  assert.equal(
    messages.find((m) => m.raw === 'ready')?.name,
    'fx-bus',
    "the app's 'ready' is on the bus too",
  );

  await pm2.jlist();
  await pm2.pm2(['kill']);
  await waitFor(() => killed, 'pm2:kill on the bus');
});
