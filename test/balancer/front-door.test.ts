/**
 * The front door on a real balancer (a primary and two workers, static pool): maint answers with
 * `Connection: close` and waits for the connections, then writes 1 to the track file; ready writes
 * 0 and keeps connections alive again; a track file left at 1 keeps a restarted balancer in maint,
 * a 2 (a stop) does not; an unknown action is a 404. Keep-alive clients going through it lose no
 * request: the door never cuts a connection a request may be on.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runLoops, type ClientOutcome } from '../../src/hosts/client-loops.js';
import { postAdmin } from '../helpers/admin-client.js';
import { startBackends } from '../helpers/balancer-fleet.js';
import { startCluster } from '../helpers/cluster.js';
import { runNode } from '../helpers/processes.js';

void test('the front door closes without failing a request, writes the track file, and opens again', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'front-door-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const track = path.join(dir, 'front-door');
  const backends = await startBackends(t, 2);
  const lb = await startCluster(
    t,
    backends.map((b) => b.port),
    ['--vrrp-track-file', track],
  );
  assert.equal(fs.readFileSync(track, 'utf8'), '0\n', 'open once ready');

  const outcomes: ClientOutcome[] = [];
  let stop = false;
  const load = runLoops(
    {
      url: `http://127.0.0.1:${lb.port}/page.html`,
      keepAlive: 4,
      close: 2,
      rate: 200,
      durationMs: 20_000,
      timeoutMs: 5000,
    },
    (o) => outcomes.push(o),
    () => stop,
  );
  t.after(() => (stop = true));
  await new Promise((r) => setTimeout(r, 500));

  const maint = await postAdmin(lb.adminPort, '/__lb/front/maint');
  assert.equal(maint.status, 200, maint.body);
  assert.equal(maint.json.state, 'maint');
  t.diagnostic(`maint: ${maint.body.trim()}`);
  assert.equal(fs.readFileSync(track, 'utf8'), '1\n');
  const status = await lb.status();
  assert.equal(status.balancer.frontDoor.state, 'maint');
  const res = await fetch(`http://127.0.0.1:${lb.port}/page.html`);
  assert.equal(res.headers.get('connection'), 'close', 'every answer closes its connection in maint');
  await res.arrayBuffer();

  await new Promise((r) => setTimeout(r, 500));
  // Opened again the way an operator does it: npm run lb -- front-ready.
  const ready = await runNode('fleet/cli-lb', ['front-ready', '--admin-port', String(lb.adminPort)]);
  assert.equal(ready.code, 0, ready.stderr);
  assert.match(ready.stdout, /^front door open: serving, a candidate for the address again$/m);
  assert.equal((await lb.status()).balancer.frontDoor.state, 'open');
  assert.equal(fs.readFileSync(track, 'utf8'), '0\n');
  const again = await fetch(`http://127.0.0.1:${lb.port}/page.html`);
  assert.notEqual(again.headers.get('connection'), 'close');
  await again.arrayBuffer();

  const unknown = await postAdmin(lb.adminPort, '/__lb/front/sideways');
  assert.equal(unknown.status, 404);
  assert.match(String(unknown.json.error), /no front door action "sideways"/);

  stop = true;
  await load;
  const failed = outcomes.filter((o) => !o.ok);
  assert.ok(outcomes.length > 200, `${outcomes.length} requests`);
  assert.deepEqual(failed, [], 'no request failed while the door closed and opened');
});

void test('a track file left at 1 keeps a starting balancer in maint; 2 (a stop) does not', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'front-door-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const [backend] = await startBackends(t, 1);
  assert.ok(backend !== undefined);
  const maintTrack = path.join(dir, 'maint');
  fs.writeFileSync(maintTrack, '1\n');
  const kept = await startCluster(t, [backend.port], ['--vrrp-track-file', maintTrack, '--workers', '1']);
  assert.equal((await kept.status()).balancer.frontDoor.state, 'maint');
  assert.equal(fs.readFileSync(maintTrack, 'utf8'), '1\n');
  const closing = await fetch(`http://127.0.0.1:${kept.port}/page.html`);
  assert.equal(closing.headers.get('connection'), 'close');
  await closing.arrayBuffer();

  const stoppedTrack = path.join(dir, 'stopped');
  fs.writeFileSync(stoppedTrack, '2\n');
  const opened = await startCluster(t, [backend.port], ['--vrrp-track-file', stoppedTrack, '--workers', '1']);
  assert.equal((await opened.status()).balancer.frontDoor.state, 'open');
  assert.equal(fs.readFileSync(stoppedTrack, 'utf8'), '0\n');
});
