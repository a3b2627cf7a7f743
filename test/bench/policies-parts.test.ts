import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dueAtMs, dueCount, scheduledCount, shareOf } from '../../bench/lib/open-loop.js';
import { SlotGate } from '../../bench/lib/slot-gate.js';

void test('a fixed-rate phase has rate x time requests, due on schedule whatever the timer did', () => {
  assert.equal(scheduledCount(480, 10_000), 4800);
  assert.equal(scheduledCount(3, 1000), 3);
  assert.equal(scheduledCount(3, 1001), 4, 'request 3 is due at 1000 ms, inside 1001 ms');
  assert.equal(scheduledCount(100, 0), 0);
  assert.equal(dueCount(100, 1000, -1), 0);
  assert.equal(dueCount(100, 1000, 0), 1, 'request 0 is due at once');
  assert.equal(dueCount(100, 1000, 9.99), 1);
  assert.equal(dueCount(100, 1000, 10), 2);
  assert.equal(dueCount(100, 1000, 5000), 100, 'never more than the phase holds');
  assert.equal(dueAtMs(480, 480), 1000);
  // A tick 250 ms late sends the backlog at once: the count depends on the time, not the ticks.
  let sent = 0;
  for (const at of [0, 1, 2, 252, 253]) sent = Math.max(sent, dueCount(1000, 10_000, at));
  assert.equal(sent, 254);
});

void test('the share of an upstream is of the answers counted', () => {
  assert.equal(shareOf({ a: 30, b: 60, slow: 10 }, 'slow'), 0.1);
  assert.equal(shareOf({ a: 1 }, 'slow'), 0);
  assert.ok(Number.isNaN(shareOf({}, 'slow')));
});

void test('the slot gate serves a few at a time, first come first served', () => {
  const gate = new SlotGate(2);
  const started: string[] = [];
  const job = (name: string) => () => started.push(name);
  gate.enter(job('a'));
  gate.enter(job('b'));
  gate.enter(job('c'));
  const cancelD = gate.enter(job('d'));
  gate.enter(job('e'));
  assert.deepEqual(started, ['a', 'b']);
  assert.equal(gate.inService, 2);
  assert.equal(gate.queued, 3);
  assert.equal(cancelD(), true, 'd was waiting: it never starts');
  assert.equal(cancelD(), false);
  gate.leave();
  assert.deepEqual(started, ['a', 'b', 'c']);
  gate.leave();
  assert.deepEqual(started, ['a', 'b', 'c', 'e']);
  assert.equal(gate.inService, 2);
  gate.leave();
  gate.leave();
  assert.equal(gate.inService, 0);
  assert.equal(gate.queued, 0);
  assert.throws(() => gate.leave(), RangeError);
  assert.throws(() => new SlotGate(0), RangeError);
});

void test('a job that has started cannot be cancelled: it keeps its slot until it leaves', () => {
  const gate = new SlotGate(1);
  const cancel = gate.enter(() => undefined);
  assert.equal(cancel(), false);
  assert.equal(gate.inService, 1);
});
