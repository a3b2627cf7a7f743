/**
 * The balancer as a cluster (--workers 2): a primary that holds the sockets and checks health once,
 * workers that proxy. Reloads, a killed worker, a refused configuration, shared health, and the
 * totals of the status page, all with real processes and real load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { defaultWorkers } from '../../src/balancer/config.js';
import { runLoad, startBackends, startHttpServer, type Balancer } from '../helpers/balancer-fleet.js';
import { runNode } from '../helpers/processes.js';
import { readyWorkers, startCluster, status } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

/** SIGHUP the primary and wait for its reload-done line (the `n`th one). */
async function reload(lb: Balancer, n: number): Promise<void> {
  lb.proc.child.kill('SIGHUP');
  await waitFor(
    () => lb.proc.lines.filter((l) => l.event === 'reload-done').length >= n,
    `reload ${n} to finish`,
    { timeoutMs: 20_000 },
  );
}

void test('the default is one worker per CPU and never fewer than two', () => {
  assert.equal(defaultWorkers(1), 2);
  assert.equal(defaultWorkers(2), 2);
  assert.equal(defaultWorkers(8), 8);
});

void test('a worker count that is not a whole number from 1, or more than 4 per CPU, is refused with exit 2', async () => {
  for (const bad of ['0', 'two', '1.5', String(4 * os.availableParallelism() + 1)]) {
    const run = await runNode('balancer', ['--port', '0', '--admin-port', '0', '--workers', bad]);
    assert.equal(run.code, 2, `--workers ${bad}`);
    assert.match(run.stderr, /--workers/, `the message names the option (--workers ${bad})`);
  }
});

void test('the status names every worker, and its totals add up to what the clients sent', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await startCluster(
    t,
    backends.map((b) => b.port),
  );
  const first = await status(lb);
  assert.equal(first.balancer.workers, 2);
  assert.deepEqual(
    first.workers.map((w) => [w.state, w.generation]),
    [
      ['ready', 0],
      ['ready', 0],
    ],
  );
  assert.notEqual(first.workers[0]?.pid, first.workers[1]?.pid);
  assert.ok(
    first.workers.every((w) => w.pid !== first.balancer.pid),
    'workers are processes of their own',
  );

  const load = await runLoad(lb.port, { total: 300, concurrency: 8, keepAlive: false });
  assert.equal(load.failed, 0, load.problems.join('; '));
  const after = await status(lb);
  assert.equal(after.requests.served, 300);
  assert.equal(after.requests.failures, 0);
  assert.equal(
    after.workers.reduce((n, w) => n + w.served, 0),
    300,
  );
  assert.equal(
    after.upstreams.reduce((n, u) => n + u.served, 0),
    300,
  );
  assert.equal(
    [...load.servedBy.values()].reduce((a, b) => a + b, 0),
    300,
  );
});

void test('five reloads in a row under load lose no request: keep-alive, Connection: close, GET and POST', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await startCluster(
    t,
    backends.map((b) => b.port),
  );
  const before = await status(lb);
  const body = Buffer.alloc(20_000, 'x');
  let reloading = true;
  // Bounded in count; sized to outlast five reloads on a busy machine, stopped early by `reloading`.
  const endless = (keepAlive: boolean, post: boolean) =>
    runLoad(lb.port, {
      total: 200_000,
      concurrency: 4,
      keepAlive,
      ...(post ? { body } : {}),
      stopWhen: () => !reloading,
    });
  const loads = Promise.all([
    endless(true, false),
    endless(false, false),
    endless(true, true),
    endless(false, true),
  ]);
  // The status is read all along: asking draining workers for their counts must not hurt the primary.
  const polling = (async () => {
    let reads = 0;
    while (reloading) {
      await lb.status();
      reads++;
    }
    return reads;
  })();
  const pids = new Set<number>();
  for (let n = 1; n <= 5; n++) {
    await reload(lb, n);
    for (const w of (await status(lb)).workers) pids.add(w.pid);
  }
  reloading = false;
  const results = await loads;
  assert.ok((await polling) > 0);
  for (const r of results) assert.equal(r.failed, 0, r.problems.join('; '));
  assert.ok(
    results.every((r) => r.ok > 0),
    'every kind of client was served',
  );
  const after = await status(lb);
  assert.equal(after.balancer.reloads, 5);
  assert.ok(pids.size >= 2 * 5, 'each reload started new workers');
  assert.deepEqual(
    readyWorkers(after).map((w) => w.generation),
    [5, 5],
  );
  const sent = results.reduce((n, r) => n + r.ok + r.failed, 0);
  await waitFor(
    async () => (await status(lb)).requests.served >= before.requests.served + sent,
    'every request counted',
  );
  const counted = (await status(lb)).requests.served;
  assert.equal(counted, before.requests.served + sent, 'the totals never went backwards and miss nothing');
});

