import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { DiscoveryEvent, UpstreamSpec } from '../../src/balancer/discovery/types.js';
import { createPm2Discovery } from '../../src/balancer/discovery/pm2-source.js';
import { withPm2, type Pm2AppConfig } from '../../src/supervisor/pm2-client.js';
import { createPm2Home, fixtureApp, freePorts, terminate, writeFixtures } from '../helpers/pm2-home.js';
import { waitFor } from '../helpers/wait.js';
import { memoryLogger } from '../helpers/memory-logger.js';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const names = (members: readonly UpstreamSpec[]) => members.map((m) => m.name);

async function startPool(t: Parameters<typeof createPm2Home>[0]) {
  const pm2 = await createPm2Home(t);
  const { server } = await writeFixtures(pm2.home);
  const ports = await freePorts(5);
  const app = (name: string, port: number, pool: string): Pm2AppConfig =>
    fixtureApp(
      server,
      name,
      { PORT: String(port), LB_POOL: pool },
      { kill_timeout: 3000, autorestart: true },
    );
  const apps = [
    app('fx-1', ports[0] as number, 'web'),
    app('fx-2', ports[1] as number, 'web'),
    app('fx-3', ports[2] as number, 'web'),
    app('fx-other', ports[3] as number, 'api'),
  ];
  await withPm2({ pm2Home: pm2.home }, (client) => client.start(apps));
  for (const entry of await pm2.jlist()) pm2.track(entry.pid);
  return { pm2, ports, app };
}

void test('PM2 discovery: the pool from LB_POOL, leaving before the port closes, online, joins and deletes', async (t) => {
  const { pm2, ports, app } = await startPool(t);
  const logger = memoryLogger();
  const events: DiscoveryEvent[] = [];
  const openAtLeaving = new Map<string, Promise<boolean>>();
  const discovery = createPm2Discovery({
    pool: 'web',
    host: '127.0.0.1',
    reconcileMs: 500,
    logger,
    pm2Home: pm2.home,
    selfPmId: null,
  });
  t.after(() => discovery.stop());
  const first = await discovery.start((event) => {
    events.push(event);
    if (event.type === 'leaving') openAtLeaving.set(event.id, portOpen(Number(event.id.split(':')[1])));
  });

  assert.deepEqual(names(first), ['fx-1', 'fx-2', 'fx-3']);
  assert.deepEqual(
    first.map((m) => m.id),
    ports.slice(0, 3).map((p) => `127.0.0.1:${p}`),
  );
  for (const member of first) {
    assert.equal(member.pm2?.status, 'online');
    assert.ok((member.pm2?.pid ?? 0) > 0);
    assert.ok((member.pm2?.memoryBytes ?? 0) >= 0);
  }

  // pm2 stop: the app's own notice takes it out while its port still accepts connections.
  const fx2 = `127.0.0.1:${ports[1]}`;
  const stop = await pm2.pm2(['stop', 'fx-2']);
  assert.equal(stop.code, 0, stop.stderr);
  const leaving = events.filter((e) => e.type === 'leaving');
  assert.deepEqual(leaving, [{ type: 'leaving', id: fx2, reason: 'pm2 stopping' }]);
  assert.equal(await openAtLeaving.get(fx2), true, 'the port was still open when it left');
  assert.equal(await portOpen(ports[1] as number), false);
  await waitFor(() => {
    const last = events.filter((e) => e.type === 'members').at(-1);
    return last?.type === 'members' && last.members.find((m) => m.id === fx2)?.pm2?.status === 'stopped';
  }, 'the member to show as stopped');

  // Back online: one 'online' hint, so the balancer health-checks it at once.
  events.length = 0;
  await pm2.pm2(['restart', 'fx-2']);
  await waitFor(() => events.find((e) => e.type === 'online' && e.id === fx2), 'online for fx-2');
  assert.equal(events.filter((e) => e.type === 'online').length, 1);
  for (const entry of await pm2.jlist()) pm2.track(entry.pid);

  // A fourth app of the pool joins from the bus; deleted, it leaves the membership.
  const [fx4Port] = await freePorts(1);
  await withPm2({ pm2Home: pm2.home }, (client) => client.start([app('fx-4', fx4Port as number, 'web')]));
  for (const entry of await pm2.jlist()) pm2.track(entry.pid);
  await waitFor(() => {
    const last = events.filter((e) => e.type === 'members').at(-1);
    return last?.type === 'members' && names(last.members).join() === 'fx-1,fx-2,fx-3,fx-4';
  }, 'fx-4 to join');
  await pm2.pm2(['delete', 'fx-4']);
  await waitFor(() => {
    const last = events.filter((e) => e.type === 'members').at(-1);
    return last?.type === 'members' && names(last.members).join() === 'fx-1,fx-2,fx-3';
  }, 'fx-4 to leave the membership');

  assert.deepEqual(
    logger.lines.filter((l) => l.level === 'warn' || l.level === 'error'),
    [],
  );
  await discovery.stop();
});

void test('PM2 discovery: daemon gone means one warning and the last pool kept; back means one line', async (t) => {
  const { pm2 } = await startPool(t);
  const logger = memoryLogger();
  const events: DiscoveryEvent[] = [];
  const discovery = createPm2Discovery({
    pool: 'web',
    host: '127.0.0.1',
    reconcileMs: 200,
    logger,
    pm2Home: pm2.home,
    selfPmId: null,
  });
  t.after(() => discovery.stop());
  const first = await discovery.start((event) => events.push(event));
  assert.deepEqual(names(first), ['fx-1', 'fx-2', 'fx-3']);

  // The daemon dies without a word; its apps live on, orphaned, until this test stops them.
  const orphans = (await pm2.jlist()).map((entry) => entry.pid).filter((pid) => pid > 0);
  assert.equal(orphans.length, 4);
  t.after(() => terminate(orphans));
  const daemon = await pm2.daemonPid();
  assert.ok(daemon !== null);
  events.length = 0;
  process.kill(daemon, 'SIGKILL');
  const warnings = () => logger.lines.filter((l) => l.level === 'warn');
  await waitFor(() => warnings().length > 0, 'a warning about the daemon', { timeoutMs: 10_000 });
  assert.match(
    warnings()[0]?.message ?? '',
    /^PM2 daemon unreachable \(.+\); keeping the last known pool of 3 \(fx-1, fx-2, fx-3\) with health checks/,
  );
  // Several quiet retries later: still one warning, and nothing told the balancer to drop anyone.
  await waitFor(
    () => logger.lines.filter((l) => l.fields?.event === 'pm2-retry' && l.level === 'debug').length >= 3,
    'three retries',
  );
  assert.equal(warnings().length, 1);
  assert.equal(
    events.some((e) => e.type === 'members' || e.type === 'leaving'),
    false,
  );
  assert.equal(logger.lines.filter((l) => l.level === 'error').length, 0);

  // A new daemon in the same home: reconnected, and its (empty) list is the truth again.
  const ping = await pm2.pm2(['ping']);
  assert.equal(ping.code, 0, ping.stderr);
  await waitFor(
    () => logger.lines.find((l) => l.level === 'info' && /^PM2 daemon reachable again after/.test(l.message)),
    'the back-again line',
    { timeoutMs: 10_000 },
  );
  await waitFor(() => {
    const last = events.filter((e) => e.type === 'members').at(-1);
    return last?.type === 'members' && last.members.length === 0;
  }, 'the new daemon to be believed');
  assert.equal(warnings().length, 1);
  await discovery.stop();
  await terminate(orphans);
});
