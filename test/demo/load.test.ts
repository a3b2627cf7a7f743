import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runLoad } from '../../src/demo/load-runner.js';
import { TimelineRecorder } from '../../src/demo/timeline.js';
import { waitFor } from '../helpers/wait.js';

async function listen(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/page.html`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

void test('the load sends rate x duration requests, never more than `concurrency` at once, and records each answer', async (t) => {
  let inFlight = 0;
  let maxInFlight = 0;
  let count = 0;
  const server = await listen((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const n = count++;
    // Slow answers, so a rate of 40/s needs more than one socket and the limit of 2 is reached.
    setTimeout(() => {
      inFlight--;
      res.writeHead(n === 5 ? 503 : 200, { 'X-Served-By': `b${n % 2}`, 'Content-Type': 'text/plain' });
      res.end('hello');
    }, 60);
  });
  t.after(server.close);

  const rec = new TimelineRecorder();
  const started = Date.now();
  const run = runLoad(
    { url: server.url, rate: 40, concurrency: 2, durationMs: 1000, requestTimeoutMs: 5000 },
    () => Date.now() - started,
    { sent: () => rec.addSent(), outcome: (o) => rec.addOutcome(o) },
  );
  const result = await run.done;
  assert.ok(result !== null, 'loadtest finished before the deadline');
  const totals = rec.totals();
  assert.equal(totals.sent, 40);
  assert.equal(count, 40, 'the server saw every request');
  assert.equal(totals.ok, 39);
  assert.equal(totals.failed, 1);
  assert.deepEqual(totals.errors, { 'Status code 503': 1 });
  assert.equal((totals.servedBy.b0 ?? 0) + (totals.servedBy.b1 ?? 0), 39, 'the 503 counts for no backend');
  assert.ok(maxInFlight <= 2, `at most 2 in flight, saw ${maxInFlight}`);
  assert.equal(maxInFlight, 2, 'the concurrency limit was reached');
});

void test('a request that is never answered times out, is counted as failed, and the run still ends', async (t) => {
  const server = await listen(() => {
    // Never answer.
  });
  t.after(server.close);
  const rec = new TimelineRecorder();
  const started = Date.now();
  const run = runLoad(
    { url: server.url, rate: 5, concurrency: 5, durationMs: 1000, requestTimeoutMs: 300 },
    () => Date.now() - started,
    { sent: () => rec.addSent(), outcome: (o) => rec.addOutcome(o) },
  );
  await run.done;
  const totals = rec.totals();
  assert.equal(totals.sent, 5);
  assert.equal(totals.ok, 0);
  assert.equal(totals.failed, 5);
  assert.deepEqual(totals.errors, { 'Connection error: no answer within 300 ms': 5 });
});

void test('an abort counts every request still open once, as failed, and sends no more', async (t) => {
  let arrived = 0;
  const server = await listen(() => {
    arrived++; // and never answer
  });
  t.after(server.close);
  const rec = new TimelineRecorder();
  const started = Date.now();
  const run = runLoad(
    { url: server.url, rate: 50, concurrency: 3, durationMs: 600, requestTimeoutMs: 60_000 },
    () => Date.now() - started,
    { sent: () => rec.addSent(), outcome: (o) => rec.addOutcome(o) },
  );
  await waitFor(() => arrived >= 3, 'three requests at the server');
  run.abort('interrupted');
  assert.equal(await run.done, null);
  const sentAtAbort = rec.totals().sent;
  // loadtest's timer keeps asking for its 30 requests; nothing more may be sent or counted.
  await run.settled;
  const totals = rec.totals();
  assert.ok(sentAtAbort >= 3);
  assert.equal(totals.sent, sentAtAbort);
  assert.equal(totals.failed, totals.sent);
  assert.deepEqual(totals.errors, { interrupted: totals.sent });
  assert.equal(arrived, 3, 'no connection beyond the concurrency limit was made');
});
