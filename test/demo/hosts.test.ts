import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildHostsDemoConfig, defaultHostSchedule } from '../../src/demo/hosts-config.js';
import { hostScheduleProblems, parseTarget } from '../../src/demo/host-faults.js';
import { propagationTimes } from '../../src/demo/propagation.js';
import { parseScheduleEntry } from '../../src/demo/schedule.js';
import type { ActionRecord, PoolSample } from '../../src/demo/types.js';

void test('the default host schedule fits 45 s and stretches with a longer run', () => {
  const config = buildHostsDemoConfig({ argv: [], env: {} });
  assert.equal(config.durationMs, 45_000);
  assert.ok(config.defaultSchedule);
  assert.ok(config.schedule.every((a) => a.atMs < 45_000));
  assert.deepEqual(
    config.schedule.map((a) => `${a.action}:${a.app}`),
    [
      'stop:link-h1',
      'start:link-h1',
      'stop:etcd-e2',
      'start:etcd-e2',
      'kill:etcd-leader',
      'start:etcd-leader',
      'stop:etcd-all',
      'start:etcd-all',
      'start:host-h4',
      'start:netem-h3',
      'stop:netem-h3',
    ],
  );
  const long = defaultHostSchedule(90_000);
  assert.equal(long[0]?.atMs, 6000);
  assert.throws(
    () => buildHostsDemoConfig({ argv: ['--duration', '30s'], env: {} }),
    /happens after the load ends/,
  );
});

void test('a host schedule that cannot run is refused before anything is built, with each reason', () => {
  const entries = [
    '1s:stop:link-h9',
    '2s:restart:link-h1',
    '3s:start:host-h5',
    '4s:stop:etcd-e7',
    '5s:kill:nothing',
  ].map(parseScheduleEntry);
  const problems = hostScheduleProblems(entries, 10_000, 3, 3);
  assert.equal(problems.length, 5, problems.join('\n'));
  assert.match(problems[0] ?? '', /no host h9/);
  assert.match(problems[1] ?? '', /takes stop or start, not restart/);
  assert.match(problems[2] ?? '', /next host to join is h4/);
  assert.match(problems[3] ?? '', /no etcd member e7/);
  assert.match(problems[4] ?? '', /is not link-hN/);
  assert.deepEqual(parseTarget('etcd-leader'), { kind: 'etcd-leader' });
});

void test('propagation times read how long a pulled link and a joining host took to show in the pool', () => {
  const sample = (atMs: number, inRotation: Record<string, boolean>): PoolSample => ({
    atMs,
    upstreams: Object.entries(inRotation).map(([name, r]) => ({
      name,
      inRotation: r,
      state: 'up',
      pm2Status: null,
      served: 0,
    })),
  });
  const samples = [
    sample(0, { 'h1/a': true, 'h2/a': true }),
    sample(900, { 'h1/a': true, 'h2/a': true }),
    sample(1100, { 'h1/a': false, 'h2/a': true }),
    sample(3000, { 'h2/a': true }),
    sample(5200, { 'h1/a': true, 'h2/a': true }),
    sample(6100, { 'h1/a': true, 'h2/a': true, 'h3/a': true }),
  ];
  const action = (atMs: number, text: string): ActionRecord => ({
    ...parseScheduleEntry(text),
    startedAtMs: atMs,
    finishedAtMs: atMs + 5,
    ok: true,
    detail: '',
    pidBefore: null,
  });
  const rows = propagationTimes(
    [action(1000, '1s:stop:link-h1'), action(4000, '4s:start:link-h1'), action(5500, '5500ms:start:host-h3')],
    [
      { atMs: 2900, app: 'h1/a', event: 'etcd delete' },
      { atMs: 5000, app: 'h1/a', event: 'etcd put' },
    ],
    samples,
    1,
  );
  assert.deepEqual(
    rows.map((r) => [r.change, r.delayMs]),
    [
      ['1s:stop:link-h1', 100],
      ['etcd delete h1/a', 100],
      ['4s:start:link-h1', 1200],
      ['etcd put h1/a', 200],
      ['5.5s:start:host-h3', 600],
    ],
  );
});
