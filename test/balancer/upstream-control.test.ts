/**
 * One brain across the workers: the shared zone makes round robin one rotation whichever worker
 * accepts, weights global, least-request see every worker's requests in flight; operators drain,
 * maint, ready and weigh upstreams on the admin listener, behind its guard, and their decisions
 * are kept in the state file across a reload and a restart. Real processes, ephemeral ports.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  runLoad,
  startBackends,
  startBalancer,
  startHttpServer,
  type Backend,
  type Balancer,
} from '../helpers/balancer-fleet.js';
import { startCluster, status } from '../helpers/cluster.js';
import { runNode } from '../helpers/processes.js';
import { postAdmin } from '../helpers/admin-client.js';
import { waitFor } from '../helpers/wait.js';

/** A mutating request to `lb`'s admin listener (POST, JSON, its own Host unless `options` say otherwise). */
const admin = async (
  lb: Pick<Balancer, 'adminPort'>,
  route: string,
  options: Parameters<typeof postAdmin>[2] = {},
) => {
  const answer = await postAdmin(lb.adminPort, route, options);
  return { ...answer, body: answer.json };
};

/** Who served each of `n` requests sent one after another, each on a new connection. */
async function servedInTurn(lb: Balancer, n: number): Promise<string[]> {
  const order: string[] = [];
  for (let i = 0; i < n; i++) {
    const load = await runLoad(lb.port, { total: 1, concurrency: 1, keepAlive: false });
    assert.equal(load.failed, 0, load.problems.join('; '));
    order.push([...load.servedBy.keys()][0] ?? '?');
  }
  return order;
}

/** The backends' own request counts (their status lines would do too; X-Served-By is the client's view). */
async function served(backends: readonly Backend[], lb: Balancer): Promise<Map<string, number>> {
  const s = await lb.status();
  return new Map(backends.map((b) => [b.name, s.upstreams.find((u) => u.name === b.name)?.served ?? 0]));
}

async function cluster(t: TestContext, backends: readonly Backend[], args: string[] = []): Promise<Balancer> {
  const upstreams = backends.map((b) => `${b.name}=127.0.0.1:${b.port}`).join(',');
  return startCluster(t, [], ['--upstreams', upstreams, ...args]);
}

for (const workers of [2, 3]) {
  void test(`${workers} workers: requests one after another go to the upstreams in turn, whichever worker accepts`, async (t) => {
    const backends = await startBackends(t, 4);
    const lb = await cluster(t, backends, ['--workers', String(workers)]);
    const order = await servedInTurn(lb, 8);
    const first = backends.findIndex((b) => b.name === order[0]);
    assert.notEqual(first, -1, `served by ${order[0]}`);
    const expected = Array.from({ length: 8 }, (_, i) => backends[(first + i) % 4]?.name);
    assert.deepEqual(order, expected, 'each exactly twice, in rotation order');
    const pids = new Set((await status(lb)).workers.map((w) => w.pid));
    assert.equal(pids.size, workers);
  });
}

void test('weights 3 and 1 give 75 % and 25 % across the workers together', async (t) => {
  const backends = await startBackends(t, 2);
  const upstreams = `${backends[0]!.name}=127.0.0.1:${backends[0]!.port}*3,${backends[1]!.name}=127.0.0.1:${backends[1]!.port}`;
  const lb = await startCluster(t, [], ['--upstreams', upstreams]);
  const load = await runLoad(lb.port, { total: 400, concurrency: 4, keepAlive: false });
  assert.equal(load.failed, 0, load.problems.join('; '));
  const heavy = load.servedBy.get(backends[0]!.name) ?? 0;
  assert.ok(Math.abs(heavy / 400 - 0.75) <= 0.02, `${heavy} of 400 went to the weight-3 upstream`);
  assert.equal((await lb.status()).balancer.policy, 'weighted-round-robin');
});

