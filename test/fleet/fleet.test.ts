/**
 * The real ecosystem file under a real PM2 daemon (a throwaway PM2_HOME, the whole fleet shifted by
 * a PORT_OFFSET at which every port is free), and the operations it exists for: restarts, crashes,
 * a crash loop, and a daemon that disappears under a balancer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { PUBLIC_DIR } from '../../src/config/common.js';
import { loadFleetApps, type FleetApp } from '../../src/fleet/ecosystem.js';
import {
  createPm2Home,
  findFreePortOffset,
  freePorts,
  terminate,
  writeFixtures,
  type Pm2Home,
} from '../helpers/pm2-home.js';
import { startNode, type LogLine } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const PAGE = fs.readFileSync(path.join(PUBLIC_DIR, 'page.html'));

interface Fleet {
  pm2: Pm2Home;
  offset: number;
  apps: FleetApp[];
  backends: FleetApp[];
  balancer: FleetApp;
  logDir: string;
  /** JSON lines an app has logged so far (its PM2 out and err files), in time order. */
  log(app: string): LogLine[];
}

function readJsonLines(file: string): LogLine[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const lines: LogLine[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(raw) as LogLine);
    } catch {
      // a line being written
    }
  }
  return lines;
}

/** `pm2 start ecosystem.config.cjs` at a free offset, JSON logs into the test's PM2_HOME. */
async function startFleet(
  t: Parameters<typeof createPm2Home>[0],
  only?: string[],
  extraEnv: Record<string, string> = {},
): Promise<Fleet> {
  const pm2 = await createPm2Home(t);
  const offset = await findFreePortOffset();
  const logDir = path.join(pm2.home, 'fleet-logs');
  fs.mkdirSync(logDir);
  const env = {
    PORT_OFFSET: String(offset),
    FLEET_LOG_DIR: logDir,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    ...extraEnv,
  };
  const args = ['start', 'ecosystem.config.cjs', ...(only === undefined ? [] : ['--only', only.join(',')])];
  const started = await pm2.pm2(args, env, 120_000);
  for (const entry of await pm2.jlist()) pm2.track(entry.pid);
  assert.equal(started.code, 0, `pm2 start failed:\n${started.stdout}\n${started.stderr}`);
  const apps = loadFleetApps(env, offset).filter((a) => only === undefined || only.includes(a.name));
  const balancer = loadFleetApps(env, offset).find((a) => a.role === 'balancer') as FleetApp;
  return {
    pm2,
    offset,
    apps,
    backends: apps.filter((a) => a.role === 'backend'),
    balancer,
    logDir,
    // Errors and warnings are in the err file: merged by timestamp (a stable sort keeps each file's order).
    log: (app) =>
      [
        ...readJsonLines(path.join(logDir, `${app}.out.log`)),
        ...readJsonLines(path.join(logDir, `${app}.err.log`)),
      ].sort((a, b) => String(a.timestamp).localeCompare(String(b.timestamp))),
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

interface Reply {
  status: number;
  body: Buffer;
  servedBy: string | null;
}

function get(url: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          servedBy: (res.headers['x-served-by'] as string | undefined) ?? null,
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

async function json(url: string): Promise<unknown> {
  const reply = await get(url);
  assert.equal(reply.status, 200, `${url} answered ${reply.status}`);
  return JSON.parse(reply.body.toString('utf8')) as unknown;
}

interface StatusDoc {
  balancer: { discovery: string; pool: string | null };
  upstreams: {
    name: string;
    id: string;
    state: string;
    available: boolean;
    pm2: { status: string; pid: number | null } | null;
  }[];
}

/**
 * A bounded load through the balancer: `workers` loops of GET /page.html, each reply checked
 * (status 200 and the page's exact bytes), until stop() or `maxRequests`.
 */
function load(url: string, workers = 3, maxRequests = 20_000) {
  let stopped = false;
  const failures: string[] = [];
  const servedBy = new Map<string, number>();
  let done = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (!stopped && done < maxRequests) {
      try {
        const reply = await get(url);
        if (reply.status !== 200 || !reply.body.equals(PAGE)) {
          failures.push(`status ${reply.status}, ${reply.body.length} bytes from ${reply.servedBy ?? '?'}`);
        } else if (reply.servedBy !== null) {
          servedBy.set(reply.servedBy, (servedBy.get(reply.servedBy) ?? 0) + 1);
        }
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
      done++;
    }
  });
  return {
    get done() {
      return done;
    },
    failures,
    servedBy,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** The balancer's pool-change lines about one upstream (by id: host:port). */
const poolChanges = (fleet: Fleet, app: FleetApp) =>
  fleet.log('balancer').filter((l) => l.event === 'pool-change' && l.id === `127.0.0.1:${app.port}`);

void test('the ecosystem under PM2: seven apps online, the page through the balancer, and the operations', async (t) => {
  t.after(() => agent.destroy());
  const fleet = await startFleet(t);
  const balancerUrl = `http://127.0.0.1:${fleet.balancer.port}`;
  const statusUrl = fleet.balancer.statusUrl as string;

  await t.test('all seven apps are online, each having said ready after listening', async () => {
    const list = await fleet.pm2.jlist();
    assert.deepEqual(list.map((e) => e.name).sort(), fleet.apps.map((a) => a.name).sort());
    for (const entry of list) assert.equal(entry.pm2_env.status, 'online', entry.name);
    for (const app of fleet.apps) {
      const listening = fleet.log(app.name).find((l) => l.event === 'listening');
      assert.equal(listening?.port, app.port, `${app.name} logged listening on its port`);
      const health = (await json(app.healthUrl)) as { status: string; name: string };
      assert.equal(health.status, 'ok');
      assert.equal(health.name, app.name);
    }
  });

  await t.test('a request through the balancer returns page.html, served by a backend', async () => {
    const reply = await get(`${balancerUrl}/page.html`);
    assert.equal(reply.status, 200);
    assert.ok(reply.body.equals(PAGE), 'the exact bytes of public/page.html');
    assert.ok(
      fleet.backends.some((b) => b.name === reply.servedBy),
      `served by a backend, not ${reply.servedBy}`,
    );
  });

  await t.test(
    'the pool PM2 discovery found is exactly the four backends, with their PM2 state',
    async () => {
      const list = new Map((await fleet.pm2.jlist()).map((e) => [e.name, e]));
      await waitFor(async () => {
        const status = (await json(statusUrl)) as StatusDoc;
        return status.upstreams.every((u) => u.available) && status;
      }, 'every member available');
      const status = (await json(statusUrl)) as StatusDoc;
      assert.equal(status.balancer.discovery, 'pm2');
      assert.equal(status.balancer.pool, 'web');
      assert.deepEqual(
        status.upstreams.map((u) => [u.name, u.id]),
        fleet.backends.map((b) => [b.name, `127.0.0.1:${b.port}`]),
      );
      for (const upstream of status.upstreams) {
        assert.equal(upstream.pm2?.status, 'online');
        assert.equal(upstream.pm2?.pid, list.get(upstream.name)?.pid);
      }
      const first = fleet.log('balancer').find((l) => l.event === 'discovery');
      assert.match(first?.message ?? '', /^pm2 discovery \(LB_POOL=web\): a pool of 4: /);
    },
  );

  await t.test(
    'pm2 restart of a backend under load: zero failed requests, it leaves and rejoins',
    async () => {
      const target = fleet.backends[1] as FleetApp;
      const before = poolChanges(fleet, target).length;
      const traffic = load(`${balancerUrl}/page.html`);
      await waitFor(() => traffic.done >= 30, 'some traffic first');
      const restarted = await fleet.pm2.pm2(['restart', target.name]);
      assert.equal(restarted.code, 0, restarted.stderr);
      await waitFor(
        () =>
          poolChanges(fleet, target)
            .slice(before)
            .some((l) => l.from === 'down' && l.to === 'up'),
        `${target.name} to rejoin`,
        { timeoutMs: 15_000 },
      );
      const mark = traffic.done;
      await waitFor(() => traffic.done >= mark + 30, 'traffic after the rejoin');
      await traffic.stop();
      assert.deepEqual(traffic.failures, [], `failed requests out of ${traffic.done}`);
      const changes = poolChanges(fleet, target).slice(before);
      assert.equal(changes[0]?.to, 'down', 'it left first');
      assert.match(changes[0]?.message ?? '', new RegExp(`^${target.name} left the pool: pm2 `));
      assert.match(changes.at(-1)?.message ?? '', new RegExp(`^${target.name} rejoined after \\d+ checks$`));
      for (const b of fleet.backends) assert.ok((traffic.servedBy.get(b.name) ?? 0) > 0, `${b.name} served`);
      for (const entry of await fleet.pm2.jlist()) fleet.pm2.track(entry.pid);
    },
  );

  await t.test(
    'SIGKILL of a backend: PM2 restarts it, the balancer admits it again, zero failed GETs',
    async () => {
      const target = fleet.backends[2] as FleetApp;
      const entry = (await fleet.pm2.jlist()).find((e) => e.name === target.name);
      assert.ok(entry !== undefined && entry.pid > 0);
      const before = poolChanges(fleet, target).length;
      const traffic = load(`${balancerUrl}/page.html`);
      await waitFor(() => traffic.done >= 30, 'some traffic first');
      process.kill(entry.pid, 'SIGKILL');
      const back = await waitFor(
        async () => {
          const now = (await fleet.pm2.jlist()).find((e) => e.name === target.name);
          return now?.pm2_env.status === 'online' && now.pid !== entry.pid && now;
        },
        `PM2 to restart ${target.name}`,
        { timeoutMs: 15_000 },
      );
      fleet.pm2.track(back.pid);
      assert.equal(back.pm2_env.restart_time, entry.pm2_env.restart_time + 1);
      await waitFor(
        () =>
          poolChanges(fleet, target)
            .slice(before)
            .some((l) => l.from === 'down' && l.to === 'up'),
        `${target.name} to be admitted again`,
        { timeoutMs: 15_000 },
      );
      const mark = traffic.done;
      await waitFor(() => traffic.done >= mark + 30, 'traffic after the rejoin');
      await traffic.stop();
      assert.deepEqual(traffic.failures, [], `failed GETs out of ${traffic.done}`);
      assert.equal(poolChanges(fleet, target).slice(before)[0]?.to, 'down');
    },
  );

  await t.test('a crash-looping app of the pool ends errored, and the balancer keeps serving', async () => {
    const { crash } = await writeFixtures(fleet.pm2.home);
    const [port] = await freePorts(1);
    const maxRestarts = 3;
    // The fleet's server policy with a small max_restarts, but no restart delay: with one, PM2 7.0.4
    // lists an app it gave up on as `waiting restart` instead of `errored` (see ecosystem.config.cjs).
    const { exp_backoff_restart_delay: _delay, ...policy } = fleet.backends[0]?.config ?? {};
    const config = path.join(fleet.pm2.home, 'crashy.config.cjs');
    fs.writeFileSync(
      config,
      `module.exports = { apps: [${JSON.stringify({
        ...policy,
        name: 'crashy',
        script: crash,
        max_restarts: maxRestarts,
        wait_ready: false,
        out_file: path.join(fleet.logDir, 'crashy.out.log'),
        error_file: path.join(fleet.logDir, 'crashy.err.log'),
        env: { LB_POOL: 'web', PORT: String(port) },
      })}] };\n`,
    );
    const traffic = load(`${balancerUrl}/page.html`, 2);
    const started = await fleet.pm2.pm2(['start', config]);
    assert.equal(started.code, 0, started.stderr);
    const errored = await waitFor(
      async () => {
        const app = (await fleet.pm2.jlist()).find((e) => e.name === 'crashy');
        return app?.pm2_env.status === 'errored' && app;
      },
      'crashy to end errored',
      { timeoutMs: 20_000 },
    );
    assert.ok(errored.pm2_env.restart_time <= maxRestarts, `restarts ${errored.pm2_env.restart_time}`);
    const status = await waitFor(async () => {
      const doc = (await json(statusUrl)) as StatusDoc;
      const crashy = doc.upstreams.find((u) => u.name === 'crashy');
      return crashy?.pm2?.status === 'errored' && doc;
    }, 'the balancer to see crashy errored');
    const crashy = status.upstreams.find((u) => u.name === 'crashy');
    assert.equal(crashy?.available, false, 'never in rotation');
    const mark = traffic.done;
    await waitFor(() => traffic.done >= mark + 40, 'traffic with crashy errored');
    await traffic.stop();
    assert.deepEqual(traffic.failures, [], `failed requests out of ${traffic.done}`);
    assert.equal(traffic.servedBy.get('crashy'), undefined);
    const deleted = await fleet.pm2.pm2(['delete', 'crashy']);
    assert.equal(deleted.code, 0, deleted.stderr);
  });
});

void test('PM2 daemon killed under a balancer running outside PM2 (--discovery pm2): it keeps serving', async (t) => {
  t.after(() => agent.destroy());
  const backends = loadFleetApps({}, 0)
    .filter((a) => a.role === 'backend')
    .map((a) => a.name);
  // Quiet backends: once the daemon is gone, the pipes of its apps' stdout are broken, and an app
  // that writes a log line dies of EPIPE. This test is about the balancer, so the backends log
  // only warnings and live on, orphaned, until the test stops them.
  const fleet = await startFleet(t, backends, { LOG_LEVEL: 'warn' });
  const balancer = await startNode(
    'balancer',
    ['--port', '0', '--admin-port', '0', '--discovery', 'pm2', '--reconcile-ms', '300'],
    { env: { ...fleet.pm2.env, LB_POOL: 'web' }, listeners: 2 },
  );
  t.after(() => balancer.stop());
  const url = `http://127.0.0.1:${balancer.port}/page.html`;
  const discovered = await balancer.waitForLine((l) => l.event === 'discovery', 'the discovery line');
  assert.match(discovered.message, /^pm2 discovery \(LB_POOL=web\): a pool of 4: /);
  await balancer.waitForLine((l) => l.event === 'ready' && l.available === 4, 'all four up');

  const orphans = (await fleet.pm2.jlist()).map((e) => e.pid).filter((pid) => pid > 0);
  assert.equal(orphans.length, 4);
  t.after(() => terminate(orphans));
  const daemon = await fleet.pm2.daemonPid();
  assert.ok(daemon !== null);
  process.kill(daemon, 'SIGKILL');
  const warning = await balancer.waitForLine((l) => l.event === 'pm2-unreachable', 'the warning', 10_000);
  assert.equal(warning.level, 'warn');
  assert.match(warning.message, /keeping the last known pool of 4 \(backend-/);

  const traffic = load(url, 2);
  await waitFor(() => traffic.done >= 60, 'traffic without the daemon', { timeoutMs: 20_000 });
  await traffic.stop();
  assert.deepEqual(traffic.failures, []);
  assert.equal(traffic.servedBy.size, 4, 'all four backends still in rotation');
  assert.equal(balancer.lines.filter((l) => l.event === 'pm2-unreachable').length, 1, 'warned once');
  assert.equal(
    balancer.lines.filter((l) => l.event === 'pool-change' && l.to === 'absent').length,
    0,
    'nobody dropped from the pool',
  );
  await balancer.stop();
  await terminate(orphans);
});
