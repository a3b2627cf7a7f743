/**
 * Workers under a memory limit (--worker-max-memory): each worker's resident memory and CPU are in
 * the status and on /metrics; a worker above the limit is replaced the zero-downtime way (a new one
 * first, then it drains) while requests keep being answered; a malformed limit exits 2 naming the
 * option. Real processes and sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackends } from '../helpers/balancer-fleet.js';
import { startCluster, status } from '../helpers/cluster.js';
import { runNode } from '../helpers/processes.js';
import { request } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait.js';
import { getWithDeadline } from '../../src/net/http-get.js';
import { parsePrometheusText, sumSamples } from '../helpers/prometheus-text.js';
import { MIN_WORKER_AGE_MS, overMemoryLimit, parseMemorySize } from '../../src/balancer/worker-limits.js';
import { UsageSampler } from '../../src/metrics/process-usage.js';

const MB = 1024 * 1024;

void test('memory sizes read as PM2 writes them; the verdict waits for a worker to settle', () => {
  assert.equal(parseMemorySize('384M'), 384 * MB);
  assert.equal(parseMemorySize('1G'), 1024 * MB);
  assert.equal(parseMemorySize('20480K'), 20 * MB);
  assert.equal(parseMemorySize('0'), 0);
  for (const bad of ['', 'lots', '384X', '-1M', '1M']) assert.throws(() => parseMemorySize(bad), Error, bad);
  assert.equal(overMemoryLimit(300 * MB, 256 * MB, MIN_WORKER_AGE_MS), true);
  assert.equal(overMemoryLimit(300 * MB, 256 * MB, MIN_WORKER_AGE_MS - 1), false, 'too young');
  assert.equal(overMemoryLimit(300 * MB, 0, MIN_WORKER_AGE_MS), false, 'no limit');
  assert.equal(overMemoryLimit(200 * MB, 256 * MB, MIN_WORKER_AGE_MS), false);
  // CPU: 50 ms of CPU over 100 ms... measured only over at least 200 ms; 100 ms over 400 ms is 25 %.
  let cpu = 0;
  let now = 0;
  const sampler = new UsageSampler(
    () => cpu,
    () => now,
    () => 42,
  );
  cpu = 50_000;
  now = 100;
  assert.deepEqual(sampler.sample(), { rssBytes: 42, cpuPercent: 0 });
  cpu = 100_000;
  now = 400;
  assert.deepEqual(sampler.sample(), { rssBytes: 42, cpuPercent: 25 });
});

void test('a malformed --worker-max-memory exits 2 naming the option', async () => {
  const run = await runNode('balancer', [
    '--port',
    '0',
    '--admin-port',
    '0',
    '--worker-max-memory',
    '300MiB',
  ]);
  assert.equal(run.code, 2);
  assert.match(run.stderr + run.stdout, /--worker-max-memory/);
});

void test('a worker above --worker-max-memory is replaced, new one first, while requests keep being answered', async (t) => {
  const backends = await startBackends(t, 2);
  // 16M is below what any worker needs: each is replaced once it has been up MIN_WORKER_AGE_MS.
  const lb = await startCluster(
    t,
    backends.map((b) => b.port),
    ['--worker-max-memory', '16M'],
  );
  const seen = await waitFor(async () => {
    const s = await status(lb);
    return s.workers.every((w) => (w.rssBytes ?? 0) > 16 * MB && w.cpuPercent !== null) ? s : undefined;
  }, 'every worker to report its memory and CPU');
  assert.equal(seen.workers.length, 2);

  const failures: number[] = [];
  let sent = 0;
  let loading = true;
  const load = (async () => {
    while (loading) {
      const res = await request(lb.port, '/page.html');
      sent++;
      if (res.status !== 200) failures.push(res.status);
    }
  })();
  const over = await lb.proc.waitForLine(
    (l) => l.event === 'worker-over-memory',
    'a worker found above the limit',
    MIN_WORKER_AGE_MS + 10_000,
  );
  const replaced = await lb.proc.waitForLine(
    (l) => l.event === 'worker-memory-replaced' && l.replaced === over.worker,
    'its replacement to take over',
    15_000,
  );
  // The replacement started before the old one was told to drain: it is a newer worker id.
  assert.ok(Number(replaced.worker) > Number(over.worker));
  loading = false;
  await load;
  assert.ok(sent > 0);
  assert.deepEqual(failures, [], 'no request failed during the replacement');

  const outcome = await getWithDeadline({ host: '127.0.0.1', port: lb.adminPort, path: '/metrics' }, 10_000);
  assert.equal(outcome.kind, 'answered');
  if (outcome.kind !== 'answered') return;
  const families = parsePrometheusText(outcome.body.toString('utf8'));
  assert.ok(sumSamples(families, 'balancer_worker_resident_memory_bytes') > 16 * MB);
  assert.ok(families.has('balancer_worker_cpu_ratio'));
});