void test('least-request sends new requests to the upstream with fewer in flight while one is held busy', async (t) => {
  const held: http.ServerResponse[] = [];
  t.after(() => {
    for (const res of held) res.end('late');
  });
  const slow = await startHttpServer(t, (req, res) => {
    if (req.url === '/healthz') {
      res.end('ok');
      return;
    }
    res.setHeader('X-Served-By', 'slow');
    if (req.url === '/hold') held.push(res);
    else res.end('slow');
  });
  const [fast] = await startBackends(t, 1);
  const lb = await startCluster(
    t,
    [],
    [
      '--upstreams',
      `slow=127.0.0.1:${slow.port},${fast!.name}=127.0.0.1:${fast!.port}`,
      '--policy',
      'least-request',
      '--proxy-timeout',
      '60s',
    ],
  );
  assert.equal((await lb.status()).balancer.policy, 'least-request');
  // Three requests held on the slow one: the fast one is drained while they go out, so they all
  // land there, then it is made ready again.
  assert.equal((await admin(lb, `/__lb/upstreams/${fast!.name}/drain`)).status, 200);
  const hanging = Array.from({ length: 3 }, () =>
    http.get({ host: '127.0.0.1', port: lb.port, path: '/hold', agent: false }).on('error', () => undefined),
  );
  t.after(() => {
    for (const req of hanging) req.destroy();
  });
  await waitFor(
    async () => (await lb.status()).upstreams.find((u) => u.name === 'slow')?.inFlight === 3,
    'the slow upstream to hold three requests, counted in the zone',
  );
  assert.equal((await admin(lb, `/__lb/upstreams/${fast!.name}/ready`)).status, 200);
  // One at a time, each on a new connection, so both workers take some: those of the worker that
  // holds nothing must see the other's. The fast one never has more than one in flight (its last,
  // while its worker finishes the bookkeeping), the slow one three.
  const load = await runLoad(lb.port, { total: 40, concurrency: 1, keepAlive: false });
  assert.equal(load.failed, 0, load.problems.join('; '));
  assert.equal(load.servedBy.get('slow') ?? 0, 0, 'no new request went to the one with more in flight');
  assert.equal(load.servedBy.get(fast!.name), 40);
});

void test('drain under keep-alive load: nothing fails, in-flight requests finish, and the backend gets no new request', async (t) => {
  const backends = await startBackends(t, 3);
  const lb = await cluster(t, backends);
  const target = backends[1]!;
  let drained = false;
  let countAtDrain = 0;
  const load = runLoad(lb.port, {
    total: 6000,
    concurrency: 6,
    keepAlive: true,
    onProgress: (done) => {
      if (done === 1500 && !drained) {
        drained = true;
        void admin(lb, `/__lb/upstreams/${target.name}/drain`).then(async (answer) => {
          assert.equal(answer.status, 200);
          assert.equal(answer.body.admin, 'drain');
          assert.equal(answer.body.available, false);
          countAtDrain = (await served(backends, lb)).get(target.name) ?? 0;
        });
      }
    },
  });
  const result = await load;
  assert.equal(result.failed, 0, result.problems.join('; '));
  assert.ok(drained);
  const after = await served(backends, lb);
  // What was already on its way when the call landed may finish there; nothing new after that.
  assert.ok(
    (after.get(target.name) ?? 0) - countAtDrain <= 12,
    `${target.name} served ${after.get(target.name)} (${countAtDrain} at the drain)`,
  );
  const line = lb.proc.lines.find((l) => l.event === 'admin-change');
  assert.match(
    String(line?.message ?? ''),
    new RegExp(`${target.name}: ready -> drain \\(.* from 127\\.0\\.0\\.1:\\d+\\)`),
  );
  // The others took the rest.
  for (const b of backends.filter((b) => b !== target)) assert.ok((after.get(b.name) ?? 0) > 2000);
});

