/**
 * /metrics of a cluster (--workers 2) is as fresh as /__lb/status: the primary asks its workers for
 * their counts and finished requests before it answers, so a scrape right after a burst counts the
 * whole burst (the workers' batches go every 200 ms otherwise). Real processes and sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackends } from '../helpers/balancer-fleet.js';
import { startCluster } from '../helpers/cluster.js';
import { request } from '../helpers/raw-http.js';
import { getWithDeadline } from '../../src/net/http-get.js';
import { parsePrometheusText, sumSamples } from '../helpers/prometheus-text.js';

async function scrape(port: number): Promise<ReturnType<typeof parsePrometheusText>> {
  const outcome = await getWithDeadline({ host: '127.0.0.1', port, path: '/metrics' }, 10_000);
  if (outcome.kind !== 'answered') throw new Error('no answer from /metrics');
  return parsePrometheusText(outcome.body.toString('utf8'));
}

void test('a scrape right after a burst counts every request the workers finished', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await startCluster(
    t,
    backends.map((b) => b.port),
  );
  const before = sumSamples(await scrape(lb.adminPort), 'balancer_requests_total');
  for (let round = 1; round <= 3; round++) {
    await Promise.all(Array.from({ length: 20 }, () => request(lb.port, '/page.html')));
    const families = await scrape(lb.adminPort);
    assert.equal(
      sumSamples(families, 'balancer_requests_total') - before,
      20 * round,
      `after burst ${round}`,
    );
    assert.equal(families.get('balancer_client_connections_dropped_total')?.type, 'counter');
    assert.ok(families.has('nodejs_event_loop_delay_max_seconds'));
  }
});
