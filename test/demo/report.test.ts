import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeDemoReport } from '../../src/demo/report-files.js';
import { buildSummary } from '../../src/demo/summary.js';
import { TimelineRecorder } from '../../src/demo/timeline.js';
import type { PoolSample } from '../../src/demo/types.js';

const pool = (atMs: number, inRotation: string[]): PoolSample => ({
  atMs,
  upstreams: ['b1', 'b2'].map((name) => ({
    name,
    inRotation: inRotation.includes(name),
    state: 'x',
    pm2Status: null,
    served: 0,
  })),
});

function demoRun() {
  const rec = new TimelineRecorder();
  for (let i = 0; i < 20; i++) {
    rec.addSent();
    rec.addOutcome({
      atMs: i * 100,
      ok: true,
      latencyMs: i % 5,
      servedBy: i < 12 ? `b${(i % 2) + 1}` : 'b1',
      error: null,
    });
  }
  rec.addSample(pool(0, ['b1', 'b2']));
  rec.addSample(pool(1200, ['b1']));
  rec.addSample(pool(1800, ['b1', 'b2']));
  const action = {
    atMs: 1100,
    action: 'kill' as const,
    app: 'b2',
    startedAtMs: 1102,
    finishedAtMs: 1104,
    ok: true,
    detail: 'pid 4242 killed with SIGKILL',
    pidBefore: 4242,
  };
  rec.addAction(action);
  rec.addPm2Event({ atMs: 1500, app: 'b2', event: 'online' });
  const summary = buildSummary({
    startedAt: new Date('2025-01-01T00:00:00Z'),
    settings: {
      url: 'http://127.0.0.1:1/page.html',
      durationMs: 2000,
      rate: 10,
      concurrency: 2,
      retries: false,
      schedule: [{ atMs: 1100, action: 'kill', app: 'b2' }],
      statusIntervalMs: 100,
      portOffset: 0,
    },
    planned: 20,
    totals: rec.totals(),
    actions: rec.actionRecords(),
    samples: rec.poolSamples(),
    pm2Events: rec.pm2Events(),
    appsBefore: [
      { name: 'b1', restarts: 0, pid: 10 },
      { name: 'b2', restarts: 3, pid: 4242 },
    ],
    appsAfter: [
      { name: 'b1', restarts: 0, pid: 10 },
      { name: 'b2', restarts: 4, pid: 4243 },
    ],
  });
  return { summary, timeline: rec.rows(2), poolSamples: rec.poolSamples(), pm2Events: rec.pm2Events() };
}

void test('the report is written as timeline JSON, Markdown and an SVG chart', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'demo-report-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const report = demoRun();
  const paths = await writeDemoReport(path.join(dir, 'nested'), report);

  const json = JSON.parse(await readFile(paths.json, 'utf8')) as typeof report;
  assert.equal(json.summary.passed, true);
  assert.equal(json.summary.requests.sent, 20);
  assert.equal(json.timeline.length, 2);
  assert.equal(json.poolSamples.length, 3);

  const md = await readFile(paths.markdown, 'utf8');
  assert.match(md, /^# Operations demo: PASS/);
  assert.match(md, /retries OFF \(--no-retry\)/);
  assert.match(md, /!\[[^\]]*\]\(chart\.svg\)/);
  assert.match(md, /\| b2 +\| +600 ms \| \+1\.20s \.\. \+1\.80s \|/);
  assert.match(md, /\| b2 +\| +3 \| +4 \| +4242 \| +4243 \|/);
  assert.match(md, /\| b2 +\| \+1\.50s +\| \+1\.80s +\| +300 ms \|/);
  assert.match(md, /pid 4242 killed with SIGKILL/);

  const svg = await readFile(paths.svg, 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal(svg.match(/<svg /g)?.length, 4, 'an outer svg holding three charts');
  assert.match(svg, /kill b2/);
  assert.match(svg, /retries off/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});