void test('a worker killed with SIGKILL is replaced at once; the other keeps serving', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await startCluster(
    t,
    backends.map((b) => b.port),
  );
  const victim = (await status(lb)).workers[0];
  assert.ok(victim !== undefined);
  let killed = false;
  const load = await runLoad(lb.port, {
    total: 2000,
    concurrency: 8,
    onProgress: (done) => {
      if (done === 300 && !killed) {
        killed = true;
        process.kill(victim.pid, 'SIGKILL');
      }
    },
  });
  // Only what was in flight on the killed worker may fail (at most one request per connection).
  assert.ok(load.failed <= 8, `${load.failed} failed: ${load.problems.join('; ')}`);
  assert.ok(load.ok >= 2000 - 8);
  await waitFor(
    async () => {
      const s = await status(lb);
      return readyWorkers(s).length === 2 && s.workers.every((w) => w.pid !== victim.pid);
    },
    'a replacement worker',
    { timeoutMs: 3000 },
  );
  assert.ok(lb.proc.lines.some((l) => l.event === 'worker-replaced'));
  const again = await runLoad(lb.port, { total: 100, concurrency: 4 });
  assert.equal(again.failed, 0, again.problems.join('; '));
});

void test('a reload whose settings do not validate is refused, and the running workers keep serving', async (t) => {
  const backends = await startBackends(t, 2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lb-env-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const envFile = path.join(dir, 'balancer.env');
  fs.writeFileSync(envFile, 'RETRY_BUDGET=2s\n');
  const lb = await startCluster(
    t,
    backends.map((b) => b.port),
    ['--env-file', envFile],
  );
  const before = (await status(lb)).workers.map((w) => w.pid).sort();

  fs.writeFileSync(envFile, 'RETRY_BUDGET=banana\nnot a line\n');
  lb.proc.child.kill('SIGHUP');
  const refused = await lb.proc.waitForLine((l) => l.event === 'reload-refused', 'the refusal');
  assert.match(String(refused.message), /not NAME=value/);
  const load = await runLoad(lb.port, { total: 200, concurrency: 4 });
  assert.equal(load.failed, 0, load.problems.join('; '));
  const after = await status(lb);
  assert.deepEqual(after.workers.map((w) => w.pid).sort(), before, 'the same workers serve');
  assert.equal(after.balancer.reloads, 0);

  fs.writeFileSync(envFile, 'RETRY_BUDGET=3s\n');
  await reload(lb, 1);
  assert.equal((await status(lb)).balancer.reloads, 1, 'a fixed file reloads');
});

void test('health is checked once per interval, not once per worker, and a passive failure takes the upstream out for all', async (t) => {
  let checks = 0;
  let refuse = false;
  const upstream = await startHttpServer(t, (req, res) => {
    if (req.url === '/healthz') checks++;
    if (refuse && req.url !== '/healthz') {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'Content-Length': '2', 'X-Served-By': 'fake' });
    res.end('ok');
  });
  const [backend] = await startBackends(t, 1);
  const lb = await startCluster(
    t,
    [upstream.port, backend!.port],
    ['--health-interval', '200ms', '--fall', '100', '--rise', '100'],
  );
  checks = 0;
  const started = Date.now();
  await new Promise((r) => setTimeout(r, 2000));
  const rounds = (Date.now() - started) / 200;
  assert.ok(
    checks <= rounds + 2,
    `${checks} checks in ${rounds.toFixed(1)} rounds: one checker, not one per worker`,
  );
  assert.ok(checks >= rounds / 2, `${checks} checks in ${rounds.toFixed(1)} rounds`);

  // The fake upstream now resets proxied requests; health checks still pass (fall 100), so only
  // a passive failure can take it out, and it must be out for both workers (rise 100: it stays out).
  refuse = true;
  const load = await runLoad(lb.port, { total: 400, concurrency: 8, keepAlive: false });
  assert.equal(load.failed, 0, load.problems.join('; '));
  const s = await status(lb);
  const fake = s.upstreams.find((u) => u.address === `127.0.0.1:${upstream.port}`);
  assert.equal(fake?.state, 'down');
  assert.ok(
    (fake?.failures ?? 0) <= 8,
    `at most a few attempts reached it before every worker knew (${fake?.failures} failures)`,
  );
  assert.equal(load.servedBy.get('fake') ?? 0, 0);
});

void test('with no upstream available a request waits for one to come back instead of a 503', async (t) => {
  let healthy = false;
  const upstream = await startHttpServer(t, (req, res) => {
    const status = req.url === '/healthz' && !healthy ? 503 : 200;
    res.writeHead(status, { 'Content-Length': '2', 'X-Served-By': 'late' });
    res.end('ok');
  });
  const lb = await startCluster(
    t,
    [upstream.port],
    ['--health-interval', '100ms', '--rise', '1', '--queue-timeout', '10s'],
  );
  await waitFor(async () => (await status(lb)).pool.available === 0, 'the pool to be empty');
  const answer = new Promise<number>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: lb.port, path: '/x', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
  await waitFor(async () => (await status(lb)).requests.queued === 1, 'the request to wait');
  healthy = true;
  assert.equal(await answer, 200);
  assert.equal((await status(lb)).requests.failures, 0);
});

void test('a request that waits longer than --queue-timeout gets the 503 with its reason', async (t) => {
  const upstream = await startHttpServer(t, (_req, res) => {
    res.writeHead(503, { 'Content-Length': '0' });
    res.end();
  });
  const lb = await startCluster(
    t,
    [upstream.port],
    ['--health-interval', '100ms', '--queue-timeout', '300ms'],
  );
  await waitFor(async () => (await status(lb)).pool.available === 0, 'the pool to be empty');
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: lb.port, path: '/x', agent: false }, (r) => {
        let body = '';
        r.setEncoding('utf8').on('data', (c: string) => (body += c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
  assert.equal(res.status, 503);
  assert.match(res.body, /no upstream is available .*after waiting 300ms/);
});
