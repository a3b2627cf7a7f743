import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText, sumSamples, type MetricFamily } from '../helpers/prometheus-text.js';
import { startNode } from '../helpers/processes.js';

async function scrape(base: string): Promise<Map<string, MetricFamily>> {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

for (const server of ['backend', 'threaded']) {
  void test(`${server}: /metrics counts exactly the requests it answered, by status`, async (t) => {
    const backend = await startNode(server, [
      '--port',
      '0',
      ...(server === 'threaded' ? ['--threads', '1'] : []),
    ]);
    t.after(() => backend.stop('SIGTERM'));
    const base = `http://127.0.0.1:${backend.port}`;

    const before = await scrape(base);
    const ok = 25;
    const missing = 5;
    for (let i = 0; i < ok; i++) assert.equal((await fetch(`${base}/page.html`)).status, 200);
    for (let i = 0; i < missing; i++) assert.equal((await fetch(`${base}/no-such-file.html`)).status, 404);
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${base}/healthz`)).status, 200); // not counted
    const after = await scrape(base);

    const delta = (name: string, labels: Record<string, string> = {}) =>
      sumSamples(after, name, labels) - sumSamples(before, name, labels);
    assert.equal(delta('http_requests_total', { status: '200' }), ok);
    assert.equal(delta('http_requests_total', { status: '404' }), missing);
    assert.equal(delta('http_requests_total'), ok + missing, 'health checks and scrapes are not counted');
    assert.equal(delta('http_request_duration_seconds_count'), ok + missing);
    assert.ok(delta('http_request_duration_seconds_sum') > 0);
    assert.equal(after.get('http_requests_total')?.type, 'counter');
    assert.equal(after.get('http_request_duration_seconds')?.type, 'histogram');
    assert.ok(after.has('process_resident_memory_bytes'), 'process metrics are included');
  });
}

void test("a backend's /metrics is read-only and names the server like every answer", async (t) => {
  const backend = await startNode('backend', ['--port', '0', '--name', 'metrics-probe']);
  t.after(() => backend.stop('SIGTERM'));
  const base = `http://127.0.0.1:${backend.port}`;
  const get = await fetch(`${base}/metrics`);
  assert.equal(get.headers.get('x-served-by'), 'metrics-probe');
  await get.arrayBuffer();
  const post = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  assert.equal(post.headers.get('x-served-by'), 'metrics-probe');
});
