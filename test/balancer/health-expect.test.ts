/**
 * Health checks that expect: a status or range (--health-expect-status) and a body substring
 * (--health-expect-body) decide what healthy means, on real upstreams; malformed values stop the
 * balancer at start with exit 2 naming the option.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBalancer, startHttpServer, waitForState } from '../helpers/balancer-fleet.js';
import { runNode } from '../helpers/processes.js';
import { expectationProblem, parseStatusRange } from '../../src/balancer/health-expect.js';

void test('status expectations parse as a code, a range or a class; the verdict names what was wrong', () => {
  assert.deepEqual(parseStatusRange('204'), { min: 204, max: 204 });
  assert.deepEqual(parseStatusRange('200-399'), { min: 200, max: 399 });
  assert.deepEqual(parseStatusRange('3xx'), { min: 300, max: 399 });
  for (const bad of ['', 'ok', '20', '200-', '399-200', '600', '099', '2xx-3xx']) {
    assert.throws(() => parseStatusRange(bad), Error, bad);
  }
  const expect = { status: { min: 200, max: 399 }, body: 'ok' };
  assert.equal(expectationProblem(expect, 301, Buffer.from('{"status":"ok"}')), undefined);
  assert.equal(expectationProblem(expect, 404, Buffer.from('ok')), 'status 404, expected 200-399');
  assert.match(expectationProblem(expect, 200, Buffer.from('degraded')) ?? '', /lacks "ok"/);
  assert.equal(
    expectationProblem({ status: { min: 200, max: 299 }, body: null }, 204, Buffer.alloc(0)),
    undefined,
  );
});

void test('malformed --health-expect-status and --health-expect-body exit 2 naming the option', async () => {
  const base = ['--port', '0', '--admin-port', '0', '--discovery', 'static'];
  for (const [flag, value] of [
    ['--health-expect-status', '2000'],
    ['--health-expect-status', '300-200'],
    ['--health-expect-body', ''],
  ] as const) {
    const run = await runNode('balancer', [...base, flag, value]);
    assert.equal(run.code, 2, `${flag} ${value}`);
    assert.match(run.stderr + run.stdout, new RegExp(flag), `${flag} ${value}`);
  }
});

void test('an upstream whose check answer lacks the expected body or status is taken out', async (t) => {
  const good = await startHttpServer(t, (_req, res) => res.end('{"status":"ok"}'));
  const degraded = await startHttpServer(t, (_req, res) => res.end('{"status":"degraded"}'));
  const redirect = await startHttpServer(t, (_req, res) => {
    res.writeHead(302, { Location: '/elsewhere' });
    res.end('"ok"');
  });
  const ports = [good.port, degraded.port, redirect.port];
  const lb = await startBalancer(t, ports, ['--health-expect-body', '"ok"']);
  await waitForState(lb, `backend-${good.port}`, 'up');
  const down = await waitForState(lb, `backend-${degraded.port}`, 'down');
  assert.match(down.lastCheck?.error ?? '', /lacks/);
  // 302 is not 2xx, the default range.
  await waitForState(lb, `backend-${redirect.port}`, 'down');

  // With the range widened, the redirecting one is healthy.
  const wide = await startBalancer(t, ports, [
    '--health-expect-status',
    '200-399',
    '--health-expect-body',
    'ok',
  ]);
  await waitForState(wide, `backend-${redirect.port}`, 'up');
  await waitForState(wide, `backend-${good.port}`, 'up');
});
