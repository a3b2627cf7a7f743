import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildBalancerConfig, parseUpstream, resolveDiscovery } from '../../src/balancer/config.js';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_PORTS } from '../../src/config/common.js';

const build = (argv: string[], env: Record<string, string> = {}) => buildBalancerConfig({ argv, env });

void test('defaults: the assignment ports, four backends, checks every second, retries on', () => {
  const c = build([]);
  // Parsing only: nothing listens here, so the assignment's numbers come from the one table of them.
  assert.equal(c.port, DEFAULT_PORTS.balancer);
  assert.equal(c.adminPort, DEFAULT_PORTS.admin);
  assert.equal(c.adminHost, '127.0.0.1');
  assert.deepEqual(
    c.upstreams.map((u) => [u.id, u.name]),
    DEFAULT_PORTS.backends.map((p) => [`127.0.0.1:${p}`, `backend-${p}`]),
  );
  assert.deepEqual(c.health, {
    path: '/healthz',
    intervalMs: 1000,
    timeoutMs: 500,
    fall: 2,
    rise: 2,
    expect: { status: { min: 200, max: 299 }, body: null },
  });
  assert.equal(c.retry.enabled, true);
  assert.equal(c.retry.maxAttempts, 0);
  assert.equal(c.proxyTimeoutMs, 30_000);
  assert.ok(
    c.upstreamIdleTimeoutMs < 5000,
    "the agent's idle timeout is below the backends' keep-alive timeout",
  );
  assert.equal(c.discovery, 'auto');
  assert.equal(c.pool, 'web');
  assert.equal(c.reconcileMs, 2000);
  assert.equal(c.proxyEngine, 'h1', 'docs/decisions.md says why');
});

void test('PORT_OFFSET shifts every default port, upstreams included', () => {
  const c = build([], { PORT_OFFSET: '1000' });
  assert.equal(c.port, 45444);
  assert.equal(c.adminPort, 45445);
  assert.deepEqual(
    c.upstreams.map((u) => u.port),
    [10002, 10003, 10004, 10005],
  );
});

void test('flags win over the environment', () => {
  const c = build(['--port', '0', '--admin-port', '0', '--health-interval', '100ms', '--fall', '3'], {
    PORT: '8080',
    UPSTREAMS: '127.0.0.1:7001',
    LB_POOL: 'api',
    DISCOVERY: 'pm2',
  });
  assert.equal(c.port, 0);
  assert.equal(c.health.intervalMs, 100);
  assert.equal(c.health.fall, 3);
  assert.deepEqual(
    c.upstreams.map((u) => u.id),
    ['127.0.0.1:7001'],
  );
  assert.equal(c.pool, 'api');
  assert.equal(c.discovery, 'pm2');
});

void test('retries turn off with --no-retries, RETRIES=false, or the demo spelling --no-retry', () => {
  assert.equal(build(['--no-retries']).retry.enabled, false);
  assert.equal(build([], { RETRIES: 'false' }).retry.enabled, false);
  assert.equal(build(['--no-retry']).retry.enabled, false);
  assert.equal(build(['--retries']).retry.enabled, true);
});

void test('an upstream may be named and weighted; IPv6 goes in brackets', () => {
  assert.deepEqual(parseUpstream('web1=127.0.0.1:7002*3'), {
    id: '127.0.0.1:7002',
    name: 'web1',
    host: '127.0.0.1',
    port: 7002,
    weight: 3,
  });
  assert.deepEqual(parseUpstream('[::1]:7003'), {
    id: '[::1]:7003',
    name: 'backend-7003',
    host: '::1',
    port: 7003,
    weight: 1,
  });
  for (const bad of ['7002', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:99999', 'a b:1', '127.0.0.1:7002*0']) {
    assert.throws(() => parseUpstream(bad), Error, bad);
  }
});

void test('every problem is reported at once', () => {
  let err: unknown;
  try {
    build(['--port', '7000', '--admin-port', '7000', '--headers-timeout', '2m', '--request-timeout', '1m'], {
      UPSTREAMS: '127.0.0.1:7001,127.0.0.1:7001',
    });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError);
  assert.equal(err.problems.length, 3, err.message);
  assert.match(err.message, /admin listener needs its own port/);
  assert.match(err.message, /--headers-timeout/);
  assert.match(err.message, /listed twice/);
});

void test('bad values are refused with the option named', () => {
  assert.throws(
    () => build(['--discovery', 'dns']),
    /--discovery: "dns" is not one of static, pm2, etcd, auto/,
  );
  assert.throws(() => build(['--upstreams', 'nope']), /--upstreams/);
  assert.throws(() => build(['--proxy-engine', 'express']), /--proxy-engine/);
});

void test('--upstream-header-timeout is the proxy timeout unless given, and never longer than it', () => {
  assert.equal(build([]).upstreamHeaderTimeoutMs, 30_000);
  assert.equal(build(['--proxy-timeout', '2s']).upstreamHeaderTimeoutMs, 2000);
  assert.equal(build([], { PROXY_TIMEOUT: '5s' }).upstreamHeaderTimeoutMs, 5000);
  const c = build(['--proxy-timeout', '10s', '--upstream-header-timeout', '3s']);
  assert.equal(c.upstreamHeaderTimeoutMs, 3000);
  assert.equal(build([], { UPSTREAM_HEADER_TIMEOUT: '500ms' }).upstreamHeaderTimeoutMs, 500);
  assert.throws(
    () => build(['--proxy-timeout', '2s', '--upstream-header-timeout', '5s']),
    /--upstream-header-timeout \(5000ms\) must not be longer than --proxy-timeout \(2000ms\).*raise --proxy-timeout/,
  );
  assert.throws(() => build(['--upstream-header-timeout', 'soon']), /--upstream-header-timeout/);
});

void test('etcd discovery takes a list of http endpoints and a non-empty prefix, and refuses anything else', () => {
  const config = build([
    '--discovery',
    'etcd',
    '--etcd-endpoints',
    '10.1.0.1:23790, http://10.1.0.2:23790,http://[::1]:23790',
    '--etcd-prefix',
    '/fleet/',
  ]);
  assert.equal(config.discovery, 'etcd');
  assert.deepEqual(config.etcd.endpoints, [
    'http://10.1.0.1:23790',
    'http://10.1.0.2:23790',
    'http://[::1]:23790',
  ]);
  assert.equal(config.etcd.prefix, '/fleet');
  assert.throws(() => build(['--etcd-endpoints', ',,']), /--etcd-endpoints: the endpoint list is empty/);
  assert.throws(
    () => build(['--etcd-endpoints', 'http://a:1,nope']),
    /--etcd-endpoints: "nope" is not an etcd endpoint/,
  );
  assert.throws(() => build(['--etcd-endpoints', 'https://a:1']), /only http:\/\/ endpoints/);
  assert.throws(() => build(['--etcd-endpoints', 'a:1,http://a:1']), /listed twice/);
  assert.throws(() => build(['--etcd-endpoints', 'a:70000']), /no usable port/);
  assert.throws(() => build(['--etcd-prefix', '/']), /--etcd-prefix: the prefix is empty/);
  assert.throws(() => build(['--etcd-prefix', 'fleet']), /--etcd-prefix: "fleet" does not start with \//);
});

void test('auto discovery means PM2 under PM2 and the static list otherwise', () => {
  assert.equal(resolveDiscovery('auto', true), 'pm2');
  assert.equal(resolveDiscovery('auto', false), 'static');
  assert.equal(resolveDiscovery('static', true), 'static');
  assert.equal(resolveDiscovery('pm2', false), 'pm2');
});
