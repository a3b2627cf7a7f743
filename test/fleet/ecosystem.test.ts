import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
  DEFAULT_PORTS,
  ECOSYSTEM_FILE,
  FLEET_NAMESPACE,
  LOGS_DIR,
  PROJECT_ROOT,
} from '../../src/config/common.js';
import { ConfigError } from '../../src/errors.js';
import { loadFleetApps, toFleetApps } from '../../src/fleet/ecosystem.js';
import { buildStartConfig } from '../../src/fleet/config.js';
import { formatStartSummary } from '../../src/fleet/start-summary.js';

// The apps' own defaults (src/http/server-config.ts, src/balancer/config.ts).
const SERVER_GRACE_MS = 1000;
const BALANCER_GRACE_MS = 5000;
const fleet = (env: Record<string, string> = {}, offset = 0) => loadFleetApps(env, offset);

void test('seven named apps: four pool backends, async, threaded and the balancer, all compiled JS from dist/', () => {
  const apps = fleet();
  assert.deepEqual(
    apps.map((a) => [a.name, a.role]),
    [
      ...DEFAULT_PORTS.backends.map((p) => [`backend-${p}`, 'backend']),
      ['async', 'async'],
      ['threaded', 'threaded'],
      ['balancer', 'balancer'],
    ],
  );
  for (const app of apps) {
    assert.equal(path.dirname(app.config.script), path.join(PROJECT_ROOT, 'dist', 'src'), app.name);
    assert.ok(app.config.script.endsWith('.js'), app.name);
  }
  assert.equal(
    apps.find((a) => a.name === 'async')?.config.script,
    path.join(PROJECT_ROOT, 'dist', 'src', 'backend.js'),
  );
});

void test("every app is in the fleet's own PM2 namespace, the one the TypeScript side acts on", () => {
  for (const app of fleet()) {
    assert.equal(app.config.namespace, FLEET_NAMESPACE, app.name);
    assert.equal(app.namespace, FLEET_NAMESPACE, app.name);
  }
});

void test("ports default to the assignment's and PORT_OFFSET shifts every one of them, names unchanged", () => {
  const ports = (offset: number) =>
    Object.fromEntries(fleet({}, offset).map((a) => [a.name, [a.port, a.adminPort]]));
  const base = ports(0);
  assert.deepEqual(base.balancer, [DEFAULT_PORTS.balancer, DEFAULT_PORTS.admin]);
  assert.deepEqual(base.async, [DEFAULT_PORTS.async, null]);
  assert.deepEqual(base.threaded, [DEFAULT_PORTS.threaded, null]);
  for (const p of DEFAULT_PORTS.backends) assert.deepEqual(base[`backend-${p}`], [p, null]);
  const shifted = ports(10_000);
  for (const [name, [port, admin]] of Object.entries(base)) {
    assert.deepEqual(shifted[name], [
      (port as number) + 10_000,
      admin === null ? null : (admin as number) + 10_000,
    ]);
  }
  // The apps get final ports and no offset of their own to apply again.
  for (const app of fleet({}, 10_000)) {
    assert.equal(app.config.env?.PORT, String(app.port));
    assert.equal(app.config.env?.PORT_OFFSET, '0');
  }
});

void test('pool membership is env metadata on the backends only; the balancer finds them through PM2', () => {
  const apps = fleet();
  for (const app of apps) {
    const expected = app.role === 'backend' || app.role === 'balancer' ? 'web' : '';
    assert.equal(app.config.env?.LB_POOL, expected, app.name);
  }
  const balancer = apps.find((a) => a.role === 'balancer');
  assert.equal(balancer?.config.env?.DISCOVERY, 'pm2');
  assert.equal(balancer?.pool, null, 'the balancer serves the pool, it is not in it');
  // A fifth backend is one more port in the list, and it joins the pool with nothing else changed.
  const five = fleet({ BACKEND_PORTS: [...DEFAULT_PORTS.backends, DEFAULT_PORTS.backends[3] + 1].join(',') });
  const backends = five.filter((a) => a.role === 'backend');
  assert.equal(backends.length, 5);
  assert.equal(backends[4]?.config.env?.LB_POOL, 'web');
  assert.equal(backends[4]?.name, `backend-${DEFAULT_PORTS.backends[3] + 1}`);
});

void test('every app has an explicit restart policy: kill_timeout beyond its own grace, wait_ready, limits', () => {
  for (const app of fleet()) {
    const c = app.config;
    assert.equal(c.exec_mode, 'fork', app.name);
    assert.equal(c.autorestart, true, app.name);
    assert.ok((c.max_restarts ?? 0) > 0, `${app.name} max_restarts`);
    assert.ok((c.min_uptime ?? 0) >= 1000, `${app.name} min_uptime`);
    assert.ok((c.exp_backoff_restart_delay ?? 0) > 0, `${app.name} exp_backoff_restart_delay`);
    const grace = Number(c.env?.GRACE_MS);
    assert.equal(grace, app.role === 'balancer' ? BALANCER_GRACE_MS : SERVER_GRACE_MS, app.name);
    assert.ok((c.kill_timeout ?? 0) > grace, `${app.name} kill_timeout beyond its grace`);
    assert.equal(c.wait_ready, true, app.name);
    assert.ok((c.listen_timeout ?? 0) > 0, `${app.name} listen_timeout`);
    assert.match(String(c.max_memory_restart), /^\d+M$/, app.name);
    assert.equal(c.pmx, false, `${app.name}: no PM2 agent wrapping its requests`);
  }
  // Longer grace periods give PM2 a longer wait before SIGKILL.
  for (const app of fleet({ GRACE_MS: '6000', BALANCER_GRACE_MS: '9000' })) {
    const grace = app.role === 'balancer' ? 9000 : 6000;
    assert.equal(app.config.env?.GRACE_MS, String(grace));
    assert.ok((app.config.kill_timeout ?? 0) > grace, app.name);
  }
});

