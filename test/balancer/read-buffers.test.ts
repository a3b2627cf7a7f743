import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadBuffers } from '../../src/balancer/engines/h1/read-buffers.js';

void test('a read buffer returns to the pool only once detached and every write holding it has completed', () => {
  const pool = new ReadBuffers(2);
  const a = pool.take();
  a.pending += 2;
  a.written();
  assert.equal(pool.idle, 0, 'still held by one write, and still its connection’s');
  a.detached = true;
  a.written();
  assert.equal(pool.idle, 1);
  assert.equal(pool.take(), a, 'handed out again');
  assert.equal(a.pending, 0);
  assert.equal(a.detached, false);
});

void test('a read buffer whose write failed is never reused, and the pool keeps no more than it was told', () => {
  const pool = new ReadBuffers(1);
  const failed = pool.take();
  failed.pending = 2;
  failed.detached = true;
  failed.written(new Error('EPIPE'));
  failed.written();
  assert.equal(pool.idle, 0, 'a failed write may still hold its bytes');
  const handedOff = pool.take();
  handedOff.forfeit();
  handedOff.detached = true;
  assert.equal(handedOff.pending, 1, 'counted as held, so its connection moves on to another');
  handedOff.written();
  assert.equal(pool.idle, 0, 'bytes held without a callback: never reused');
  const [b, c] = [pool.take(), pool.take()];
  for (const x of [b, c]) {
    x.pending = 1;
    x.detached = true;
    x.written(null);
  }
  assert.equal(pool.idle, 1);
});