void test('maint takes one out at once and stops its checks; ready brings it back; a weight of 0 takes no new request', async (t) => {
  let checks = 0;
  const probed = await startHttpServer(t, (req, res) => {
    if (req.url === '/healthz') checks++;
    res.setHeader('X-Served-By', 'probed');
    res.end('ok');
  });
  const [other] = await startBackends(t, 1);
  const lb = await startCluster(
    t,
    [],
    [
      '--upstreams',
      `probed=127.0.0.1:${probed.port},${other!.name}=127.0.0.1:${other!.port}`,
      '--health-interval',
      '100ms',
    ],
  );
  const maint = await admin(lb, '/__lb/upstreams/probed/maint');
  assert.equal(maint.status, 200);
  assert.equal(maint.body.admin, 'maint');
  const before = checks;
  await new Promise((r) => setTimeout(r, 600));
  assert.ok(checks - before <= 1, `${checks - before} checks in 600 ms of maint`);
  let load = await runLoad(lb.port, { total: 20, concurrency: 2, keepAlive: false });
  assert.equal(load.servedBy.get('probed') ?? 0, 0);

  const atReady = checks;
  assert.equal((await admin(lb, '/__lb/upstreams/probed/ready')).status, 200);
  await waitFor(async () => (await lb.upstream('probed')).available, 'probed back in rotation');
  assert.ok(checks > atReady, 'its checks resumed');
  load = await runLoad(lb.port, { total: 20, concurrency: 2, keepAlive: false });
  assert.equal(load.servedBy.get('probed'), 10, 'in turn again');

  const zero = await admin(lb, '/__lb/upstreams/probed/weight/0');
  assert.equal(zero.status, 200);
  assert.equal(zero.body.weight, 0);
  load = await runLoad(lb.port, { total: 20, concurrency: 2, keepAlive: false });
  assert.equal(load.servedBy.get('probed') ?? 0, 0);
  const three = await admin(lb, '/__lb/upstreams/probed/weight/3');
  assert.equal(three.body.weight, 3);
  load = await runLoad(lb.port, { total: 40, concurrency: 2, keepAlive: false });
  assert.equal(load.servedBy.get('probed'), 30, 'weight 3 against 1: three in four');
});

void test('bad input gets a clear answer and changes nothing', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await cluster(t, backends);
  const name = backends[0]!.name;
  const cases: [string, Parameters<typeof admin>[2], number, RegExp][] = [
    ['/__lb/upstreams/nobody/drain', {}, 404, /no upstream named "nobody"; the pool has b1, b2/],
    [`/__lb/upstreams/${name}/sleep`, {}, 400, /"sleep" is not a state/],
    [`/__lb/upstreams/${name}/weight/257`, {}, 400, /whole number from 0 to 256/],
    [`/__lb/upstreams/${name}/weight/1.5`, {}, 400, /whole number from 0 to 256/],
    [`/__lb/upstreams/${name}/weight/-1`, {}, 400, /whole number from 0 to 256/],
    [`/__lb/upstreams/${name}/drain`, { method: 'GET' }, 405, /POST only/],
    [
      `/__lb/upstreams/${name}/drain`,
      { headers: { 'Content-Type': 'text/plain' } },
      415,
      /application\/json/,
    ],
    [
      `/__lb/upstreams/${name}/drain`,
      { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
      415,
      /application\/json/,
    ],
    [`/__lb/upstreams/${name}/drain`, { method: 'OPTIONS' }, 405, /POST only/],
    [`/__lb/upstreams/${name}/drain`, { headers: { Origin: 'http://evil.example' } }, 403, /evil\.example/],
    [`/__lb/upstreams/${name}/drain`, { headers: { Host: 'evil.example:80' } }, 403, /Host/],
    [`/__lb/upstreams/${name}/drain`, { headers: { Origin: 'null' } }, 403, /null/],
  ];
  for (const [route, options, code, message] of cases) {
    const answer = await admin(lb, route, options);
    assert.equal(
      answer.status,
      code,
      `${options?.method ?? 'POST'} ${route} ${JSON.stringify(options?.headers)}`,
    );
    assert.match(String(answer.body.error), message);
  }
  assert.equal((await admin(lb, `/__lb/upstreams/${name}/drain`, { method: 'GET' })).headers.allow, 'POST');
  const s = await lb.status();
  assert.ok(
    s.upstreams.every((u) => u.admin === 'ready' && u.weight === 1 && u.available),
    'nothing changed',
  );
  assert.ok(
    lb.proc.lines.filter((l) => l.event === 'admin-refused').length >= cases.length,
    'each refusal is logged',
  );
  // Its own origin may (the dashboard's page is served from there).
  const own = await admin(lb, `/__lb/upstreams/${name}/drain`, {
    headers: { Origin: `http://127.0.0.1:${lb.adminPort}`, Host: `localhost:${lb.adminPort}` },
  });
  assert.equal(own.status, 200);
});