void test('logs go to logs/<app>.out.log and .err.log as absolute paths, without PM2 timestamps', () => {
  const raw = (createRequire(import.meta.url)(ECOSYSTEM_FILE) as { apps: Record<string, unknown>[] }).apps;
  assert.equal(raw.length, 7);
  for (const app of raw) {
    const name = String(app.name);
    assert.equal(app.out_file, path.join(LOGS_DIR, `${name}.out.log`));
    assert.equal(app.error_file, path.join(LOGS_DIR, `${name}.err.log`));
    assert.equal(app.merge_logs, true);
    assert.equal('time' in app, false, `${name}: the logger stamps lines already`);
    assert.equal('log_date_format' in app, false, name);
  }
  const moved = fleet({ FLEET_LOG_DIR: '/tmp/elsewhere' });
  assert.equal(moved[0]?.config.out_file, `/tmp/elsewhere/${moved[0]?.name}.out.log`);
});

void test('LOG_LEVEL and LOG_FORMAT reach every app; health is /healthz, on the admin port for the balancer', () => {
  for (const app of fleet({ LOG_LEVEL: 'warn', LOG_FORMAT: 'json' }, 100)) {
    assert.equal(app.config.env?.LOG_LEVEL, 'warn');
    assert.equal(app.config.env?.LOG_FORMAT, 'json');
    assert.equal(app.config.env?.NAME, app.name);
    assert.equal(app.healthUrl, `http://127.0.0.1:${app.adminPort ?? app.port}/healthz`);
    assert.equal(
      app.statusUrl,
      app.role === 'balancer' ? `http://127.0.0.1:${app.adminPort}/__lb/status` : null,
    );
  }
});

void test('a bad environment is reported with every problem at once', () => {
  assert.throws(
    () => fleet({ BALANCER_PORT: 'x', BACKEND_PORTS: '1,b' }, 30_000),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.problems.join('\n');
      assert.match(text, /BALANCER_PORT="x" is not a whole number/);
      assert.match(text, /BACKEND_PORTS="1,b" is not a comma-separated list of ports/);
      assert.match(text, /threaded port \d+ \+ PORT_OFFSET 30000 = \d+ is not a port/);
      return true;
    },
  );
  assert.throws(() => toFleetApps([{ name: 'x' }]), /needs a name, a script and an env of strings/);
  assert.throws(() => toFleetApps('nope'), /no list of apps/);
});

void test('npm start options: offset, PM2_HOME, timeout, with every problem listed', () => {
  const { config } = buildStartConfig({
    argv: ['--timeout', '30s'],
    env: { PORT_OFFSET: '100', PM2_HOME: '/tmp/h' },
  });
  assert.equal(config.portOffset, 100);
  assert.equal(config.pm2Home, '/tmp/h');
  assert.equal(config.timeoutMs, 30_000);
  assert.equal(config.publicHost, 'localhost');
  assert.throws(
    () => buildStartConfig({ argv: ['--timeout', 'soon'], env: { PORT_OFFSET: 'x' } }),
    (err: unknown) => err instanceof ConfigError && err.problems.length === 2,
  );
  assert.throws(
    () => buildStartConfig({ argv: [], env: { PORT_OFFSET: '19900' } }),
    /moves a fleet port outside 1..65535/,
  );
});

void test('npm start ends with the URLs to open and what to type next', () => {
  const apps = fleet({}, 10_000);
  const text = formatStartSummary({
    apps,
    started: apps.map((a) => a.name),
    publicHost: 'localhost',
    pm2Home: '/home/me/.pm2',
    portOffset: 10_000,
  });
  const balancer = apps.find((a) => a.role === 'balancer');
  assert.ok(balancer?.adminPort);
  assert.match(text, /^Started 7 of 7 apps under PM2; all 7 are online and healthy\.\n/);
  assert.match(text, /PM2_HOME \/home\/me\/\.pm2, PORT_OFFSET=10000/);
  const open = text.slice(text.indexOf('Open:'));
  assert.match(
    open,
    new RegExp(`\\n  http://localhost:${balancer.port}/page\\.html +the page, through the balancer\\n`),
  );
  assert.match(open, new RegExp(`\\n  http://localhost:${balancer.adminPort}/ +dashboard\\n`));
  assert.match(
    open,
    new RegExp(
      `\\n  http://localhost:${balancer.adminPort}/__lb/status +the pool and its health, as JSON\\n`,
    ),
  );
  // The descriptions line up in one column.
  const columns = open
    .split('\n')
    .filter((l) => l.startsWith('  http'))
    .map((l) => /^ {2}\S+ +/.exec(l)?.[0].length);
  assert.equal(new Set(columns).size, 1);
  assert.match(text, /npx pm2 logs balancer/);
  for (const app of apps) assert.ok(text.includes(`  ${app.name}`), app.name);
  const again = formatStartSummary({
    apps,
    started: [],
    publicHost: 'localhost',
    pm2Home: '/h',
    portOffset: 0,
  });
  assert.match(again, /^The fleet was already running \(7 apps healthy\); nothing started\./);
  assert.doesNotMatch(again, /PORT_OFFSET/);
});
