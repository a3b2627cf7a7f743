import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PoolTracker } from '../../src/balancer/discovery/pool-tracker.js';
import type { Pm2App, Pm2ProcessEvent, Pm2ProcessMessage } from '../../src/supervisor/pm2-app.js';
import type { DiscoveryEvent } from '../../src/balancer/discovery/types.js';

function app(name: string, port: number | string | undefined, extra: Partial<Pm2App> = {}): Pm2App {
  const env: Record<string, string> = { LB_POOL: 'web' };
  if (port !== undefined) env.PORT = String(port);
  return {
    pmId: Number(name.replace(/\D/g, '') || 0) % 100,
    name,
    namespace: 'default',
    status: 'online',
    pid: 4000 + (Number(name.replace(/\D/g, '') || 0) % 100),
    restarts: 0,
    uptimeMs: 1000,
    memoryBytes: 50_000_000,
    cpuPercent: 1,
    outLogPath: null,
    errLogPath: null,
    ...extra,
    env: { ...env, ...extra.env },
  };
}

function busEvent(event: string, name: string, fields: Partial<Pm2ProcessEvent> = {}): Pm2ProcessEvent {
  return {
    event,
    name,
    namespace: null,
    pmId: null,
    status: null,
    restarts: null,
    exitCode: null,
    manually: false,
    env: {},
    ...fields,
  };
}

const tracker = () => new PoolTracker({ pool: 'web', host: '127.0.0.1', selfPmId: null });
const fleet = () => [app('b-1', 21001), app('b-2', 21002), app('b-3', 21003)];
const kinds = (events: DiscoveryEvent[]) =>
  events.map((e) => (e.type === 'members' ? 'members' : `${e.type} ${e.id}`));

void test('the pool is every app whose LB_POOL names it, at host:PORT, named after the app, with its PM2 state', () => {
  const t = tracker();
  const events = t.applyList(
    [
      app('b-2', 21002),
      app('b-1', 21001, { status: 'stopped', pid: null }),
      app('other', 21009, { env: { LB_POOL: 'api' } }),
      app('lonely', 21010, { env: { LB_POOL: '' } }),
    ],
    t.sequence,
  );
  assert.deepEqual(kinds(events), ['members']);
  const members = t.snapshot();
  assert.deepEqual(
    members.map((m) => [m.id, m.name, m.host, m.port, m.pm2?.status]),
    [
      ['127.0.0.1:21001', 'b-1', '127.0.0.1', 21001, 'stopped'],
      ['127.0.0.1:21002', 'b-2', '127.0.0.1', 21002, 'online'],
    ],
  );
  assert.deepEqual(members[1]?.pm2, {
    pmId: 2,
    status: 'online',
    pid: 4002,
    restarts: 0,
    uptimeMs: 1000,
    memoryBytes: 50_000_000,
    cpuPercent: 1,
  });
});

void test('the discovering balancer and any other load balancer are never members, even in the same pool', () => {
  const t = new PoolTracker({ pool: 'web', host: '127.0.0.1', selfPmId: 7 });
  t.applyList(
    [
      app('b-1', 21001),
      app('balancer', 21444, { pmId: 7 }),
      app('balancer-2', 21446, { pmId: 8, env: { LB_POOL: 'web', DISCOVERY: 'pm2' } }),
    ],
    t.sequence,
  );
  assert.deepEqual(
    t.snapshot().map((m) => m.name),
    ['b-1'],
  );
});

void test('an app of the pool without a usable PORT is left out and reported, until it is fixed', () => {
  const t = tracker();
  t.applyList([app('b-1', 21001), app('b-x', undefined), app('b-y', 'http')], t.sequence);
  assert.deepEqual(
    t.snapshot().map((m) => m.name),
    ['b-1'],
  );
  assert.deepEqual([...t.ignoredApps().keys()].sort(), ['b-x', 'b-y']);
  assert.match(t.ignoredApps().get('b-y') ?? '', /PORT \(http\) is not a port/);
  t.applyList([app('b-1', 21001), app('b-x', 21005)], t.sequence);
  assert.deepEqual([...t.ignoredApps().keys()], []);
  assert.deepEqual(
    t.snapshot().map((m) => m.name),
    ['b-1', 'b-x'],
  );
});