void test('with a token file, the mutating routes need the token; a non-loopback admin host without one is refused at start', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lb-token-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'token');
  fs.writeFileSync(file, 'a-token-of-some-length-0123\n');
  const backends = await startBackends(t, 1);
  const lb = await startBalancer(t, [backends[0]!.port], ['--admin-token-file', file]);
  const route = `/__lb/upstreams/backend-${backends[0]!.port}/drain`;
  assert.equal((await admin(lb, route)).status, 401);
  assert.equal(
    (await admin(lb, route, { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status,
    401,
  );
  const ok = await admin(lb, route, { headers: { Authorization: 'Bearer a-token-of-some-length-0123' } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));

  const open = await runNode('balancer', ['--admin-host', '0.0.0.0', '--port', '0', '--admin-port', '0']);
  assert.equal(open.code, 2);
  assert.match(open.stderr, /--admin-host 0\.0\.0\.0 is not loopback.*--admin-token-file/s);
  fs.writeFileSync(file, 'short\n');
  const weak = await runNode('balancer', ['--admin-token-file', file, '--port', '0', '--admin-port', '0']);
  assert.equal(weak.code, 2);
  assert.match(weak.stderr, /at least 16 characters/);
});

void test('decisions are kept in the state file: they hold through a reload and a restart; a bad file starts everyone ready', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lb-state-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const stateFile = path.join(dir, 'state.json');
  const backends = await startBackends(t, 3);
  const upstreams = backends.map((b) => `${b.name}=127.0.0.1:${b.port}`).join(',');
  const args = ['--upstreams', upstreams, '--state-file', stateFile];
  const first = await startCluster(t, [], args);
  assert.equal((await admin(first, '/__lb/upstreams/b1/maint')).status, 200);
  assert.equal((await admin(first, '/__lb/upstreams/b2/weight/5')).status, 200);
  const kept = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as unknown;
  assert.deepEqual(kept, {
    version: 1,
    upstreams: { b1: { admin: 'maint', weight: null }, b2: { admin: 'ready', weight: 5 } },
  });

  first.proc.child.kill('SIGHUP');
  await waitFor(() => first.proc.lines.some((l) => l.event === 'reload-done'), 'the reload', {
    timeoutMs: 20_000,
  });
  const reloaded = await first.status();
  assert.equal(reloaded.upstreams.find((u) => u.name === 'b1')?.admin, 'maint');
  assert.equal(reloaded.upstreams.find((u) => u.name === 'b2')?.weight, 5);
  await first.proc.stop('SIGINT', 10_000);

  const second = await startCluster(t, [], args);
  const restarted = await second.status();
  assert.equal(restarted.upstreams.find((u) => u.name === 'b1')?.admin, 'maint');
  assert.equal(restarted.upstreams.find((u) => u.name === 'b1')?.available, false);
  assert.equal(restarted.upstreams.find((u) => u.name === 'b2')?.weight, 5);
  const load = await runLoad(second.port, { total: 60, concurrency: 2, keepAlive: false });
  assert.equal(load.servedBy.get('b1') ?? 0, 0);
  assert.equal(load.servedBy.get('b2'), 50);
  await second.proc.stop('SIGINT', 10_000);

  fs.writeFileSync(stateFile, '{ not json');
  const third = await startCluster(t, [], args);
  assert.ok((await third.status()).upstreams.every((u) => u.admin === 'ready'));
  assert.ok(
    third.proc.lines.some((l) => l.event === 'state-file-error' && /not valid/.test(String(l.message))),
  );
});
