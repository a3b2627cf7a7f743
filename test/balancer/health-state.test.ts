import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthState } from '../../src/balancer/health-state.js';

const make = (fall = 2, rise = 2) => new HealthState({ fall, rise }, 0);

void test('a new upstream is unknown and its first check decides at once', () => {
  const up = make();
  assert.equal(up.status, 'unknown');
  assert.deepEqual(up.success(10), { from: 'unknown', to: 'up', streak: 1 });
  assert.equal(up.since, 10);

  const down = make();
  assert.deepEqual(down.failure(10), { from: 'unknown', to: 'down', streak: 1 });
  assert.equal(down.status, 'down');
});

void test('an up upstream goes down only after `fall` consecutive failures', () => {
  const h = make(3, 2);
  h.success(0);
  assert.equal(h.failure(1), undefined);
  assert.equal(h.failure(2), undefined);
  assert.deepEqual(h.failure(3), { from: 'up', to: 'down', streak: 3 });
  assert.equal(h.status, 'down');
  assert.equal(h.since, 3);
});

void test('a success in between starts the failure count again', () => {
  const h = make(2, 2);
  h.success(0);
  assert.equal(h.failure(1), undefined);
  assert.equal(h.success(2), undefined);
  assert.equal(h.failure(3), undefined);
  assert.equal(h.status, 'up');
  assert.ok(h.failure(4));
});

void test('a down upstream comes back only after `rise` consecutive successes', () => {
  const h = make(2, 3);
  h.failure(0);
  assert.equal(h.success(1), undefined);
  assert.equal(h.success(2), undefined);
  assert.equal(h.failure(3), undefined);
  assert.equal(h.success(4), undefined);
  assert.equal(h.success(5), undefined);
  assert.deepEqual(h.success(6), { from: 'down', to: 'up', streak: 3 });
});

void test('no flip is reported while the state stays the same', () => {
  const h = make(1, 1);
  assert.ok(h.success(0));
  for (let i = 1; i < 5; i++) assert.equal(h.success(i), undefined);
  assert.ok(h.failure(5));
  for (let i = 6; i < 10; i++) assert.equal(h.failure(i), undefined);
});

void test('forceDown takes an upstream out at once and it needs the full rise to return', () => {
  const h = make(5, 2);
  h.success(0);
  assert.deepEqual(h.forceDown(1), { from: 'up', to: 'down', streak: 1 });
  assert.equal(h.forceDown(2), undefined, 'already down: no second flip');
  assert.equal(h.success(3), undefined);
  assert.deepEqual(h.success(4), { from: 'down', to: 'up', streak: 2 });
});

void test('forceDown in the middle of a comeback resets the successes', () => {
  const h = make(2, 2);
  h.failure(0);
  assert.equal(h.success(1), undefined);
  assert.equal(h.forceDown(2), undefined);
  assert.equal(h.success(3), undefined, 'one success after the reset is not enough');
  assert.ok(h.success(4));
});
