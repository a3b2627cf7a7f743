import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newWorkers, replacementPending, workerToKill } from '../../src/demo/fleet-checks.js';
import type { BalancerWorker } from '../../src/demo/lb-status.js';

const w = (id: number, generation: number, state: BalancerWorker['state'] = 'ready'): BalancerWorker => ({
  id,
  pid: 100 + id,
  generation,
  state,
});

void test("the worker killed is the newest generation's ready one with the lowest id", () => {
  assert.deepEqual(workerToKill([w(1, 0, 'draining'), w(4, 1), w(3, 1), w(5, 2, 'starting')]), w(3, 1));
  assert.equal(workerToKill([w(1, 0, 'draining'), w(2, 1, 'starting')]), null, 'none ready: none to kill');
  assert.equal(workerToKill([]), null);
});

void test('a killed worker is replaced once it is gone and as many workers are ready as served before', () => {
  const before = [w(1, 0), w(2, 0), w(9, 0, 'draining')];
  assert.equal(replacementPending(before, 101, before), 'pid 101 is still listed');
  assert.equal(replacementPending(before, 101, [w(2, 0), w(3, 0, 'starting')]), '1 of 2 workers ready');
  assert.equal(replacementPending(before, 101, [w(2, 0), w(3, 0)]), null);
  assert.deepEqual(newWorkers(before, [w(2, 0), w(3, 0)]), [w(3, 0)]);
});
