import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { buildBenchConfig, parseTargetUrl } from '../../bench/lib/bench-config.js';
import { RESULTS_DIR } from '../../src/config/common.js';
import { ConfigError } from '../../src/errors.js';

const NOW = new Date('2026-01-02T03:04:05.678Z');
const build = (argv: string[], env: Record<string, string> = {}) =>
  buildBenchConfig({ argv, env }, NOW).config;

function problems(argv: string[], env: Record<string, string> = {}): string[] {
  try {
    buildBenchConfig({ argv, env }, NOW);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  assert.fail('expected a ConfigError');
}

void test("the defaults are the assignment's: page, 1000 requests, six concurrency levels, three targets", () => {
  const c = build([]);
  assert.deepEqual(c.scenarios, ['page']);
  assert.equal(c.path, null);
  assert.equal(c.requests, 1000);
  assert.deepEqual(c.concurrency, [1, 5, 10, 15, 50, 100]);
  assert.deepEqual(
    c.targets.map((t) => [t.name, t.explicit]),
    [
      ['async', false],
      ['threaded', false],
      ['balancer', false],
    ],
  );
  assert.match(c.targets[0]?.url ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(c.explicitTargetsOnly, false);
  assert.equal(c.repeat, 3);
  assert.equal(c.keepalive, true);
  assert.equal(c.clients, 1);
  assert.equal(c.clientMode, 'auto');
  assert.equal(c.withAb, false);
  assert.equal(c.fleetLogLevel, 'warn', 'apps this run starts log no per-request lines');
  assert.equal(c.outDir, path.join(RESULTS_DIR, '2026-01-02T03-04-05Z'));
});

void test('PORT_OFFSET moves every target port by the same amount', () => {
  const base = build([]);
  const moved = build([], { PORT_OFFSET: '10000' });
  for (const [i, t] of moved.targets.entries()) {
    const before = Number(new URL(base.targets[i]?.url ?? '').port);
    assert.equal(Number(new URL(t.url).port), before + 10000);
  }
});

void test('--scenario all runs the four scenarios; --path replaces them', () => {
  assert.deepEqual(build(['--scenario', 'all']).scenarios, ['page', 'image', 'large', 'cpu']);
  const custom = build(['--path', '/nope.html', '--scenario', 'all']);
  assert.deepEqual(custom.scenarios, []);
  assert.equal(custom.path, '/nope.html');
});

void test('explicit target URLs skip the fleet only when every target has one', () => {
  const c = build([
    '--targets',
    'a,b',
    '--target-url',
    'a=http://127.0.0.1:1234',
    '--target-url',
    'b=http://127.0.0.1:1235/',
  ]);
  assert.deepEqual(
    c.targets.map((t) => [t.name, t.url, t.explicit]),
    [
      ['a', 'http://127.0.0.1:1234', true],
      ['b', 'http://127.0.0.1:1235', true],
    ],
  );
  assert.equal(c.explicitTargetsOnly, true);
  const mixed = build(['--target-url', 'async=http://127.0.0.1:1234']);
  assert.equal(mixed.explicitTargetsOnly, false);
  assert.equal(mixed.targets[0]?.url, 'http://127.0.0.1:1234');
});

void test('every problem is reported at once', () => {
  const found = problems([
    '--targets',
    'async,mystery,async',
    '--target-url',
    'other=http://127.0.0.1:1',
    '--concurrency',
    '5,5,2000',
    '--requests',
    '1000',
    '--client-mode',
    'tcp',
    '--no-keepalive',
  ]);
  for (const pattern of [
    /other is not in --targets/,
    /async is listed twice/,
    /mystery is not one of async, threaded, balancer/,
    /a level is listed twice/,
    /--concurrency 2000 is more than --requests 1000/,
    /tcp always keeps connections alive/,
  ]) {
    assert.ok(
      found.some((p) => pattern.test(p)),
      `${pattern} in ${JSON.stringify(found)}`,
    );
  }
  assert.ok(problems(['--client-mode', 'default']).some((p) => /add --no-keepalive/.test(p)));
  assert.ok(
    problems(['--scenario', 'video']).some((p) => /is not one of page, image, large, cpu, all/.test(p)),
  );
  assert.ok(problems(['--with', 'siege']).length > 0);
});

void test('target URLs must be plain http base URLs', () => {
  assert.deepEqual(parseTargetUrl('a=http://127.0.0.1:80'), { name: 'a', url: 'http://127.0.0.1' });
  assert.throws(() => parseTargetUrl('http://127.0.0.1:80'), /NAME=URL/);
  assert.throws(() => parseTargetUrl('a=https://127.0.0.1:443'), /only http/);
  assert.throws(() => parseTargetUrl('a=http://127.0.0.1:80/page.html'), /base URL only/);
  assert.throws(() => parseTargetUrl('A B=http://x'), /not a target name/);
});

void test('environment variables set options, and flags win over them', () => {
  const c = build(['--requests', '50'], {
    BENCH_REQUESTS: '70',
    BENCH_REPEAT: '1',
    BENCH_WITH: 'ab',
    BENCH_CONCURRENCY: '1,2',
  });
  assert.equal(c.requests, 50);
  assert.equal(c.repeat, 1);
  assert.equal(c.withAb, true);
  assert.deepEqual(c.concurrency, [1, 2]);
});

void test("the fleet's ports from the ecosystem file win over the defaults for targets without a URL", () => {
  const c = buildBenchConfig({ argv: [], env: {} }, NOW).config;
  const moved = buildBenchConfig({ argv: [], env: {} }, NOW, { async: 1234 }).config;
  assert.equal(moved.targets[0]?.url, 'http://127.0.0.1:1234');
  assert.equal(moved.targets[1]?.url, c.targets[1]?.url);
});
