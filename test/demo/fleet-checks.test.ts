import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  newWorkers,
  reloadPending,
  replacementPending,
  rollingOrder,
  rotationPending,
  workerToKill,
} from '../../src/demo/fleet-checks.js';
import type { BalancerWorker, LbStatus } from '../../src/demo/lb-status.js';

const w = (id: number, generation: number, state: BalancerWorker['state'] = 'ready'): BalancerWorker => ({
  id,
  pid: 100 + id,
  generation,
  state,
});

function status(over: Partial<LbStatus>): LbStatus {
  return { retries: true, upstreams: [], reloads: 0, workers: [], pids: {}, ...over };
}

const upstream = (name: string, inRotation: boolean) => ({
  name,
  inRotation,
  state: inRotation ? 'up' : 'down',
  pm2Status: 'online',
  served: 0,
});

void test("the worker killed is the newest generation's ready one with the lowest id", () => {
  assert.deepEqual(workerToKill([w(1, 0, 'draining'), w(4, 1), w(3, 1), w(5, 2, 'starting')]), w(3, 1));
  assert.equal(workerToKill([w(1, 0, 'draining'), w(2, 1, 'starting')]), null, 'none ready: none to kill');
  assert.equal(workerToKill([]), null);
});

void test('a reload is done once the count went up and every serving worker is ready', () => {
  const before = [w(1, 0), w(2, 0)];
  assert.equal(reloadPending(2, status({ reloads: 2, workers: before })), 'the reload count is still 2');
  assert.equal(
    reloadPending(2, status({ reloads: 3, workers: [w(1, 0, 'draining'), w(3, 1), w(4, 1, 'starting')] })),
    '1 new workers not ready yet',
  );
  assert.equal(
    reloadPending(2, status({ reloads: 3, workers: [w(1, 0, 'draining'), w(3, 1), w(4, 1)] })),
    null,
  );
});

void test('a killed worker is replaced once it is gone and as many workers are ready as served before', () => {
  const before = [w(1, 0), w(2, 0), w(9, 0, 'draining')];
  assert.equal(replacementPending(before, 101, before), 'pid 101 is still listed');
  assert.equal(replacementPending(before, 101, [w(2, 0), w(3, 0, 'starting')]), '1 of 2 workers ready');
  assert.equal(replacementPending(before, 101, [w(2, 0), w(3, 0)]), null);
  assert.deepEqual(newWorkers(before, [w(2, 0), w(3, 0)]), [w(3, 0)]);
});

void test('a restarted backend is back once the balancer has it in rotation in its new process', () => {
  const upstreams = [upstream('b1', true), upstream('b2', true)];
  assert.equal(
    rotationPending('b2', 22, status({ upstreams, pids: { b2: 21 } })),
    'b2 is listed with pid 21, not 22',
  );
  assert.equal(
    rotationPending('b2', 22, status({ upstreams: [upstream('b2', false)], pids: { b2: 22 } })),
    'b2 is not in rotation',
  );
  assert.equal(rotationPending('b3', 22, status({ upstreams })), "b3 is not in the balancer's pool");
  assert.equal(rotationPending('b2', 22, status({ upstreams, pids: { b2: 22 } })), null);
  assert.deepEqual(rollingOrder(status({ upstreams: [upstream('b2', true), upstream('b1', false)] })), [
    'b1',
    'b2',
  ]);
});
