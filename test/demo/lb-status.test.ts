import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notInRotation, parseLbStatus } from '../../src/demo/lb-status.js';
import { statusDocument } from '../helpers/status-document.js';

void test("the balancer's status reads into names, rotation, state, PM2 status and served count", () => {
  const { retries, upstreams } = parseLbStatus(statusDocument(3, ['b2'], false));
  assert.deepEqual(upstreams, [
    { name: 'b1', inRotation: true, state: 'up', pm2Status: null, served: 0 },
    { name: 'b2', inRotation: false, state: 'down', pm2Status: null, served: 0 },
    { name: 'b3', inRotation: true, state: 'up', pm2Status: null, served: 0 },
  ]);
  assert.equal(retries, false);
  assert.equal(parseLbStatus(statusDocument(1)).retries, true);
});

void test("the balancer's reload count, its workers and each upstream's PM2 pid are read too", () => {
  const doc = statusDocument(2) as Record<string, unknown>;
  const balancer = doc.balancer as Record<string, unknown>;
  balancer.reloads = 3;
  doc.workers = [
    { id: 5, pid: 1005, generation: 2, startedAt: 1, state: 'draining', inFlight: 1, served: 9, failures: 0 },
    { id: 7, pid: 1007, generation: 3, startedAt: 2, state: 'ready', inFlight: 0, served: 4, failures: 0 },
  ];
  const status = parseLbStatus(doc);
  assert.equal(status.reloads, 3);
  assert.deepEqual(status.workers, [
    { id: 5, pid: 1005, generation: 2, state: 'draining' },
    { id: 7, pid: 1007, generation: 3, state: 'ready' },
  ]);

  doc.workers = [{ id: 1, pid: 'x', generation: 0, state: 'ready' }];
  assert.throws(() => parseLbStatus(doc), /workers\[0\]\.pid is not a number/);
  doc.workers = [{ id: 1, pid: 1, generation: 0, state: 'asleep' }];
  assert.throws(() => parseLbStatus(doc), /workers\[0\]\.state is not one of starting, ready, draining/);
  delete doc.workers;
  assert.throws(() => parseLbStatus(doc), /workers is not a list/);
});

void test('a status without an upstream list is refused', () => {
  assert.throws(() => parseLbStatus({ pool: 3 }), /balancer is not an object/);
  assert.throws(() => parseLbStatus(null), /the document is not an object/);
  assert.throws(() => parseLbStatus([]), /the document is not an object/);
});

void test('the pool is whole when every listed and every expected upstream is in rotation', () => {
  const view = (name: string, inRotation: boolean) => ({
    name,
    inRotation,
    state: '',
    pm2Status: null,
    served: 0,
  });
  const upstreams = [view('b1', true), view('b2', false)];
  assert.deepEqual(notInRotation(upstreams, []), ['b2']);
  assert.deepEqual(
    notInRotation(upstreams, ['b1', 'b3']),
    ['b2', 'b3'],
    'b3 dropped from the list still counts',
  );
  assert.deepEqual(
    notInRotation(upstreams, ['b3'], new Set(['b2', 'b3'])),
    [],
    'apps left stopped are excluded',
  );
});
