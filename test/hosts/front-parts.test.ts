/**
 * The front hosts' pure parts: keepalived's configuration (and keepalived's own check of it), the
 * notify hook's line as the balancer reads it, the front named in a Via header, a failover's figures
 * from the clients' outcomes, the SYN guard's rule, and the HA demo's verdict.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseVrrpLine } from '../../src/balancer/front/vrrp-state.js';
import { stepProblems, type HaStep } from '../../src/demo/ha-report.js';
import { synGuardRules } from '../../src/fleet/syn-guard.js';
import { frontFromVia } from '../../src/hosts/client-loops.js';
import type { TimedOutcome } from '../../src/hosts/client-run.js';
import { failoverFigures } from '../../src/hosts/failover-report.js';
import {
  keepalivedConfig,
  keepalivedProblems,
  notifyScript,
  type KeepalivedSettings,
} from '../../src/hosts/keepalived-config.js';
import { keepalivedBin } from '../../src/hosts/lab.js';

const settings = (dir: string): KeepalivedSettings => ({
  name: 'sbl-ab12-f1',
  interface: 'eth0',
  virtualRouterId: 51,
  priority: 150,
  advertIntervalS: 0.1,
  vip: '10.213.9.100',
  prefixLength: 24,
  trackFile: path.join(dir, 'front-door'),
  notifyScript: path.join(dir, 'notify.sh'),
  healthUrl: 'http://10.213.9.51:3001/healthz',
  curl: '/usr/bin/curl',
});

void test("keepalived accepts the front's configuration, and refuses nothing it should not", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keepalived-'));
  try {
    const s = settings(dir);
    fs.writeFileSync(s.notifyScript, notifyScript(path.join(dir, 'vrrp-state')), { mode: 0o700 });
    const conf = keepalivedConfig(s);
    assert.match(conf, /vrrp_version 3/);
    assert.match(conf, /nopreempt/);
    assert.match(conf, /front_door weight 0/);
    assert.match(conf, /advert_int 0\.1/);
    const file = path.join(dir, 'keepalived.conf');
    fs.writeFileSync(file, conf);
    // keepalived's own configuration check: exit 0 and nothing on stderr about our lines.
    execFileSync(keepalivedBin(), ['-t', '-f', file], { stdio: 'pipe' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const bad = keepalivedProblems({
    ...settings('/tmp'),
    priority: 255,
    advertIntervalS: 50,
    virtualRouterId: 0,
  });
  assert.equal(bad.length, 3, bad.join('; '));
  assert.throws(
    () => keepalivedConfig({ ...settings('/tmp'), trackFile: 'relative/path' }),
    /not an absolute path/,
  );
});

void test("the notify hook's line is what the balancer's reader takes", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notify-'));
  try {
    const state = path.join(dir, 'vrrp-state');
    const script = path.join(dir, 'notify.sh');
    fs.writeFileSync(script, notifyScript(state), { mode: 0o700 });
    execFileSync('sh', [script, 'INSTANCE', 'sbl_ab12_f1', 'MASTER', '150']);
    const reading = parseVrrpLine(fs.readFileSync(state, 'utf8'));
    assert.equal(reading.kind, 'state');
    if (reading.kind === 'state') {
      assert.equal(reading.state, 'MASTER');
      assert.equal(reading.priority, 150);
      assert.ok(Math.abs(reading.at - Date.now()) < 5000);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

void test('the front that answered is the last pseudonym of Via', () => {
  assert.equal(frontFromVia('1.1 f1'), 'f1');
  assert.equal(frontFromVia('1.1 backend, 1.1 f2'), 'f2');
  assert.equal(frontFromVia(undefined), null);
  assert.equal(frontFromVia(''), null);
});

const outcome = (at: number, ok: boolean, via: string | null, ms = 2): TimedOutcome => ({
  at,
  t: 0,
  m: 'k',
  ok,
  via,
  ms,
  err: ok ? null : 'ECONNRESET',
});

void test("a failover's figures: failed, last answer through the old front, first through the new, the gap", () => {
  const at = 10_000;
  const outcomes = [
    outcome(8_000, true, 'f1'), // before the window: not counted
    outcome(9_900, true, 'f1'),
    outcome(10_100, true, 'f1'),
    outcome(10_150, false, null),
    outcome(10_200, false, null),
    outcome(10_500, true, 'f2'),
    outcome(10_600, true, 'f2'),
  ];
  const f = failoverFigures(outcomes, { name: 'link', at, from: 'f1', to: 'f2', untilMs: 2000 });
  assert.equal(f.sent, 6);
  assert.equal(f.failed, 2);
  assert.deepEqual(f.reasons, { ECONNRESET: 2 });
  assert.equal(f.lastOldMs, 102);
  assert.equal(f.firstNewMs, 502);
  assert.equal(f.failoverMs, 400);
  assert.equal(f.gapMs, 400);
  const never = failoverFigures([outcome(10_100, true, 'f1')], {
    name: 'x',
    at,
    from: 'f1',
    to: 'f2',
    untilMs: 1000,
  });
  assert.equal(never.failoverMs, null);
});

void test('the SYN guard drops only new connections to the address and port', () => {
  assert.match(
    synGuardRules('10.213.9.100', 8080),
    /ip daddr 10\.213\.9\.100 tcp dport 8080 tcp flags & \(syn \| ack\) == syn drop/,
  );
});

void test("the HA demo's verdict: nothing lost in planned steps, the loops in flight at a fault, nothing outside", () => {
  const step = (kind: HaStep['kind'], failed: number, at: number): HaStep => ({
    name: `${kind} step`,
    kind,
    at,
    endedAt: at + 2000,
    failed,
    detail: '',
  });
  assert.deepEqual(stepProblems([step('planned', 0, 0), step('fault', 8, 5000)], 8), []);
  assert.deepEqual(stepProblems([step('planned', 1, 0)], 8), [
    'planned step: 1 failed, more than the 0 allowed',
  ]);
  assert.deepEqual(stepProblems([step('fault', 9, 0)], 8), ['fault step: 9 failed, more than the 8 allowed']);
  const outside = stepProblems([step('fault', 1, 5000)], 8, [
    outcome(4500, false, null),
    outcome(9000, false, null),
  ]);
  assert.equal(outside.length, 1);
  assert.match(outside[0] ?? '', /^1 failed outside any step/);
});
