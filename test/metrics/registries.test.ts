import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendMetrics } from '../../src/metrics/backend-metrics.js';
import { BucketHistogram } from '../../src/metrics/bucket-histogram.js';
import { BalancerMetrics, type UpstreamGaugeSource } from '../../src/metrics/balancer-metrics.js';
import { parsePrometheusText, sumSamples } from '../helpers/prometheus-text.js';

async function scrape(metrics: { render(): Promise<string> }) {
  return parsePrometheusText(await metrics.render());
}

void test('the balancer counts requests by upstream and status, with latency and retries', async () => {
  const metrics = new BalancerMetrics({ upstreams: () => [], processMetrics: false });
  metrics.requestFinished('backend-a', 200, 1.5, 0);
  metrics.requestFinished('backend-a', 200, 2, 1);
  metrics.requestFinished('backend-b', 404, 0.7, 0);
  metrics.requestFinished(null, 503, 0.1, 2);
  const f = await scrape(metrics);
  assert.equal(sumSamples(f, 'balancer_requests_total', { upstream: 'backend-a', status: '200' }), 2);
  assert.equal(sumSamples(f, 'balancer_requests_total', { upstream: 'backend-b', status: '404' }), 1);
  assert.equal(sumSamples(f, 'balancer_requests_total', { upstream: 'none', status: '503' }), 1);
  assert.equal(sumSamples(f, 'balancer_request_duration_seconds_count', { upstream: 'backend-a' }), 2);
  assert.equal(sumSamples(f, 'balancer_request_duration_seconds_sum', { upstream: 'backend-a' }), 0.0035);
  assert.equal(
    sumSamples(f, 'balancer_request_duration_seconds_bucket', { upstream: 'backend-a', le: '0.001' }),
    0,
  );
  assert.equal(
    sumSamples(f, 'balancer_request_duration_seconds_bucket', { upstream: 'backend-a', le: '0.0025' }),
    2,
  );
  assert.equal(sumSamples(f, 'balancer_retries_total'), 3);
});

void test('health checks are counted by upstream and result', async () => {
  const metrics = new BalancerMetrics({ upstreams: () => [], processMetrics: false });
  metrics.healthChecked('backend-a', true);
  metrics.healthChecked('backend-a', true);
  metrics.healthChecked('backend-a', false);
  const f = await scrape(metrics);
  assert.equal(sumSamples(f, 'balancer_health_checks_total', { upstream: 'backend-a', result: 'ok' }), 2);
  assert.equal(sumSamples(f, 'balancer_health_checks_total', { upstream: 'backend-a', result: 'fail' }), 1);
});

void test('upstream gauges are read from the status at scrape time and forget departed upstreams', async () => {
  let pool: UpstreamGaugeSource[] = [
    {
      name: 'backend-a',
      healthy: true,
      available: false,
      admin: 'drain',
      weight: 3,
      inFlight: 3,
      pm2Restarts: 2,
      tunnels: 2,
      tunnelBytesToUpstream: 10,
      tunnelBytesFromUpstream: 30,
    },
    {
      name: 'backend-b',
      healthy: false,
      available: false,
      admin: 'ready',
      weight: 1,
      inFlight: 0,
      pm2Restarts: null,
      tunnels: 0,
      tunnelBytesToUpstream: 0,
      tunnelBytesFromUpstream: 0,
    },
  ];
  const metrics = new BalancerMetrics({
    upstreams: () => pool,
    processMetrics: false,
    policy: () => 'least-request',
  });
  let f = await scrape(metrics);
  assert.equal(sumSamples(f, 'balancer_upstream_available', { upstream: 'backend-a' }), 0, 'drained');
  assert.equal(sumSamples(f, 'balancer_upstream_weight', { upstream: 'backend-a' }), 3);
  assert.equal(sumSamples(f, 'balancer_upstream_admin_state', { upstream: 'backend-a', state: 'drain' }), 1);
  assert.equal(sumSamples(f, 'balancer_upstream_admin_state', { upstream: 'backend-a', state: 'ready' }), 0);
  assert.equal(sumSamples(f, 'balancer_policy_info', { policy: 'least-request' }), 1);
  assert.equal(sumSamples(f, 'balancer_upstream_healthy', { upstream: 'backend-a' }), 1);
  assert.equal(sumSamples(f, 'balancer_upstream_healthy', { upstream: 'backend-b' }), 0);
  assert.equal(sumSamples(f, 'balancer_upstream_in_flight', { upstream: 'backend-a' }), 3);
  assert.equal(sumSamples(f, 'balancer_upstream_pm2_restarts', { upstream: 'backend-a' }), 2);
  assert.equal(f.get('balancer_upstream_pm2_restarts')?.samples.length, 1);
  assert.equal(sumSamples(f, 'balancer_upstream_tunnels_open', { upstream: 'backend-a' }), 2);
  assert.equal(
    sumSamples(f, 'balancer_tunnel_bytes_total', { upstream: 'backend-a', direction: 'to_upstream' }),
    10,
  );
  assert.equal(
    sumSamples(f, 'balancer_tunnel_bytes_total', { upstream: 'backend-a', direction: 'from_upstream' }),
    30,
  );

  pool = [
    {
      name: 'backend-b',
      healthy: true,
      available: true,
      admin: 'ready',
      weight: 1,
      inFlight: 1,
      pm2Restarts: null,
      tunnels: 0,
      tunnelBytesToUpstream: 0,
      tunnelBytesFromUpstream: 0,
    },
  ];
  f = await scrape(metrics);
  assert.deepEqual(
    f.get('balancer_upstream_healthy')?.samples.map((s) => [s.labels.upstream, s.value]),
    [['backend-b', 1]],
  );
});

