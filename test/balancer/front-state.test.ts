/**
 * A front balancer behind a virtual IP, as real processes: keepalived's state file rewritten the
 * way its notify hook does (`<file>.tmp` renamed over `<file>`), two fronts meeting in a real etcd,
 * and a split brain begun and ended by their state files. The status, /metrics and the log follow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FrontStatus } from '../../src/balancer/front/front-status.js';
import { runCommand } from '../../src/hosts/command.js';
import { getJson, startBalancer, startHttpServer, type Balancer } from '../helpers/balancer-fleet.js';
import { frontOf, startFront, stateDir, TEST_VIP, writeState } from '../helpers/fronts.js';
import { startLocalEtcd } from '../helpers/local-etcd.js';
import { parsePrometheusText, sumSamples, type MetricFamily } from '../helpers/prometheus-text.js';
import type { LogLine } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const VIP = TEST_VIP;

/** Wait until the front's status passes `check`; how long it took, in ms. */
async function frontUntil(lb: Balancer, what: string, check: (f: FrontStatus) => boolean): Promise<number> {
  const start = performance.now();
  await waitFor(async () => check(await frontOf(lb)), what, { timeoutMs: 10_000, intervalMs: 20 });
  return performance.now() - start;
}

async function scrape(lb: Balancer): Promise<{ text: string; families: Map<string, MetricFamily> }> {
  const res = await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, families: parsePrometheusText(text) };
}

function vrrpStates(families: Map<string, MetricFamily>): Record<string, number> {
  const family = families.get('balancer_vrrp_state');
  return Object.fromEntries((family?.samples ?? []).map((s) => [s.labels.state ?? '?', s.value]));
}

const oneHot = (state: string): Record<string, number> =>
  Object.fromEntries(['MASTER', 'BACKUP', 'FAULT', 'STOP', 'unknown'].map((s) => [s, s === state ? 1 : 0]));

const linesOf = (lb: Balancer, event: string): LogLine[] => lb.proc.lines.filter((l) => l.event === event);

void test('a cluster primary follows the state file as the notify hook writes it: BACKUP, MASTER, garbage, missing; status, metrics and one line per change', async (t) => {
  const file = path.join(stateDir(t), 'vrrp-state');
  writeState(file, 'BACKUP 100 1765000000000\n');
  const up = await startHttpServer(t, (_req, res) => res.end('ok'));
  const lb = await startBalancer(
    t,
    [up.port],
    ['--vrrp-state-file', file, '--front-name', 'f1', '--vip', VIP, '--workers', '2'],
  );

  const first = await frontOf(lb);
  assert.deepEqual(
    [first.name, first.vip, first.vrrp, first.priority, first.since, first.splitBrain, first.peers],
    ['f1', VIP, 'BACKUP', 100, 1765000000000, false, []],
  );
  assert.equal(first.peersFromEtcd, false, 'static discovery: no etcd to meet peers in');
  let metrics = await scrape(lb);
  assert.deepEqual(vrrpStates(metrics.families), oneHot('BACKUP'));
  assert.equal(sumSamples(metrics.families, 'balancer_vrrp_priority'), 100);
  assert.equal(sumSamples(metrics.families, 'balancer_vrrp_split_brain'), 0);

  writeState(file, `MASTER 150 ${Date.now()}\n`);
  const tookMs = await frontUntil(
    lb,
    'MASTER on the status',
    (f) => f.vrrp === 'MASTER' && f.priority === 150,
  );
  t.diagnostic(`MASTER on the primary's status ${tookMs.toFixed(0)} ms after the rename`);
  metrics = await scrape(lb);
  assert.deepEqual(vrrpStates(metrics.families), oneHot('MASTER'));
  assert.equal(sumSamples(metrics.families, 'balancer_vrrp_priority'), 150);

  writeState(file, 'MASTER high 1765000000000\n');
  await frontUntil(lb, 'unknown after garbage', (f) => f.vrrp === 'unknown');
  const garbled = await frontOf(lb);
  assert.equal(garbled.priority, null);
  assert.match(garbled.stateProblem ?? '', /priority "high" is not a whole number from 0 to 255/);
  metrics = await scrape(lb);
  assert.deepEqual(vrrpStates(metrics.families), oneHot('unknown'));
  assert.equal(
    metrics.families.get('balancer_vrrp_priority')?.samples.length,
    0,
    'no priority while unknown',
  );

  fs.rmSync(file);
  await frontUntil(lb, 'a missing file', (f) => /does not exist/.test(f.stateProblem ?? ''));
  assert.equal((await frontOf(lb)).vrrp, 'unknown');

  // Still there after a few more polls: a state that does not change is not logged again.
  await new Promise((r) => setTimeout(r, 600));
  const lines = linesOf(lb, 'vrrp-state');
  assert.deepEqual(
    lines.map((l) => [l.level, l.message]),
    [
      ['info', 'vrrp: f1 is BACKUP (priority 100)'],
      ['info', 'vrrp: f1 is MASTER (priority 150), was BACKUP'],
      [
        'warn',
        `vrrp: f1 is unknown (${file}: "MASTER high 1765000000000": priority "high" is not a whole number from 0 to 255), was MASTER`,
      ],
      ['info', `vrrp: f1 is unknown (no state file ${file} yet), was unknown`],
    ],
  );
  assert.equal(lines[2]?.file, file, 'the warning names the file');
});

