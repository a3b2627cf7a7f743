import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAction, runSchedule, type DemoActions } from '../../src/demo/action-runner.js';
import { SupervisorError } from '../../src/errors.js';
import { parseScheduleEntry } from '../../src/demo/schedule.js';

/** A pretend PM2: pids change on restart and start, kill and stop take the pid away. */
function fakeActions(calls: string[]): DemoActions {
  const pids = new Map([
    ['a', 100],
    ['b', 200],
    ['balancer', 300],
  ]);
  let next = 1000;
  return {
    pidOf: (app) => Promise.resolve(pids.get(app) ?? null),
    restart: (app) => {
      calls.push(`restart ${app}`);
      pids.set(app, next++);
      return Promise.resolve();
    },
    kill: (app) => {
      calls.push(`kill ${app}`);
      const pid = pids.get(app);
      if (pid === undefined)
        return Promise.reject(new SupervisorError('ERR_PM2_NOT_RUNNING', `${app} has no pid`));
      pids.delete(app);
      return Promise.resolve(pid);
    },
    stop: (app) => {
      calls.push(`stop ${app}`);
      pids.delete(app);
      return Promise.resolve();
    },
    start: (app) => {
      calls.push(`start ${app}`);
      pids.set(app, next++);
      return Promise.resolve();
    },
    slowClients: (count) => {
      calls.push(`slow-clients ${count}`);
      return Promise.resolve(`${count} slow uploads over 8s: ${count} x 200`);
    },
    reloadBalancer: () => {
      calls.push('reload balancer');
      return Promise.resolve('reload 1 done');
    },
    killBalancerWorker: () => {
      calls.push('kill a balancer worker');
      return Promise.resolve('worker 1 killed');
    },
    reloadAll: () => {
      calls.push('reload all');
      return Promise.resolve('all reloaded');
    },
  };
}

void test('each action says what it did, with the pid it acted on', async () => {
  const calls: string[] = [];
  const actions = fakeActions(calls);
  const clock = () => 0;
  const details = [];
  for (const text of ['1s:restart:a', '2s:kill:b', '3s:stop:a', '4s:start:a']) {
    const record = await runAction(parseScheduleEntry(text), actions, clock);
    assert.equal(record.ok, true, record.detail);
    details.push(record.detail);
  }
  assert.deepEqual(details, [
    'restarted, pid 100 -> 1000',
    'pid 200 killed with SIGKILL',
    'stopped, pid 1000 gone',
    'started, pid 1001',
  ]);
  assert.deepEqual(calls, ['restart a', 'kill b', 'stop a', 'start a']);
});

void test("the balancer's actions go to the balancer: a reload, a worker killed, the whole fleet reloaded", async () => {
  const calls: string[] = [];
  const actions = fakeActions(calls);
  const records = [];
  for (const text of ['1s:reload:balancer', '2s:kill:balancer-worker', '3s:reload:all']) {
    records.push(await runAction(parseScheduleEntry(text), actions, () => 0));
  }
  assert.deepEqual(
    records.map((r) => [r.ok, r.detail, r.pidBefore]),
    [
      [true, 'reload 1 done', 300],
      [true, 'worker 1 killed', null],
      [true, 'all reloaded', null],
    ],
    "a worker or the whole fleet has no PM2 pid of its own; the balancer's reload names its primary's",
  );
  assert.deepEqual(calls, ['reload balancer', 'kill a balancer worker', 'reload all']);
});

void test('an action that fails is recorded as failed with the reason, not thrown', async () => {
  const record = await runAction(parseScheduleEntry('1s:kill:nobody'), fakeActions([]), () => 5);
  assert.equal(record.ok, false);
  assert.equal(record.detail, 'ERR_PM2_NOT_RUNNING: nobody has no pid');
  assert.equal(record.pidBefore, null);
  assert.equal(record.startedAtMs, 5);
});

void test('the schedule runs every action in time order and reports each as it ends', async () => {
  const calls: string[] = [];
  const started = Date.now();
  const reported: string[] = [];
  const run = runSchedule(
    ['30ms:kill:b', '10ms:restart:a'].map(parseScheduleEntry).sort((x, y) => x.atMs - y.atMs),
    fakeActions(calls),
    () => Date.now() - started,
    (r) => reported.push(`${r.action} ${r.app}`),
  );
  const records = await run.done;
  assert.deepEqual(calls, ['restart a', 'kill b']);
  assert.deepEqual(reported, ['restart a', 'kill b']);
  assert.ok(
    records.every((r) => r.startedAtMs >= r.atMs),
    'no action starts before its time',
  );
});

void test('cancel drops the actions not started yet', async () => {
  const calls: string[] = [];
  const started = Date.now();
  const run = runSchedule(
    [parseScheduleEntry('1m:restart:a')],
    fakeActions(calls),
    () => Date.now() - started,
    () => {},
  );
  run.cancel();
  assert.deepEqual(await run.done, []);
  assert.deepEqual(calls, []);
});

void test('an action never starts before its time on the demo clock, even when timers run ahead of it', async () => {
  const started = Date.now();
  // A clock at half speed: every timer fires "early" by its measure.
  const slowClock = () => (Date.now() - started) / 2;
  const run = runSchedule([parseScheduleEntry('30ms:restart:a')], fakeActions([]), slowClock, () => {});
  const [record] = await run.done;
  assert.ok(record !== undefined);
  assert.ok(record.startedAtMs >= 30, `started at ${record.startedAtMs}`);
});

void test('a slow-clients entry takes a count, runs without a PM2 app, and records what the clients got', async () => {
  const entry = parseScheduleEntry('2s:slow-clients:20');
  assert.deepEqual(entry, { atMs: 2000, action: 'slow-clients', app: '20' });
  assert.throws(() => parseScheduleEntry('2s:slow-clients:many'), /count of clients from 1 to 500/);
  assert.throws(() => parseScheduleEntry('2s:slow-clients:0'), /count of clients/);
  const calls: string[] = [];
  const record = await runAction(entry, fakeActions(calls), () => 0);
  assert.equal(record.ok, true);
  assert.equal(record.detail, '20 slow uploads over 8s: 20 x 200');
  assert.equal(record.pidBefore, null);
  assert.deepEqual(calls, ['slow-clients 20']);
});
