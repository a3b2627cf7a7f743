import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UpstreamSpec } from '../../src/balancer/discovery/types.js';
import { BalancerEvents, type PoolChange } from '../../src/balancer/events.js';
import { Pool } from '../../src/balancer/pool.js';
import { buildStatus } from '../../src/balancer/status.js';
import { Zone } from '../../src/balancer/zone.js';

const NO_REQUESTS = { inFlight: 0, served: 0, failures: 0, queued: 0 };
import { memoryLogger } from '../helpers/memory-logger.js';
import { statusFacts } from '../helpers/status-document.js';

const spec = (port: number, extra: Partial<UpstreamSpec> = {}): UpstreamSpec => ({
  id: `127.0.0.1:${port}`,
  name: `backend-${port}`,
  host: '127.0.0.1',
  port,
  ...extra,
});

function makePool(options: { zone?: Zone } = {}) {
  const logger = memoryLogger();
  const events = new BalancerEvents();
  const changes: PoolChange[] = [];
  events.onPoolChange((c) => changes.push(c));
  let now = 1000;
  const pool = new Pool({ thresholds: { fall: 2, rise: 2 }, logger, events, clock: () => now, ...options });
  return { pool, logger, events, changes, tick: (ms: number) => (now += ms) };
}

const ok = (at: number) => ({ ok: true, ms: 1.5, at, error: null });
const bad = (at: number) => ({ ok: false, ms: 500, at, error: 'connect ECONNREFUSED 127.0.0.1:9' });

void test('new members are given traffic in order until their first check', () => {
  const { pool } = makePool();
  pool.setMembers([spec(1), spec(2), spec(3)], 'static', true);
  assert.deepEqual(
    [pool.select(), pool.select(), pool.select(), pool.select()].map((u) => u?.name),
    ['backend-1', 'backend-2', 'backend-3', 'backend-1'],
  );
});

void test('a state change gives exactly one pool-change line and event', () => {
  const { pool, logger, changes } = makePool();
  pool.setMembers([spec(1), spec(2)], 'static', true);
  const b1 = pool.get('127.0.0.1:1')!;
  pool.recordCheck(b1, ok(1));
  pool.recordCheck(b1, ok(2));
  pool.recordCheck(b1, bad(3));
  pool.recordCheck(b1, bad(4));
  pool.recordCheck(b1, bad(5));
  pool.recordCheck(b1, ok(6));
  pool.recordCheck(b1, ok(7));
  const lines = logger.lines.filter((l) => l.fields?.event === 'pool-change' && l.level !== 'debug');
  assert.deepEqual(
    lines.map((l) => l.message),
    [
      'backend-1 joined the pool: health check ok in 1.50 ms',
      'backend-1 left the pool: 2 failed health checks (last: connect ECONNREFUSED 127.0.0.1:9)',
      'backend-1 rejoined after 2 checks',
    ],
  );
  assert.deepEqual(
    changes.slice(-3).map((c) => [c.from, c.to]),
    [
      ['unknown', 'up'],
      ['up', 'down'],
      ['down', 'up'],
    ],
  );
  assert.equal(b1.failures, 3);
});

void test('a down upstream gets no traffic; the others keep their turns', () => {
  const { pool } = makePool();
  pool.setMembers([spec(1), spec(2), spec(3)], 'static', true);
  pool.takeOut(pool.get('127.0.0.1:2')!, 'connection refused while proxying GET /');
  const names = Array.from({ length: 4 }, () => pool.select()?.name);
  assert.deepEqual(names, ['backend-1', 'backend-3', 'backend-1', 'backend-3']);
  assert.equal(pool.availableCount(), 2);
});

void test('when every upstream is down there is none to select', () => {
  const { pool } = makePool();
  pool.setMembers([spec(1), spec(2)], 'static', true);
  for (const u of pool.members) pool.recordCheck(u, bad(1));
  assert.equal(pool.select(), undefined);
  pool.recordCheck(pool.members[1]!, ok(2));
  pool.recordCheck(pool.members[1]!, ok(3));
  assert.equal(pool.select()?.name, 'backend-2');
});

