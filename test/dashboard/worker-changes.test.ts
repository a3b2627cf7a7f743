import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkerView } from '../../src/dashboard/view.js';
import { WorkerChangeTracker, type WorkerChange } from '../../src/dashboard/worker-changes.js';

const worker = (id: number, generation: number, state: WorkerView['state'] = 'ready'): WorkerView => ({
  id,
  pid: 100 + id,
  generation,
  startedAt: 1000 * (generation + 1) + id,
  state,
  inFlight: 0,
  served: 0,
  failures: 0,
  rssBytes: 50_000_000,
  cpuPercent: 1.5,
});

const kinds = (changes: WorkerChange[]) => changes.map((c) => [c.kind, c.generation]);

void test('the first reading is the baseline and shows no change', () => {
  const tracker = new WorkerChangeTracker();
  assert.deepEqual(tracker.observe(5000, [worker(1, 2), worker(2, 2)], 2), []);
  assert.deepEqual(tracker.observe(6000, [worker(1, 2), worker(2, 2)], 2), [], 'nothing changed');
});

void test('a reload seen step by step: new generation started, reload done, the old generation drained', () => {
  const tracker = new WorkerChangeTracker();
  tracker.observe(1500, [worker(1, 0), worker(2, 0)], 0);

  const starting = tracker.observe(2500, [worker(1, 0), worker(2, 0), worker(3, 1, 'starting')], 0);
  assert.deepEqual(kinds(starting), [['reload-start', 1]]);
  assert.equal(starting[0]?.text, 'reload: generation 1 starting, pid 103');
  assert.equal(starting[0]?.at, worker(3, 1).startedAt, 'dated when the workers started');

  const done = tracker.observe(3500, [worker(1, 0, 'draining'), worker(2, 0, 'draining'), worker(3, 1)], 1);
  assert.deepEqual(kinds(done), [['reload-done', 1]]);
  assert.equal(done[0]?.text, 'reload 1 done: generation 1 serving (1 worker)');

  const drained = tracker.observe(4500, [worker(3, 1)], 1);
  assert.deepEqual(kinds(drained), [['drained', 0]]);
  assert.equal(drained[0]?.text, 'generation 0 drained: pids 101, 102 exited');
});

void test('a whole reload between two readings still reads as a reload, not as workers lost', () => {
  const tracker = new WorkerChangeTracker();
  tracker.observe(1500, [worker(1, 0), worker(2, 0)], 0);
  const changes = tracker.observe(2500, [worker(3, 1), worker(4, 1)], 1);
  assert.deepEqual(kinds(changes), [
    ['reload-start', 1],
    ['reload-done', 1],
    ['drained', 0],
  ]);
  assert.match(changes[1]?.text ?? '', /generation 1 serving \(2 workers\)/);
});

void test('a worker that exits while serving is listed as lost, and its replacement as started', () => {
  const tracker = new WorkerChangeTracker();
  tracker.observe(3000, [worker(3, 1), worker(4, 1)], 1);
  const changes = tracker.observe(4000, [worker(4, 1), { ...worker(5, 1), startedAt: 3900 }], 1);
  assert.deepEqual(kinds(changes), [
    ['worker-started', 1],
    ['worker-lost', 1],
  ]);
  assert.equal(changes[0]?.text, 'worker 5 (pid 105) started, generation 1');
  assert.equal(changes[1]?.text, 'worker 3 (pid 103) exited while serving');
});

void test('a new generation that goes away without the reload count rising is a failed reload', () => {
  const tracker = new WorkerChangeTracker();
  tracker.observe(1500, [worker(1, 0)], 0);
  tracker.observe(2500, [worker(1, 0), worker(2, 1, 'starting')], 0);
  const changes = tracker.observe(3500, [worker(1, 0)], 0);
  assert.deepEqual(kinds(changes), [['reload-failed', 1]]);
  assert.equal(changes[0]?.text, 'reload to generation 1 failed (pid 102 stopped); generation 0 serves on');
});
