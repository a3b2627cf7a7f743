/**
 * The balancer's /metrics on its admin listener, against four real backends: well-formed
 * Prometheus text whose counters rise by exactly the requests the test sent, matched by the
 * backends' own /metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText, sumSamples, type MetricFamily } from '../helpers/prometheus-text.js';
import { runLoad, startBackends, startBalancer } from '../helpers/balancer-fleet.js';
import { waitFor } from '../helpers/wait.js';

type Families = Map<string, MetricFamily>;

async function scrape(port: number): Promise<Families> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

const rise = (before: Families, after: Families, name: string, labels: Record<string, string> = {}) =>
  sumSamples(after, name, labels) - sumSamples(before, name, labels);

void test('the admin /metrics counts exactly the requests sent, by upstream and status', async (t) => {
  const backends = await startBackends(t, 4);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
  );
  const upstreams = (await lb.status()).upstreams.map((u) => u.name);
  const lbBefore = await scrape(lb.adminPort);
  const backendsBefore = await Promise.all(backends.map((b) => scrape(b.port)));

  const found = 40;
  const missing = 8;
  const ok = await runLoad(lb.port, { total: found, concurrency: 4, path: '/page.html' });
  const notFound = await runLoad(lb.port, { total: missing, concurrency: 2, path: '/no-such-page.html' });
  assert.equal(ok.ok, found);
  assert.equal(notFound.failed, missing);
  assert.ok(
    notFound.problems.every((p) => p.startsWith('status 404')),
    notFound.problems.join('; '),
  );
  const lbAfter = await scrape(lb.adminPort);
  const backendsAfter = await Promise.all(backends.map((b) => scrape(b.port)));

  assert.equal(rise(lbBefore, lbAfter, 'balancer_requests_total'), found + missing);
  assert.equal(rise(lbBefore, lbAfter, 'balancer_requests_total', { status: '200' }), found);
  assert.equal(rise(lbBefore, lbAfter, 'balancer_requests_total', { status: '404' }), missing);
  // Round robin: 48 requests over 4 healthy upstreams is 12 each.
  for (const name of upstreams) {
    assert.equal(rise(lbBefore, lbAfter, 'balancer_requests_total', { upstream: name }), 12, name);
  }
  assert.equal(rise(lbBefore, lbAfter, 'balancer_request_duration_seconds_count'), found + missing);
  assert.equal(rise(lbBefore, lbAfter, 'balancer_retries_total'), 0);

  // The same requests, counted by the backends themselves (their health checks are not counted).
  const backendRise = backends.reduce(
    (sum, _, i) =>
      sum + rise(backendsBefore[i] as Families, backendsAfter[i] as Families, 'http_requests_total'),
    0,
  );
  assert.equal(backendRise, found + missing);

  // Gauges and health checks, read from the balancer's status.
  for (const name of upstreams) {
    assert.equal(sumSamples(lbAfter, 'balancer_upstream_healthy', { upstream: name }), 1, name);
    assert.equal(sumSamples(lbAfter, 'balancer_upstream_in_flight', { upstream: name }), 0, name);
    assert.ok(sumSamples(lbAfter, 'balancer_health_checks_total', { upstream: name, result: 'ok' }) > 0);
  }
  assert.equal(lbAfter.get('balancer_requests_total')?.type, 'counter');
  assert.equal(lbAfter.get('balancer_request_duration_seconds')?.type, 'histogram');
  assert.ok(lbAfter.has('process_cpu_user_seconds_total'), 'process metrics are included');
});

void test('an upstream that goes down shows in the health gauge and the failed-check counter', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
  );
  const victim = (await lb.status()).upstreams[1]?.name ?? '';
  await backends[1]?.proc.stop('SIGKILL');
  const after = await waitFor(async () => {
    const f = await scrape(lb.adminPort);
    return sumSamples(f, 'balancer_upstream_healthy', { upstream: victim }) === 0 ? f : undefined;
  }, `${victim} to be reported unhealthy`);
  assert.ok(sumSamples(after, 'balancer_health_checks_total', { upstream: victim, result: 'fail' }) > 0);
  const survivor = (await lb.status()).upstreams[0]?.name ?? '';
  assert.equal(sumSamples(after, 'balancer_upstream_healthy', { upstream: survivor }), 1);
});
