import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionCap, parseOpenFilesLimit } from '../../src/balancer/descriptor-limit.js';
import { LogGate } from '../../src/balancer/log-gate.js';
import { checkVerdict } from '../../src/balancer/upstream.js';

void test('the default connection cap leaves a reserve and a descriptor for each upstream connection', () => {
  assert.equal(connectionCap(256, 0), 96);
  assert.equal(connectionCap(1024, 0), 480);
  assert.equal(connectionCap(null, 0), 10_000);
  assert.equal(connectionCap(256, 50), 50, '--max-connections wins when given');
  assert.equal(connectionCap(10, 0), 1);
});

void test('the soft open-files limit is read from a limits table', () => {
  const text =
    'Limit                     Soft Limit           Hard Limit           Units\n' +
    'Max cpu time              unlimited            unlimited            seconds\n' +
    'Max open files            256                  1048576              files\n';
  assert.equal(parseOpenFilesLimit(text), 256);
  assert.equal(parseOpenFilesLimit('Max open files unlimited unlimited files\n'), null);
  assert.equal(parseOpenFilesLimit(''), null);
});

void test('a log gate lets one line a second through and counts the rest', () => {
  const gate = new LogGate(1000);
  assert.equal(gate.pass(0), 0);
  assert.equal(gate.pass(10), undefined);
  assert.equal(gate.pass(999), undefined);
  assert.equal(gate.pass(1000), 2);
  assert.equal(gate.pass(1500), undefined);
  assert.equal(gate.pass(2100), 1);
});

void test('a health check the balancer could not make for want of descriptors says nothing about the upstream', () => {
  const failed = { ok: false, ms: 1, at: 0, error: 'EMFILE: too many open files' };
  assert.equal(checkVerdict({ ...failed, local: true }), 'inconclusive');
  assert.equal(checkVerdict(failed), 'failure');
});