void test('members is emitted only when something changed, and a deleted app drops out of it', () => {
  const t = tracker();
  assert.deepEqual(kinds(t.applyList(fleet(), t.sequence)), ['members']);
  assert.deepEqual(t.applyList(fleet(), t.sequence), [], 'same list again: nothing to say');
  const [first, second] = fleet();
  const events = t.applyList([first as Pm2App, second as Pm2App], t.sequence);
  assert.equal(events.length, 1);
  const only = events[0];
  assert.equal(only?.type, 'members');
  assert.deepEqual(only?.type === 'members' ? only.members.map((m) => m.name) : [], ['b-1', 'b-2']);
});

void test('a member that goes from online to stopped in a list leaves once, and comes back once', () => {
  const t = tracker();
  t.applyList(fleet(), t.sequence);
  const down = fleet().map((a) => (a.name === 'b-2' ? { ...a, status: 'stopped', pid: null } : a));
  const leaving = t.applyList(down, t.sequence);
  assert.deepEqual(kinds(leaving), ['members', 'leaving 127.0.0.1:21002']);
  assert.deepEqual(leaving[1], { type: 'leaving', id: '127.0.0.1:21002', reason: 'pm2 stopped' });
  assert.deepEqual(kinds(t.applyList(down, t.sequence)), [], 'still down: no second leaving');
  const back = t.applyList(fleet(), t.sequence);
  assert.deepEqual(kinds(back), ['members', 'online 127.0.0.1:21002']);
});

void test('bus: exit makes an up member leave at once (pm2 stopping during a stop), online brings it back', () => {
  const t = tracker();
  t.applyList(fleet(), t.sequence);
  const exit = t.applyEvent(busEvent('exit', 'b-3', { status: 'stopping', pmId: 3 }));
  assert.equal(exit.reconcile, false);
  assert.deepEqual(exit.events.at(-1), { type: 'leaving', id: '127.0.0.1:21003', reason: 'pm2 stopping' });
  // PM2 sends a second exit (status stopped) and a late 'restart': neither repeats anything.
  const again = t.applyEvent(busEvent('exit', 'b-3', { status: 'stopped', pmId: 3 }));
  assert.equal(
    again.events.some((e) => e.type === 'leaving'),
    false,
  );
  const online = t.applyEvent(busEvent('online', 'b-3', { status: 'launching', pmId: 3, restarts: 1 }));
  assert.deepEqual(online.events.at(-1), { type: 'online', id: '127.0.0.1:21003', reason: 'pm2 online' });
  const member = t.snapshot().find((m) => m.name === 'b-3');
  assert.equal(member?.pm2?.status, 'online');
  assert.equal(member?.pm2?.restarts, 1);
  assert.equal(member?.pm2?.pid, null, 'the new pid is unknown until the next list');
  assert.deepEqual(t.applyEvent(busEvent('restart', 'b-3', { status: 'online', manually: true })).events, []);
});

void test('bus: a crash (exit while online) and a give-up (restart overlimit) say why', () => {
  const t = tracker();
  t.applyList(fleet(), t.sequence);
  const crash = t.applyEvent(busEvent('exit', 'b-1', { status: 'stopped' }));
  assert.deepEqual(crash.events.at(-1), { type: 'leaving', id: '127.0.0.1:21001', reason: 'pm2 exit' });
  t.applyEvent(busEvent('online', 'b-1', { status: 'launching' }));
  const overlimit = t.applyEvent(busEvent('restart overlimit', 'b-1', { status: 'errored' }));
  assert.equal(overlimit.reconcile, true);
  assert.deepEqual(overlimit.events.at(-1), {
    type: 'leaving',
    id: '127.0.0.1:21001',
    reason: 'pm2 errored (too many unstable restarts)',
  });
  assert.equal(t.snapshot().find((m) => m.name === 'b-1')?.pm2?.status, 'errored');
});

