import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_PORTS } from '../../src/config/common.js';
import type { DemoReport } from '../../src/demo/report-files.js';
import { createPm2Home, findFreePortOffset } from '../helpers/pm2-home.js';
import { runNode } from '../helpers/processes.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

void test('a short demo restarts one backend and SIGKILLs another under load, and no request fails', async (t) => {
  const pm2 = await createPm2Home(t);
  const offset = await findFreePortOffset();
  const out = await mkdtemp('/tmp/demo-');
  t.after(() => rm(out, { recursive: true, force: true }));
  const [restarted, killed] = DEFAULT_PORTS.backends.slice(1, 3).map((port) => `backend-${port}`);
  assert.ok(restarted !== undefined && killed !== undefined);

  const run = await runNode(
    'demo-restart',
    [
      ...['--duration', '6s', '--rate', '40', '--concurrency', '4'],
      ...['--at', `1500ms:restart:${restarted}`, '--at', `3s:kill:${killed}`],
      ...['--out', out],
    ],
    { ...pm2.env, PORT_OFFSET: String(offset), FLEET_LOG_DIR: path.join(out, 'logs') },
    180_000,
  );
  const output = `${run.stdout}\n${run.stderr}`;
  assert.equal(run.code, 0, output);

  const report = JSON.parse(await readFile(path.join(out, 'timeline.json'), 'utf8')) as DemoReport;
  const { summary } = report;
  assert.equal(summary.requests.planned, 240);
  assert.equal(summary.requests.sent, 240);
  assert.equal(summary.requests.failed, 0, JSON.stringify(summary.requests.errors));
  assert.equal(summary.requests.ok, 240);
  assert.deepEqual(summary.problems, []);

  // Both actions happened: PM2 counted a restart of each, and the killed process is gone.
  assert.deepEqual(
    summary.actions.map((a) => [a.action, a.app, a.ok]),
    [
      ['restart', restarted, true],
      ['kill', killed, true],
    ],
  );
  for (const app of [restarted, killed]) {
    const count = summary.restarts.find((c) => c.app === app);
    assert.ok(count?.before != null && count.after != null, `restart counts of ${app}`);
    assert.ok(count.after > count.before, `${app}: ${count.before} -> ${count.after}`);
    assert.notEqual(count.pidAfter, count.pidBefore, `${app} runs in a new process`);
  }
  const killedPid = summary.actions.find((a) => a.action === 'kill')?.pidBefore;
  assert.ok(typeof killedPid === 'number');
  assert.equal(alive(killedPid), false, `pid ${killedPid} is gone`);

  // The balancer saw the pool, every backend served, and the killed one came back online.
  assert.equal(summary.perBackend.length, DEFAULT_PORTS.backends.length);
  assert.ok(summary.perBackend.every((b) => b.served > 0));
  assert.ok(summary.onlineToRotation.some((o) => o.app === killed && o.delayMs !== null));
  assert.ok(report.timeline.length >= 6);
  assert.match(run.stdout, /PASS: 240 requests, zero failed/);

  await access(path.join(out, 'report.md'));
  assert.match(await readFile(path.join(out, 'chart.svg'), 'utf8'), /^<svg /);

  // The demo started the fleet, so it stopped and deleted it again.
  assert.deepEqual(await pm2.jlist(), []);
});
