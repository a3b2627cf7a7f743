/**
 * `npm stop` with nothing running says so and exits 0, and starts no PM2 daemon (PM2's own
 * `pm2 delete` would start one and then fail). The running case is in namespace.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { test } from 'node:test';
import { createPm2Home } from '../helpers/pm2-home.js';
import { runNode } from '../helpers/processes.js';

void test('npm stop with no daemon: "nothing to stop", exit 0, and still no daemon', async (t) => {
  const pm2 = await createPm2Home(t);
  const stopped = await runNode('fleet/cli-stop', [], pm2.env);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, /nothing to stop/);
  assert.equal(await pm2.daemonPid(), null, 'no daemon was started');
  // Loading PM2's module makes its folders; a daemon would also leave its pid file and sockets.
  const left = await fs.readdir(pm2.home);
  for (const file of ['pm2.pid', 'rpc.sock', 'pub.sock'])
    assert.ok(!left.includes(file), `${file} in PM2_HOME`);
});

void test('npm stop with a bad option exits 2 naming it, and starts no daemon', async (t) => {
  const pm2 = await createPm2Home(t);
  const stopped = await runNode('fleet/cli-stop', ['--timeout', 'soon'], pm2.env);
  assert.equal(stopped.code, 2);
  assert.match(stopped.stderr, /--timeout: "soon" is not a duration/);
  assert.equal(await pm2.daemonPid(), null, 'no daemon was started');
});