void test('discovery changes membership: new members join, missing ones leave, PM2 state is kept', () => {
  const { pool, changes } = makePool();
  pool.setMembers([spec(1), spec(2)], 'pm2', true);
  const b2 = pool.get('127.0.0.1:2')!;
  const pm2 = {
    pmId: 4,
    status: 'online',
    pid: 99,
    restarts: 1,
    uptimeMs: 10,
    memoryBytes: 1,
    cpuPercent: 0,
  };
  pool.setMembers([spec(2, { pm2 }), spec(3)], 'pm2');
  assert.deepEqual(
    pool.members.map((u) => u.name),
    ['backend-2', 'backend-3'],
  );
  assert.equal(pool.get('127.0.0.1:2'), b2, 'an upstream that stays keeps its state');
  assert.deepEqual(b2.pm2, pm2);
  assert.equal(pool.get('127.0.0.1:1'), undefined);
  assert.deepEqual(
    changes.slice(-2).map((c) => [c.name, c.from, c.to]),
    [
      ['backend-1', 'unknown', 'absent'],
      ['backend-3', 'absent', 'unknown'],
    ],
  );
});

void test('the status lists every upstream with its state, counters and last check', () => {
  const { pool } = makePool();
  pool.setMembers([spec(1), spec(2, { weight: 1 })], 'static', true);
  const [b1, b2] = pool.members;
  pool.recordCheck(b1!, ok(1100));
  pool.recordCheck(b2!, bad(1200));
  b1!.served = 7;
  b1!.enter();
  b1!.enter();
  b1!.tunnels = 1;
  b1!.tunnelBytesUp = 10;
  b1!.tunnelBytesDown = 20;
  const status = buildStatus(
    pool.members,
    statusFacts({
      now: 3000,
      proxyEngine: 'http-proxy',
      policy: pool.policyName,
      tunnels: { open: 1, max: 10 },
      connections: { open: 3, limit: 96, descriptorLimit: 256, dropped: 0, localFailures: 0 },
    }),
    NO_REQUESTS,
    [],
  );
  assert.equal(status.balancer.uptimeMs, 2000);
  assert.deepEqual(status.balancer.connections, {
    open: 3,
    limit: 96,
    descriptorLimit: 256,
    dropped: 0,
    localFailures: 0,
  });
  assert.deepEqual(status.pool, { size: 2, available: 1 });
  assert.deepEqual(status.upstreams[0], {
    id: '127.0.0.1:1',
    name: 'backend-1',
    address: '127.0.0.1:1',
    state: 'up',
    available: true,
    admin: 'ready',
    since: 1100,
    reason: 'health check ok in 1.50 ms',
    weight: 1,
    inFlight: 2,
    tunnels: { open: 1, bytesToUpstream: 10, bytesFromUpstream: 20 },
    attempts: 0,
    served: 7,
    failures: 0,
    lastCheck: { ok: true, latencyMs: 1.5, at: 1100, error: null },
    pm2: null,
    origin: { source: 'static', host: null },
  });
  assert.equal(status.upstreams[1]?.state, 'down');
  assert.equal(status.upstreams[1]?.lastCheck?.error, 'connect ECONNREFUSED 127.0.0.1:9');
  assert.doesNotThrow(() => JSON.stringify(status));
});

void test('health-check events are only built when someone listens', () => {
  const { pool, events } = makePool();
  pool.setMembers([spec(1)], 'static', true);
  assert.equal(events.wantsHealthChecks, false);
  const seen: boolean[] = [];
  const off = events.onHealthCheck((e) => seen.push(e.ok));
  assert.equal(events.wantsHealthChecks, true);
  pool.recordCheck(pool.members[0]!, ok(1));
  pool.recordCheck(pool.members[0]!, bad(2));
  off();
  assert.equal(events.wantsHealthChecks, false);
  pool.recordCheck(pool.members[0]!, ok(3));
  assert.deepEqual(seen, [true, false]);
});

