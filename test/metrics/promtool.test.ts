/**
 * Every /metrics of the fleet passes Prometheus' own linter: `promtool check metrics` over the
 * real scrapes of a backend, a threaded server and a balancer's admin listener, after some
 * traffic. Each also carries the build-info gauge and its known label sets at 0. promtool comes
 * with the Debian package `prometheus`; without it the test fails and says so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runCommand } from '../../src/hosts/command.js';
import { parsePrometheusText, sumSamples } from '../helpers/prometheus-text.js';
import { runLoad, startBackend, startBalancer } from '../helpers/balancer-fleet.js';
import { ROOT, startNode } from '../helpers/processes.js';

const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

function requirePromtool(): void {
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  assert.ok(
    probe.error === undefined && probe.status === 0,
    'promtool is not installed: it comes with the Debian package "prometheus" ' +
      '(apt-get install --no-install-recommends prometheus; .ci/run installs it)',
  );
}

/** `promtool check metrics` on a text: its exit code and what it said. */
async function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  const run = await runCommand('promtool', ['check', 'metrics'], { input: text });
  return { code: run.code, output: run.stdout + run.stderr };
}

async function scrapeText(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

async function assertLintClean(what: string, text: string): Promise<void> {
  const checked = await promtoolCheck(text);
  assert.equal(checked.output.trim(), '', `${what}: promtool says:\n${checked.output}`);
  assert.equal(checked.code, 0, `${what}: promtool exit code`);
  const families = parsePrometheusText(text);
  assert.equal(
    sumSamples(families, 'supervised_balancer_build_info', {
      version: VERSION,
      nodejs: process.versions.node,
    }),
    1,
    `${what}: build info names version ${VERSION} and Node.js ${process.versions.node}`,
  );
}

void test('the /metrics of a backend, a threaded server and the balancer pass promtool check metrics', async (t) => {
  requirePromtool();
  const backend = await startBackend(t, 'lint-backend');
  const threaded = await startNode('threaded', ['--port', '0', '--threads', '1']);
  t.after(() => threaded.stop('SIGKILL'));
  const lb = await startBalancer(t, [backend.port]);

  // Some traffic first, so the counters and histograms have samples beyond their zeros.
  assert.equal((await runLoad(lb.port, { total: 10, concurrency: 2, path: '/page.html' })).ok, 10);
  assert.equal((await fetch(`http://127.0.0.1:${threaded.port}/page.html`)).status, 200);
  assert.equal((await fetch(`http://127.0.0.1:${threaded.port}/no-such-file.html`)).status, 404);

  const backendText = await scrapeText(backend.port);
  await assertLintClean('backend', backendText);
  // A status the server has not answered yet is already there, at 0.
  assert.equal(sumSamples(parsePrometheusText(backendText), 'http_requests_total', { status: '500' }), 0);
  assert.match(backendText, /^http_requests_total\{status="500"\} 0$/m);

  await assertLintClean('threaded', await scrapeText(threaded.port));

  const lbText = await scrapeText(lb.adminPort);
  await assertLintClean('balancer admin', lbText);
  const upstream = (await lb.status()).upstreams[0]?.name ?? '';
  assert.match(
    lbText,
    new RegExp(`^balancer_health_checks_total\\{upstream="${upstream}",result="fail"\\} 0$`, 'm'),
  );
  assert.match(lbText, /^balancer_requests_total\{upstream="none",status="503"\} 0$/m);
});
