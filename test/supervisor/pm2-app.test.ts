import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toPm2App, toPm2Apps, toProcessEvent, toProcessMessage } from '../../src/supervisor/pm2-app.js';

// Shaped like PM2 7's `pm2 jlist` entries and bus packets (trimmed to the fields that matter).
const listEntry = {
  pid: 4242,
  name: 'backend-a',
  pm_id: 3,
  monit: { memory: 52_000_000, cpu: 2.5 },
  pm2_env: {
    name: 'backend-a',
    namespace: 'shop',
    pm_id: 3,
    status: 'online',
    pm_uptime: 10_000,
    restart_time: 2,
    pm_out_log_path: '/tmp/x/logs/backend-a.out.log',
    pm_err_log_path: '/tmp/x/logs/backend-a.err.log',
    PORT: '21002',
    LB_POOL: 'top-level copy',
    axm_options: {},
    env: { PORT: '21002', LB_POOL: 'web', NAME: 'backend-a', unique_id: 'abc' },
  },
};

void test('a pm2 list entry becomes a typed app, its env read from pm2_env.env first', () => {
  const app = toPm2App(listEntry, 12_500);
  assert.deepEqual(app, {
    pmId: 3,
    name: 'backend-a',
    namespace: 'shop',
    status: 'online',
    pid: 4242,
    restarts: 2,
    uptimeMs: 2500,
    memoryBytes: 52_000_000,
    cpuPercent: 2.5,
    env: {
      name: 'backend-a',
      namespace: 'shop',
      status: 'online',
      pm_out_log_path: '/tmp/x/logs/backend-a.out.log',
      pm_err_log_path: '/tmp/x/logs/backend-a.err.log',
      PORT: '21002',
      LB_POOL: 'web',
      NAME: 'backend-a',
      unique_id: 'abc',
    },
    outLogPath: '/tmp/x/logs/backend-a.out.log',
    errLogPath: '/tmp/x/logs/backend-a.err.log',
  });
});

void test('a stopped app has no pid and no uptime; missing numbers become 0', () => {
  const app = toPm2App(
    { pid: 0, name: 'b', pm_id: 1, pm2_env: { status: 'stopped', pm_uptime: 5, env: {} } },
    100,
  );
  assert.equal(app?.pid, null);
  assert.equal(app?.uptimeMs, null);
  assert.equal(app?.memoryBytes, 0);
  assert.equal(app?.restarts, 0);
  assert.equal(app?.namespace, 'default', "PM2's namespace when the config names none");
});

void test('entries that are not shaped like PM2 apps are skipped, not thrown on', () => {
  assert.equal(toPm2App(null, 0), null);
  assert.equal(toPm2App({ name: 'x' }, 0), null);
  assert.equal(toPm2App({ pm2_env: { status: 'online' } }, 0), null);
  assert.deepEqual(
    toPm2Apps([listEntry, 'junk', { pm2_env: {} }], 0).map((a) => a.name),
    ['backend-a'],
  );
  assert.deepEqual(toPm2Apps({ not: 'a list' }, 0), []);
});

void test('a process:event packet gives the event, the app, its status and its flattened env', () => {
  const event = toProcessEvent({
    event: 'exit',
    manually: false,
    at: 1,
    process: {
      name: 'backend-a',
      namespace: 'shop',
      pm_id: 3,
      status: 'stopping',
      restart_time: 4,
      exit_code: 0,
      PORT: '21002',
      LB_POOL: 'web',
    },
  });
  assert.deepEqual(event, {
    event: 'exit',
    name: 'backend-a',
    namespace: 'shop',
    pmId: 3,
    status: 'stopping',
    restarts: 4,
    exitCode: 0,
    manually: false,
    env: { name: 'backend-a', namespace: 'shop', status: 'stopping', PORT: '21002', LB_POOL: 'web' },
  });
  assert.equal(toProcessEvent({ event: 'exit' }), null);
  assert.equal(toProcessEvent({ process: { name: 'a' } }), null);
});

void test('a process:msg packet keeps raw messages and data messages apart', () => {
  assert.deepEqual(toProcessMessage({ raw: 'ready', process: { name: 'a', pm_id: 1 } }), {
    name: 'a',
    pmId: 1,
    raw: 'ready',
    data: undefined,
  });
  assert.deepEqual(
    toProcessMessage({ data: { event: 'stopping' }, process: { name: 'a', pm_id: '2' } })?.data,
    { event: 'stopping' },
  );
  assert.equal(toProcessMessage({ raw: 'x' }), null);
});