void test('a check that timed out while the upstream answered proxied requests does not count against it', () => {
  const { pool, changes } = makePool();
  pool.setMembers([spec(1)], 'static', true);
  const b1 = pool.members[0]!;
  pool.recordCheck(b1, ok(1));
  const busy = (at: number) => ({
    ok: false,
    ms: 500,
    at,
    error: 'no answer',
    timedOut: true,
    servedDuring: 3,
  });
  pool.recordCheck(b1, busy(2));
  pool.recordCheck(b1, busy(3));
  pool.recordCheck(b1, busy(4));
  assert.equal(b1.available, true, 'busy is not dead');
  // Silence with no traffic answered is a failure like any other.
  const silent = (at: number) => ({
    ok: false,
    ms: 500,
    at,
    error: 'no answer',
    timedOut: true,
    servedDuring: 0,
  });
  pool.recordCheck(b1, silent(5));
  pool.recordCheck(b1, silent(6));
  assert.equal(b1.available, false);
  assert.deepEqual(
    changes.map((c) => c.to),
    ['unknown', 'up', 'down'],
  );
});

void test('after PM2 says a process is online again, one good check brings it back; otherwise rise checks', () => {
  const { pool } = makePool();
  pool.setMembers([spec(1), spec(2)], 'static', true);
  const [b1, b2] = pool.members;
  for (const u of [b1!, b2!]) pool.takeOut(u, 'connection refused');
  pool.recordCheck(b1!, ok(2000));
  assert.equal(b1!.available, false, 'rise is 2: one good check is not enough');
  pool.rejoinOnNextCheck(b2!);
  pool.recordCheck(b2!, ok(2000));
  assert.equal(b2!.available, true, 'PM2 said online: one good check is enough');
  assert.equal(b2!.reason, 'rejoined after 1 check');
  pool.takeOut(b2!, 'connection refused');
  pool.recordCheck(b2!, ok(3000));
  assert.equal(b2!.available, false, 'the shortcut is used once');
});

void test("a replica pool reads the owner's decisions from the shared zone, logs nothing, and marks a take-out down for all", () => {
  const zone = Zone.private();
  const { pool: owner } = makePool({ zone });
  owner.setMembers([spec(1), spec(2)], 'static', true);
  const logger = memoryLogger();
  const takenOut: string[] = [];
  const replica = new Pool({
    thresholds: { fall: 2, rise: 2 },
    logger,
    events: new BalancerEvents(),
    zone,
    replica: { onTakeOut: (u, reason) => takenOut.push(`${u.name}: ${reason}`) },
  });
  const woken: number[] = [];
  replica.onAvailability(() => woken.push(replica.availableCount()));
  replica.setMembers(
    owner.members.map((u) => ({ ...spec(Number(u.id.split(':')[1])), slot: u.slot })),
    'primary',
    true,
  );
  for (const u of owner.members) owner.takeOut(u, 'refused');
  assert.equal(replica.availableCount(), 0, 'the owner took both out: the replica sees it at once');
  owner.recordCheck(owner.members[1]!, ok(2000));
  owner.recordCheck(owner.members[1]!, ok(3000));
  assert.deepEqual(
    replica.members.map((u) => [u.name, u.available]),
    [
      ['backend-1', false],
      ['backend-2', true],
    ],
  );
  replica.wake();
  assert.ok(woken.includes(1), 'waiting requests are woken when one is available');
  replica.takeOut(replica.members[1]!, 'reset while proxying');
  assert.deepEqual(takenOut, ['backend-2: reset while proxying']);
  assert.equal(owner.members[1]!.available, false, 'the take-out holds for every worker at once');
  assert.deepEqual(logger.lines, [], 'the primary logs pool changes, once');
});
