/**
 * The response checks under each loadtest client, against a small server on 127.0.0.1 whose paths
 * misbehave in one way each. Counts are bounded (a few dozen requests); no timing is asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkedRun } from '../../bench/lib/checked-run.js';
import { reasonForSocketError } from '../../bench/lib/wire-checker.js';
import {
  CLIENT_MODES,
  FAILURE_REASONS,
  type ClientMode,
  type Expectation,
  type RawRun,
} from '../../bench/lib/types.js';

const HELLO: Expectation = { status: 200, body: { kind: 'length', bytes: 5 }, source: 'test' };

async function startServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const hung = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    switch (req.url) {
      case '/ok':
        res.writeHead(200, { 'content-length': 5 }).end('hello');
        return;
      case '/json': {
        const body = JSON.stringify({ ms: 5, rounds: Math.floor(Math.random() * 100_000) });
        res.writeHead(200, { 'content-length': Buffer.byteLength(body) }).end(body);
        return;
      }
      case '/short':
        res.writeHead(200, { 'content-length': 4 }).end('hell');
        return;
      case '/reset':
        // Promise ten bytes, send three, then drop the connection.
        res.writeHead(200, { 'content-length': 10 });
        res.write('abc', () => res.socket?.destroy());
        return;
      case '/hang':
        hung.add(res);
        return;
      default:
        res.writeHead(404, { 'content-length': 9 }).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function total(run: RawRun): number {
  return run.ok + FAILURE_REASONS.reduce((s, r) => s + run.failed[r], 0);
}

const spec = (url: string, mode: ClientMode, requests = 24, expect: Expectation = HELLO) => ({
  url,
  mode,
  requests,
  concurrency: 3,
  expect,
  timeoutMs: 300,
  deadlineMs: 20_000,
});

for (const mode of CLIENT_MODES) {
  void test(`${mode} client: good answers are counted ok, with bytes, latency and loadtest's own count`, async (t) => {
    const server = await startServer();
    t.after(() => server.close());
    const run = await checkedRun(spec(`${server.url}/ok`, mode));
    assert.equal(run.ok, 24);
    assert.equal(total(run), 24);
    assert.equal(run.bodyBytes, 24 * 5);
    assert.ok(run.wireBytes > run.bodyBytes);
    assert.equal(run.latency.count, 24);
    assert.deepEqual(run.statusCodes, { '200': 24 });
    assert.equal(run.loadtest[0]?.totalRequests, 24);
  });

  void test(`${mode} client: a missing path fails every request by status`, async (t) => {
    const server = await startServer();
    t.after(() => server.close());
    const run = await checkedRun(spec(`${server.url}/missing.html`, mode));
    assert.equal(run.ok, 0);
    assert.equal(run.failed.status, 24);
    assert.deepEqual(run.statusCodes, { '404': 24 });
  });

  void test(`${mode} client: a body of the wrong length fails by bytes`, async (t) => {
    const server = await startServer();
    t.after(() => server.close());
    const run = await checkedRun(spec(`${server.url}/short`, mode));
    assert.equal(run.failed.bytes, 24);
    assert.equal(run.ok, 0);
  });

  void test(`${mode} client: a connection dropped mid-response fails by reset`, async (t) => {
    const server = await startServer();
    t.after(() => server.close());
    const run = await checkedRun(spec(`${server.url}/reset`, mode, 12));
    assert.equal(run.ok, 0);
    assert.equal(run.failed.reset, 12, JSON.stringify(run.failed));
  });

  void test(`${mode} client: a server that never answers fails by timeout, and the run still ends`, async (t) => {
    const server = await startServer();
    t.after(() => server.close());
    const run = await checkedRun(spec(`${server.url}/hang`, mode, 6));
    assert.equal(run.ok, 0);
    assert.equal(run.failed.timeout, 6, JSON.stringify(run.failed));
  });
}

void test('a JSON body whose length varies passes a shape check and fails a length check', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const shape: Expectation = {
    status: 200,
    body: { kind: 'json-shape', fields: { ms: 'number', rounds: 'number' } },
    source: 'test',
  };
  const good = await checkedRun(spec(`${server.url}/json`, 'tcp', 24, shape));
  assert.equal(good.ok, 24);
  const wrongShape: Expectation = {
    ...shape,
    body: { kind: 'json-shape', fields: { ms: 'string', rounds: 'number' } },
  };
  const bad = await checkedRun(spec(`${server.url}/json`, 'tcp', 24, wrongShape));
  assert.equal(bad.failed.bytes, 24);
});

void test('socket errors map to failure reasons', () => {
  assert.equal(reasonForSocketError('ECONNREFUSED'), 'connect');
  assert.equal(reasonForSocketError('ETIMEDOUT'), 'timeout');
  assert.equal(reasonForSocketError('ECONNRESET'), 'reset');
  assert.equal(reasonForSocketError('EPIPE'), 'reset');
  assert.equal(reasonForSocketError(undefined), 'reset');
});
