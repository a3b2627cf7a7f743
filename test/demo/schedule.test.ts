import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SCHEDULE_TEXT,
  formatScheduleEntry,
  leftStopped,
  parseScheduleEntry,
  pm2AppOf,
  scheduleProblems,
} from '../../src/demo/schedule.js';
import { buildDemoConfig, defaultSchedule } from '../../src/demo/config.js';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_PORTS } from '../../src/config/common.js';

// The fleet's app names (from the assignment's ports); parsing only, nothing listens here.
const [, second, third, fourth] = DEFAULT_PORTS.backends.map((p) => `backend-${p}`);

void test('a schedule entry reads as time, action and app', () => {
  assert.deepEqual(parseScheduleEntry(`5s:restart:${second}`), {
    atMs: 5000,
    action: 'restart',
    app: second,
  });
  assert.deepEqual(parseScheduleEntry('1500ms:kill:web_1'), { atMs: 1500, action: 'kill', app: 'web_1' });
  assert.equal(parseScheduleEntry('2.5s:stop:a').atMs, 2500);
});

void test('bad schedule entries are refused with a message naming the entry and the fault', () => {
  assert.throws(() => parseScheduleEntry('5s:restart'), /"5s:restart" is not TIME:ACTION:APP/);
  assert.throws(() => parseScheduleEntry('5:restart:a'), /give the time a unit/);
  assert.throws(() => parseScheduleEntry('soon:restart:a'), /not a duration/);
  assert.throws(
    () => parseScheduleEntry('5s:nap:a'),
    /action "nap" is not one of restart, kill, stop, start, reload/,
  );
  assert.throws(() => parseScheduleEntry('5s:kill:'), /"" is not a PM2 app name/);
  assert.throws(() => parseScheduleEntry('5s:kill:a b'), /is not a PM2 app name/);
});

void test("the balancer's actions read as reload:balancer, kill:balancer-worker and reload:all", () => {
  assert.deepEqual(parseScheduleEntry('7s:reload:balancer'), {
    atMs: 7000,
    action: 'reload',
    app: 'balancer',
  });
  assert.deepEqual(parseScheduleEntry('8s:kill:balancer-worker'), {
    atMs: 8000,
    action: 'kill',
    app: 'balancer-worker',
  });
  assert.deepEqual(parseScheduleEntry('9s:reload:all'), { atMs: 9000, action: 'reload', app: 'all' });
  assert.equal(
    pm2AppOf(parseScheduleEntry('8s:kill:balancer-worker')),
    'balancer',
    'a worker is the balancer app',
  );
  assert.equal(pm2AppOf(parseScheduleEntry('9s:reload:all')), null);
  assert.equal(pm2AppOf(parseScheduleEntry(`1s:kill:${second}`)), second);
});

void test('a reload of anything but the balancer or the fleet, and the keywords with other actions, are refused', () => {
  assert.throws(
    () => parseScheduleEntry(`5s:reload:${second}`),
    /reload takes balancer \(its zero-downtime reload\) or all \(a rolling reload of the fleet\)/,
  );
  assert.throws(() => parseScheduleEntry('5s:stop:balancer-worker'), /balancer-worker only goes with kill/);
  assert.throws(() => parseScheduleEntry('5s:restart:all'), /all only goes with reload/);
});

void test('an entry formats back to what --at takes', () => {
  for (const text of [
    `5s:restart:${second}`,
    '1.5s:kill:x',
    '250ms:stop:y',
    '7s:reload:balancer',
    '8s:kill:balancer-worker',
    '9s:reload:all',
  ]) {
    assert.equal(formatScheduleEntry(parseScheduleEntry(text)), text);
  }
});

void test('the default schedule is the issue one with a balancer reload: restart, reload, SIGKILL, stop, start', () => {
  assert.deepEqual(
    defaultSchedule().map((a) => [a.atMs, a.action, a.app]),
    [
      [5000, 'restart', second],
      [7000, 'reload', 'balancer'],
      [9000, 'kill', third],
      [13000, 'stop', fourth],
      [16000, 'start', fourth],
    ],
  );
  assert.deepEqual(scheduleProblems(defaultSchedule(), 20_000), []);
  assert.equal(DEFAULT_SCHEDULE_TEXT.split(' ').length, 5);
});