void test('process metrics are included unless turned off, in a registry of their own', async () => {
  const withProcess = await scrape(new BalancerMetrics({ upstreams: () => [] }));
  assert.ok(withProcess.has('process_cpu_user_seconds_total'));
  const without = await scrape(new BalancerMetrics({ upstreams: () => [], processMetrics: false }));
  assert.ok(!without.has('process_cpu_user_seconds_total'));
});

void test('a backend counts requests by status and their latency', async () => {
  const metrics = new BackendMetrics({ processMetrics: false });
  for (let i = 0; i < 5; i++) metrics.observe(200, 0.3);
  metrics.observe(404, 0.2);
  const f = await scrape(metrics);
  assert.equal(sumSamples(f, 'http_requests_total', { status: '200' }), 5);
  assert.equal(sumSamples(f, 'http_requests_total', { status: '404' }), 1);
  assert.equal(sumSamples(f, 'http_request_duration_seconds_count'), 6);
  assert.equal(sumSamples(f, 'http_request_duration_seconds_bucket', { le: '0.00025' }), 1);
  assert.equal(sumSamples(f, 'http_request_duration_seconds_bucket', { le: '0.0005' }), 6);
  assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
});

void test('a latency equal to a bucket bound counts in that bucket, as `le` means', async () => {
  const metrics = new BackendMetrics({ processMetrics: false });
  metrics.observe(200, 1); // exactly 0.001 s
  const f = await scrape(metrics);
  assert.equal(sumSamples(f, 'http_request_duration_seconds_bucket', { le: '0.0005' }), 0);
  assert.equal(sumSamples(f, 'http_request_duration_seconds_bucket', { le: '0.001' }), 1);
  assert.equal(sumSamples(f, 'http_request_duration_seconds_bucket', { le: '+Inf' }), 1);
});

void test('counts recorded between scrapes are added once: scraping again changes nothing', async () => {
  const metrics = new BalancerMetrics({ upstreams: () => [], processMetrics: false });
  for (let i = 0; i < 7; i++) metrics.requestFinished('backend-a', 200, 1, 1);
  const first = await scrape(metrics);
  const second = await scrape(metrics);
  for (const f of [first, second]) {
    assert.equal(sumSamples(f, 'balancer_requests_total'), 7);
    assert.equal(sumSamples(f, 'balancer_retries_total'), 7);
    assert.equal(sumSamples(f, 'balancer_request_duration_seconds_count'), 7);
  }
  metrics.requestFinished('backend-a', 200, 1, 0);
  assert.equal(sumSamples(await scrape(metrics), 'balancer_requests_total'), 8);
});

void test('a histogram needs ascending bounds', () => {
  assert.throws(
    () => new BucketHistogram({ name: 'x', help: 'x', buckets: [1, 1], registers: [] }),
    RangeError,
  );
  assert.throws(() => new BucketHistogram({ name: 'x', help: 'x', buckets: [], registers: [] }), RangeError);
});
