import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachFinished, FinishedBatch } from '../../src/balancer/cluster/finished-batch.js';

void test('finished requests grouped by upstream and status replay as the same requests, retries and all', () => {
  const batch = new FinishedBatch();
  const sent: [string | null, number, number, number][] = [
    ['backend-1', 200, 0.5123456, 0],
    ['backend-2', 200, 1.25, 1],
    ['backend-1', 200, 0.75, 2],
    [null, 503, 3000, 0],
    ['backend-1', 404, 0.2, 0],
  ];
  for (const [u, s, ms, r] of sent) batch.add(u, s, ms, r);
  assert.equal(batch.count, 5);
  const groups = batch.take();
  assert.equal(groups.length, 4, 'one group per upstream and status');
  assert.equal(batch.count, 0, 'take() starts afresh');
  assert.deepEqual(batch.take(), []);

  const replayed: [string | null, number, number, number][] = [];
  eachFinished(groups, (u, s, ms, r) => replayed.push([u, s, ms, r]));
  const key = (e: [string | null, number, number, number]): string => `${e[0]} ${e[1]} ${e[2]}`;
  assert.deepEqual(
    replayed.map(key).sort(),
    sent.map((e) => key([e[0], e[1], Math.round(e[2] * 1000) / 1000, 0])).sort(),
  );
  const retries = (list: [string | null, number, number, number][]): number =>
    list.reduce((n, e) => n + e[3], 0);
  assert.equal(retries(replayed), retries(sent));
  // JSON (the IPC channel's encoding) carries a group as it is.
  assert.deepEqual(JSON.parse(JSON.stringify(groups)), groups);
});
