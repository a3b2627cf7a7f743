import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PoolChangeLog, type PoolChange } from '../../src/dashboard/pool-change-log.js';

const change = (at: number, to = 'unhealthy'): PoolChange => ({
  at,
  id: `127.0.0.1:${at}`,
  name: `backend-${at}`,
  from: to === 'healthy' ? 'unhealthy' : 'healthy',
  to,
  reason: 'test',
});

void test('pool changes are listed newest first', () => {
  const log = new PoolChangeLog(5);
  assert.deepEqual(log.list(), []);
  log.add(change(1));
  log.add(change(2, 'healthy'));
  assert.deepEqual(
    log.list().map((c) => [c.at, c.to]),
    [
      [2, 'healthy'],
      [1, 'unhealthy'],
    ],
  );
});

void test('only the last `capacity` changes are kept', () => {
  const log = new PoolChangeLog(3);
  for (let at = 1; at <= 7; at++) log.add(change(at));
  assert.deepEqual(
    log.list().map((c) => c.at),
    [7, 6, 5],
  );
});

void test('a log must hold at least one change', () => {
  assert.throws(() => new PoolChangeLog(0), RangeError);
});
