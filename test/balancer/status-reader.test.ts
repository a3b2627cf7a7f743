import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readBalancerStatus, readUpstreamStatus } from '../../src/balancer/status-reader.js';
import { statusDocument } from '../helpers/status-document.js';

void test('the reader accepts the document the balancer writes, unchanged', () => {
  const doc = statusDocument(3, ['b2']);
  const status = readBalancerStatus(doc);
  assert.deepEqual(status, doc);
  assert.deepEqual(
    status.upstreams.map((u) => [u.name, u.state, u.available]),
    [
      ['b1', 'up', true],
      ['b2', 'down', false],
      ['b3', 'up', true],
    ],
  );
});

void test('a document that is not the balancer status is refused, naming the field', () => {
  const broken = (edit: (doc: Record<string, unknown>) => void): unknown => {
    const doc = statusDocument(2) as Record<string, unknown>;
    edit(doc);
    return doc;
  };
  assert.throws(() => readBalancerStatus(null), /the document is not an object/);
  assert.throws(() => readBalancerStatus([]), /the document is not an object/);
  assert.throws(() => readBalancerStatus(broken((d) => delete d.upstreams)), /upstreams is not a list/);
  assert.throws(
    () => readBalancerStatus(broken((d) => ((d.upstreams as unknown[])[1] = 'garbage'))),
    /upstreams\[1\] is not an object/,
  );
  assert.throws(
    () =>
      readBalancerStatus(broken((d) => ((d.upstreams as Record<string, unknown>[])[0]!.state = 'healthy'))),
    /upstreams\[0\]\.state is not one of unknown, up, down/,
  );
  assert.throws(
    () => readBalancerStatus(broken((d) => delete (d.upstreams as Record<string, unknown>[])[0]!.available)),
    /upstreams\[0\]\.available is not a boolean/,
  );
  assert.throws(
    () => readBalancerStatus(broken((d) => delete (d.balancer as Record<string, unknown>).retries)),
    /balancer\.retries is not a boolean/,
  );
  assert.throws(
    () => readBalancerStatus(broken((d) => delete (d.balancer as Record<string, unknown>).policy)),
    /balancer\.policy is not a string/,
  );
});

void test('one upstream, as a control route answers it, is checked by the same rules', () => {
  const [first] = (statusDocument(1) as { upstreams: unknown[] }).upstreams;
  assert.deepEqual(readUpstreamStatus(first), first);
  assert.throws(
    () => readUpstreamStatus({ error: 'no upstream named "x"' }),
    /the upstream\.id is not a string/,
  );
  assert.throws(
    () => readUpstreamStatus({ ...(first as object), admin: 'gone' }),
    /the upstream\.admin is not one of ready, drain, maint/,
  );
});