void test('a balancer that is no front: status front null, no VRRP metrics', async (t) => {
  const up = await startHttpServer(t, (_req, res) => res.end('ok'));
  const lb = await startBalancer(t, [up.port]);
  assert.equal((await lb.status()).balancer.front, null);
  const { families } = await scrape(lb);
  assert.equal(families.has('balancer_vrrp_state'), false);
  assert.equal(families.has('balancer_vrrp_split_brain'), false);
});

const peerOf = (f: FrontStatus, name: string) => f.peers.find((p) => p.name === name);

void test('two fronts meet in etcd; a split brain is logged, flagged and measured on both, and its end with how long it lasted', async (t) => {
  const etcd = await startLocalEtcd(t);
  const prefix = `/front-test-${process.pid}`;
  const f1 = await startFront(t, etcd, prefix, 'f1', 'MASTER 150');
  const f2 = await startFront(t, etcd, prefix, 'f2', 'BACKUP 100');

  // Each sees the other, heard from within the last rewrite or two.
  await frontUntil(f1.lb, 'f1 to see f2 BACKUP', (f) => peerOf(f, 'f2')?.vrrp === 'BACKUP');
  await frontUntil(f2.lb, 'f2 to see f1 MASTER', (f) => peerOf(f, 'f1')?.vrrp === 'MASTER');
  const seen = peerOf(await frontOf(f1.lb), 'f2');
  assert.equal(seen?.priority, 100);
  assert.equal(seen?.present, true);
  assert.match(seen?.address ?? '', /^127\.0\.0\.1:\d+$/);
  assert.ok((seen?.lastContactMs ?? Infinity) < 3000, `last contact ${seen?.lastContactMs} ms`);
  const stored = JSON.parse(await etcd.ctl(['get', '--print-value-only', `${prefix}/fronts/f1`])) as Record<
    string,
    unknown
  >;
  assert.deepEqual(Object.keys(stored).sort(), ['address', 'at', 'name', 'priority', 'vip', 'vrrp']);
  assert.deepEqual([stored.name, stored.vrrp, stored.priority, stored.vip], ['f1', 'MASTER', 150, VIP]);
  // `at` moves on: the record is rewritten every second.
  const firstAt = Number(stored.at);
  await waitFor(
    async () =>
      Number(
        (JSON.parse(await etcd.ctl(['get', '--print-value-only', `${prefix}/fronts/f1`])) as { at: number })
          .at,
      ) > firstAt,
    'f1 to rewrite its record',
    { timeoutMs: 5000, intervalMs: 200 },
  );

  // The partition "heals" with both MASTER: f2's hook says MASTER too.
  writeState(f2.file, `MASTER 100 ${Date.now()}\n`);
  const detectMs = await frontUntil(f1.lb, 'f1 to see the split brain', (f) => f.splitBrain);
  t.diagnostic(`split brain on f1's status ${detectMs.toFixed(0)} ms after f2's state file said MASTER`);
  await frontUntil(f2.lb, 'f2 to see the split brain', (f) => f.splitBrain);
  const began = await waitFor(() => linesOf(f1.lb, 'split-brain')[0], 'the split-brain line on f1');
  assert.equal(began.level, 'error');
  assert.equal(
    began.message,
    `split brain: f1 and f2 both hold ${VIP} (f1 priority 150, f2 priority 100); VRRP keeps it on f1, the highest priority`,
  );
  const during = await scrape(f1.lb);
  assert.equal(sumSamples(during.families, 'balancer_vrrp_split_brain'), 1);
  const contact = sumSamples(during.families, 'balancer_front_peer_last_contact_seconds', { peer: 'f2' });
  assert.ok(contact >= 0 && contact < 3, `f2 last heard ${contact} s ago`);
  const lint = await runCommand('promtool', ['check', 'metrics'], { input: during.text });
  assert.equal(lint.stdout + lint.stderr, '', 'promtool check metrics');
  assert.equal(lint.code, 0);

  // VRRP's priorities settle it: f2 (100) steps down.
  writeState(f2.file, `BACKUP 100 ${Date.now()}\n`);
  await frontUntil(f1.lb, 'the split brain to end on f1', (f) => !f.splitBrain);
  const over = await waitFor(() => linesOf(f1.lb, 'split-brain-over')[0], 'the over line on f1');
  assert.match(over.message, /^split brain over after \d+\.\ds: f2 is BACKUP$/);
  const overOnF2 = await waitFor(() => linesOf(f2.lb, 'split-brain-over')[0], 'the over line on f2');
  assert.match(overOnF2.message, /^split brain over after \d+\.\ds: f2 is BACKUP$/);
  assert.equal(linesOf(f1.lb, 'split-brain').length, 1, 'one line when it began');
  assert.equal(sumSamples((await scrape(f1.lb)).families, 'balancer_vrrp_split_brain'), 0);
  assert.ok(
    linesOf(f1.lb, 'vrrp-peer').some(
      (l) => l.message === 'vrrp: peer f2 is MASTER (priority 100), was BACKUP',
    ),
    "f1 logs its peer's changes",
  );

  // f2 stops: its lease is revoked, f1 keeps its last record as gone.
  await f2.lb.proc.stop('SIGTERM');
  await frontUntil(f1.lb, 'f2 to be gone', (f) => peerOf(f, 'f2')?.present === false);
  assert.ok(
    linesOf(f1.lb, 'front-peer').some((l) => /^front f2 left: its key is gone/.test(l.message)),
    'one line when it left',
  );
  const status = (await getJson(f1.lb.adminPort, '/__lb/status')) as { balancer: { front: FrontStatus } };
  assert.equal(peerOf(status.balancer.front, 'f2')?.vrrp, 'BACKUP', 'its last record stays');
});
