import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notInRotation, parseLbStatus } from '../../src/demo/lb-status.js';

void test("the balancer's status reads into names, rotation, state, PM2 status and served count", () => {
  const { retries, upstreams } = parseLbStatus({
    balancer: { retries: false },
    upstreams: [
      { name: 'b1', state: 'healthy', served: 12, pm2: { status: 'online' } },
      { name: 'b2', state: 'down', served: 3 },
      { id: '127.0.0.1:3', state: 'healthy', inRotation: false },
      { name: 'b4', state: 'draining', available: true },
      'garbage',
    ],
  });
  assert.deepEqual(upstreams, [
    { name: 'b1', inRotation: true, state: 'healthy', pm2Status: 'online', served: 12 },
    { name: 'b2', inRotation: false, state: 'down', pm2Status: null, served: 3 },
    { name: '127.0.0.1:3', inRotation: false, state: 'healthy', pm2Status: null, served: null },
    { name: 'b4', inRotation: true, state: 'draining', pm2Status: null, served: null },
  ]);
  assert.equal(retries, false);
  assert.equal(parseLbStatus({ upstreams: [] }).retries, null);
});

void test('a status without an upstream list is refused', () => {
  assert.throws(() => parseLbStatus({ pool: 3 }), /no "upstreams" list/);
  assert.throws(() => parseLbStatus(null), /no "upstreams" list/);
  assert.throws(() => parseLbStatus([]), /no "upstreams" list/);
});

void test('the pool is whole when every listed and every expected upstream is in rotation', () => {
  const view = (name: string, inRotation: boolean) => ({
    name,
    inRotation,
    state: '',
    pm2Status: null,
    served: null,
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