void test('bus: events about apps outside the pool change nothing', () => {
  const t = tracker();
  t.applyList(fleet(), t.sequence);
  const update = t.applyEvent(
    busEvent('online', 'threaded', { status: 'online', env: { PORT: '21046', LB_POOL: '' } }),
  );
  assert.deepEqual(update.events, []);
  assert.deepEqual(t.applyEvent(busEvent('exit', 'async', { status: 'stopped' })).events, []);
  assert.equal(t.snapshot().length, 3);
});

void test('bus: a new app of the pool coming online joins at once and asks for a reconcile', () => {
  const t = tracker();
  t.applyList(fleet(), t.sequence);
  const update = t.applyEvent(
    busEvent('online', 'b-4', { status: 'launching', pmId: 9, env: { PORT: '21004', LB_POOL: 'web' } }),
  );
  assert.equal(update.reconcile, true);
  assert.deepEqual(kinds(update.events), ['members', 'online 127.0.0.1:21004']);
  assert.deepEqual(
    t.snapshot().map((m) => m.name),
    ['b-1', 'b-2', 'b-3', 'b-4'],
  );
});

void test('a stopping notice from a member takes it out before PM2 says anything', () => {
  const t = tracker();
  t.applyList(fleet(), t.sequence);
  const notice: Pm2ProcessMessage = {
    name: 'b-2',
    pmId: 2,
    raw: undefined,
    data: { event: 'stopping', signal: 'SIGINT' },
  };
  const events = t.applyMessage(notice);
  assert.deepEqual(kinds(events), ['members', 'leaving 127.0.0.1:21002']);
  assert.equal(t.snapshot().find((m) => m.name === 'b-2')?.pm2?.status, 'stopping');
  // The exit that follows does not repeat it; other messages are ignored.
  assert.equal(
    t.applyEvent(busEvent('exit', 'b-2', { status: 'stopping' })).events.some((e) => e.type === 'leaving'),
    false,
  );
  assert.deepEqual(t.applyMessage({ ...notice, name: 'b-1', raw: 'ready', data: undefined }), []);
  assert.deepEqual(t.applyMessage({ ...notice, name: 'nobody' }), []);
});

void test('a list taken before a bus event does not undo what the event said', () => {
  const t = tracker();
  t.applyList(fleet(), t.sequence);
  const requestedAt = t.sequence;
  // The list is in flight when b-2 announces its stop; the list still shows it online.
  t.applyMessage({ name: 'b-2', pmId: 2, raw: undefined, data: { event: 'stopping', signal: 'SIGINT' } });
  const stale = t.applyList(fleet(), requestedAt);
  assert.equal(
    stale.some((e) => e.type === 'online'),
    false,
    'no online from a stale list',
  );
  assert.equal(t.snapshot().find((m) => m.name === 'b-2')?.pm2?.status, 'stopping');
  // A list asked for after the event is believed.
  const fresh = t.applyList(fleet(), t.sequence);
  assert.deepEqual(kinds(fresh), ['members', 'online 127.0.0.1:21002']);
});

void test('a member whose PORT changes is replaced under its new id', () => {
  const t = tracker();
  t.applyList(fleet(), t.sequence);
  const moved = fleet().map((a) => (a.name === 'b-1' ? { ...a, env: { ...a.env, PORT: '21011' } } : a));
  const events = t.applyList(moved, t.sequence);
  assert.deepEqual(kinds(events), ['members']);
  assert.deepEqual(
    t.snapshot().map((m) => m.id),
    ['127.0.0.1:21011', '127.0.0.1:21002', '127.0.0.1:21003'],
  );
});