void test('a schedule that cannot run as written lists every problem', () => {
  const schedule = [
    '1s:start:a', // nothing stopped a
    '2s:stop:b',
    '3s:kill:b', // b is stopped
    '4s:stop:b', // stopped twice
    '5s:restart:c',
    '5s:kill:c', // same app, same moment
    '30s:restart:d', // after the load
  ].map(parseScheduleEntry);
  const problems = scheduleProblems(schedule, 20_000);
  assert.equal(problems.length, 5, problems.join('\n'));
  assert.match(problems[0] ?? '', /1s:start:a: a is running then/);
  assert.match(problems[1] ?? '', /3s:kill:b: b is stopped then/);
  assert.match(problems[2] ?? '', /4s:stop:b: b is already stopped/);
  assert.match(problems[3] ?? '', /two actions on c at the same moment/);
  assert.match(problems[4] ?? '', /30s:restart:d: happens after the load ends \(--duration 20s\)/);
});

void test('a reload of the fleet with an app stopped, or of a stopped balancer, is refused before anything runs', () => {
  const schedule = [
    '1s:stop:b',
    '2s:reload:all', // b is stopped
    '3s:start:b',
    '4s:reload:all',
    '5s:stop:balancer',
    '6s:reload:balancer', // the balancer is stopped
    '7s:kill:balancer-worker', // so are its workers
  ].map(parseScheduleEntry);
  const problems = scheduleProblems(schedule, 20_000);
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems[0] ?? '', /2s:reload:all: b is stopped then; reload:all restarts every backend/);
  assert.match(problems[1] ?? '', /6s:reload:balancer: balancer is stopped then/);
  assert.match(problems[2] ?? '', /7s:kill:balancer-worker: balancer is stopped then/);
});

void test('apps the schedule leaves stopped are known, so nobody waits for them', () => {
  const schedule = ['1s:stop:a', '2s:stop:b', '3s:start:a'].map(parseScheduleEntry);
  assert.deepEqual([...leftStopped(schedule)], ['b']);
});

void test('the demo config: defaults, --at replacing the schedule in time order, --no-retry, PORT_OFFSET', () => {
  const now = new Date('2025-01-02T03:04:05.678Z');
  const plain = buildDemoConfig({ argv: [], env: {} }, now).config;
  assert.equal(plain.durationMs, 20_000);
  assert.equal(plain.rate, 200);
  assert.equal(plain.retries, true);
  assert.equal(plain.schedule.length, 5);
  assert.match(plain.outDir, /bench[/\\]results[/\\]demo-2025-01-02T03-04-05-678Z$/);

  const custom = buildDemoConfig(
    {
      argv: ['--duration', '6s', '--at', `3s:kill:${third}`, '--at', `1s:restart:${second}`, '--no-retry'],
      env: { PORT_OFFSET: '10000' },
    },
    now,
  ).config;
  assert.equal(custom.durationMs, 6000);
  assert.deepEqual(
    custom.schedule.map((a) => a.action),
    ['restart', 'kill'],
  );
  assert.equal(custom.retries, false);
  assert.equal(custom.portOffset, 10_000);
});

void test('the demo config refuses a default schedule that does not fit a short duration', () => {
  assert.throws(
    () => buildDemoConfig({ argv: ['--duration', '10s'], env: {} }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.length === 2 &&
      err.problems.every((p) => /happens after the load ends/.test(p)),
  );
});

void test('the demo config reports every bad value at once', () => {
  assert.throws(
    () => buildDemoConfig({ argv: ['--rate', '0', '--concurrency', 'many', '--at', '5s:nap:x'], env: {} }),
    (err: unknown) =>
      err instanceof ConfigError &&
      ['--rate', '--concurrency', '--at'].every((flag) => err.problems.some((p) => p.startsWith(flag))),
  );
});
