/** Load spread over two client processes: shares add up and histograms merge. Bounded counts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientPool } from '../../bench/lib/client-pool.js';
import type { Expectation } from '../../bench/lib/types.js';

const HELLO: Expectation = { status: 200, body: { kind: 'length', bytes: 5 }, source: 'test' };

void test('a run split over two client processes counts every request once and merges the latencies', async (t) => {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-length': 5 }).end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  const pool = await ClientPool.start(2);
  t.after(() => pool.close());
  assert.equal(pool.size, 2);

  const progress: number[] = [];
  const spec = {
    url: `http://127.0.0.1:${port}/`,
    requests: 60,
    concurrency: 4,
    mode: 'tcp' as const,
    expect: HELLO,
    timeoutMs: 5000,
    deadlineMs: 30_000,
  };
  const run = await pool.run(spec, (done) => progress.push(done));
  assert.equal(run.clients, 2);
  assert.equal(run.concurrency, 4);
  assert.equal(run.requested, 60);
  assert.equal(run.ok, 60);
  assert.equal(run.latency.count, 60);
  assert.equal(run.loadtest.length, 2, "each process's own loadtest summary is kept");
  assert.equal(
    run.loadtest.reduce((s, l) => s + l.totalRequests, 0),
    60,
  );
  assert.equal(progress.at(-1), 60);

  const one = await pool.run(spec, undefined, 1);
  assert.equal(one.clients, 1);
  assert.equal(one.ok, 60);

  const alone = await pool.run({ ...spec, concurrency: 1 });
  assert.equal(alone.clients, 1, 'c=1 cannot be shared');
  assert.equal(alone.ok, 60);
});
