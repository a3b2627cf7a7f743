import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildBalancerConfig } from '../../src/balancer/config.js';
import {
  advertisedAddress,
  decodeFront,
  encodeFront,
  frontKey,
  type FrontRecord,
} from '../../src/balancer/front/front-record.js';
import { frontStatus } from '../../src/balancer/front/front-status.js';
import {
  conflictingPeers,
  SplitBrainWatch,
  type PeerFront,
  type SelfFront,
} from '../../src/balancer/front/split-brain.js';
import { parseVrrpLine, vrrpChangeMessage } from '../../src/balancer/front/vrrp-state.js';
import { readBalancerStatus } from '../../src/balancer/status-reader.js';
import { buildStatus } from '../../src/balancer/status.js';
import { statusFacts } from '../helpers/status-document.js';

const FILE = '/run/vrrp/state';

void test("the notify hook's line: <STATE> <PRIORITY> <MS>, anything else unknown with a reason", () => {
  assert.deepEqual(parseVrrpLine('MASTER 150 1765000000000\n'), {
    kind: 'state',
    state: 'MASTER',
    priority: 150,
    at: 1765000000000,
  });
  assert.deepEqual(parseVrrpLine('STOP 0 1'), { kind: 'state', state: 'STOP', priority: 0, at: 1 });
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['\n', /empty/],
    ['master 150 1', /"master" is not MASTER, BACKUP, FAULT or STOP/],
    ['MASTER 256 1', /priority "256"/],
    ['MASTER -1 1', /priority "-1"/],
    ['MASTER 150 soon', /"soon" is not milliseconds/],
    ['MASTER  150 1', /is not "<STATE> <PRIORITY> <MS_SINCE_EPOCH>"/],
    ['MASTER 150', /is not "<STATE>/],
    ['MASTER 150 1\nBACKUP 100 2\n', /more than one line/],
  ];
  for (const [text, problem] of bad) {
    const r = parseVrrpLine(text);
    assert.equal(r.kind, 'bad', text);
    if (r.kind === 'bad') assert.match(r.problem, problem, text);
  }
});

void test('one line per change says what it is and what it was', () => {
  const master = parseVrrpLine('MASTER 150 2');
  const backup = parseVrrpLine('BACKUP 150 1');
  assert.equal(vrrpChangeMessage('f1', FILE, null, backup), 'vrrp: f1 is BACKUP (priority 150)');
  assert.equal(
    vrrpChangeMessage('f1', FILE, backup, master),
    'vrrp: f1 is MASTER (priority 150), was BACKUP',
  );
  assert.equal(
    vrrpChangeMessage('f1', FILE, master, parseVrrpLine('MASTER 100 3')),
    'vrrp: f1 is MASTER (priority 100), was priority 150',
  );
  assert.equal(
    vrrpChangeMessage('f1', FILE, master, parseVrrpLine('hello')),
    `vrrp: f1 is unknown (${FILE}: "hello" is not "<STATE> <PRIORITY> <MS_SINCE_EPOCH>"), was MASTER`,
  );
  assert.equal(
    vrrpChangeMessage('f1', FILE, parseVrrpLine(''), { kind: 'missing' }),
    `vrrp: f1 is unknown (no state file ${FILE} yet), was unknown`,
  );
});

const record = (over: Partial<FrontRecord> = {}): FrontRecord => ({
  name: 'f2',
  vrrp: 'BACKUP',
  priority: 100,
  vip: '10.213.7.100',
  address: '10.213.7.12:80',
  at: 1000,
  ...over,
});

void test("a front's etcd record round-trips; a stranger's value is refused with a reason", () => {
  const key = frontKey('/sb', 'f2');
  assert.equal(key, '/sb/fronts/f2');
  assert.deepEqual(decodeFront('/sb', key, encodeFront(record())), { ok: true, record: record() });
  assert.deepEqual(
    decodeFront('/sb', key, encodeFront(record({ vrrp: 'unknown', priority: null, vip: null }))),
    {
      ok: true,
      record: record({ vrrp: 'unknown', priority: null, vip: null }),
    },
  );
  const refused: [string, string, RegExp][] = [
    ['/sb/fronts/f2/x', encodeFront(record()), /not \/sb\/fronts\/<name>/],
    ['/sb/pools/f2', encodeFront(record()), /not \/sb\/fronts\/<name>/],
    [key, '{', /not JSON/],
    [key, '[]', /not a JSON object/],
    [key, encodeFront(record({ name: 'f3' })), /name "f3" is not f2/],
    [key, JSON.stringify({ ...record(), vrrp: 'LEADER' }), /vrrp "LEADER"/],
    [key, JSON.stringify({ ...record(), priority: 300 }), /priority 300/],
    [key, JSON.stringify({ ...record(), vip: 'vip.example' }), /vip "vip.example"/],
    [key, JSON.stringify({ ...record(), at: 'now' }), /at "now"/],
  ];
  for (const [k, v, problem] of refused) {
    const d = decodeFront('/sb', k, v);
    assert.equal(d.ok, false, v);
    if (!d.ok) assert.match(d.problem, problem);
  }
});

void test('a wildcard listener is advertised by the first external IPv4 address that is not the VIP', () => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    eth0: [
      { address: 'fe80::1', family: 'IPv6', internal: false },
      { address: '10.213.7.100', family: 'IPv4', internal: false },
      { address: '10.213.7.11', family: 'IPv4', internal: false },
    ],
  };
  assert.equal(advertisedAddress('0.0.0.0', 80, interfaces, '10.213.7.100'), '10.213.7.11:80');
  assert.equal(advertisedAddress('127.0.0.1', 8080, interfaces, null), '127.0.0.1:8080');
  assert.equal(advertisedAddress('::', 80, { lo: interfaces.lo }, null), '[::]:80');
});

const self = (over: Partial<SelfFront> = {}): SelfFront => ({
  name: 'f1',
  vrrp: 'MASTER',
  priority: 150,
  vip: '10.213.7.100',
  ...over,
});
const peer = (over: Partial<PeerFront> = {}): PeerFront => ({ ...record(), present: true, ...over });

void test('split brain: this front MASTER and a peer with the same VIP said MASTER within two seconds', () => {
  const now = 10_000;
  const master = peer({ vrrp: 'MASTER', at: now - 500 });
  assert.deepEqual(
    conflictingPeers(self(), [master], now).map((p) => p.name),
    ['f2'],
  );
  assert.equal(conflictingPeers(self({ vrrp: 'BACKUP' }), [master], now).length, 0, 'this one is BACKUP');
  assert.equal(conflictingPeers(self(), [peer({ at: now })], now).length, 0, 'the peer is BACKUP');
  assert.equal(conflictingPeers(self(), [{ ...master, at: now - 2001 }], now).length, 0, 'too old');
  assert.equal(conflictingPeers(self(), [{ ...master, present: false }], now).length, 0, 'its key is gone');
  assert.equal(conflictingPeers(self(), [{ ...master, vip: '10.213.7.200' }], now).length, 0, 'another VIP');
  assert.equal(
    conflictingPeers(self({ vip: null }), [{ ...master, vip: null }], now).length,
    1,
    'no --vip on either',
  );
});

void test('the split-brain watch says when it begins, who VRRP leaves it on, and how long it lasted', () => {
  const watch = new SplitBrainWatch();
  const peers = new Map([['f2', peer({ vrrp: 'MASTER', at: 9_900 })]]);
  assert.equal(watch.observe(9_000, self({ vrrp: 'BACKUP' }), peers), null);
  const began = watch.observe(10_000, self(), peers);
  assert.equal(began?.kind, 'began');
  assert.equal(
    began?.message,
    'split brain: f1 and f2 both hold 10.213.7.100 (f1 priority 150, f2 priority 100); VRRP keeps it on f1, the highest priority',
  );
  assert.equal(watch.since, 10_000);
  assert.equal(watch.observe(10_500, self(), peers), null, 'said once');
  peers.set('f2', peer({ vrrp: 'BACKUP', at: 11_700 }));
  const over = watch.observe(11_800, self(), peers);
  assert.deepEqual(over, { kind: 'over', ms: 1800, message: 'split brain over after 1.8s: f2 is BACKUP' });
  assert.equal(watch.since, null);

  // This front steps down; a tie on priority; a peer that went quiet.
  peers.set('f2', peer({ vrrp: 'MASTER', priority: 150, at: 20_000 }));
  assert.match(watch.observe(20_000, self(), peers)?.message ?? '', /equal priorities \(150\)/);
  assert.equal(
    watch.observe(20_300, self({ vrrp: 'BACKUP' }), peers)?.message,
    'split brain over after 0.3s: f1 is BACKUP',
  );
  watch.observe(20_400, self(), peers);
  assert.equal(
    watch.observe(22_500, self(), peers)?.message,
    'split brain over after 2.1s: f2 not heard from for 2.5s',
  );
});

void test("the status's front part: state, since, split brain and peers by name with their last contact", () => {
  const status = frontStatus(
    {
      name: 'f1',
      vip: '10.213.7.100',
      stateFile: FILE,
      reading: parseVrrpLine('MASTER 150 1000'),
      since: 1000,
      splitBrainSince: null,
      peersFromEtcd: true,
      peers: [peer({ name: 'f3', at: 5000 }), peer({ at: 5600, present: false })],
    },
    6000,
  );
  assert.equal(status.vrrp, 'MASTER');
  assert.equal(status.priority, 150);
  assert.equal(status.stateProblem, null);
  assert.equal(status.splitBrain, false);
  assert.deepEqual(
    status.peers.map((p) => [p.name, p.lastContactMs, p.present]),
    [
      ['f2', 400, false],
      ['f3', 1000, true],
    ],
  );
  const missing = frontStatus(
    { ...status, reading: { kind: 'missing' }, peers: [], splitBrainSince: null },
    0,
  );
  assert.equal(missing.vrrp, 'unknown');
  assert.match(missing.stateProblem ?? '', /does not exist/);

  // Through the one checked reader, as the lead's tests read it.
  const built = buildStatus(
    [],
    statusFacts({ front: status }),
    { inFlight: 0, served: 0, failures: 0, queued: 0 },
    [],
  );
  const doc = JSON.parse(JSON.stringify(built)) as { balancer: { front: { vrrp: string } } };
  assert.equal(readBalancerStatus(doc).balancer.front?.vrrp, 'MASTER');
  doc.balancer.front.vrrp = 'LEADER';
  assert.throws(() => readBalancerStatus(doc), /balancer\.front\.vrrp is not one of MASTER/);
});

void test('front options: none makes no front; a name or a state file makes one; a bad VIP or name exits 2', () => {
  const build = (argv: string[], env: Record<string, string> = {}) => buildBalancerConfig({ argv, env });
  assert.equal(build([]).front, null);
  assert.deepEqual(build(['--front-name', 'f1', '--vip', '10.213.7.100']).front, {
    name: 'f1',
    vip: '10.213.7.100',
    stateFile: null,
  });
  const fromFile = build([], { VRRP_STATE_FILE: FILE }).front;
  assert.equal(fromFile?.stateFile, FILE);
  assert.ok((fromFile?.name ?? '') !== '', 'named after the host');
  assert.throws(
    () => build(['--vip', '10.213.7.100']),
    /--vip 10\.213\.7\.100 is given, but this balancer is no front/,
  );
  assert.throws(
    () => build(['--front-name', 'f1', '--vip', 'vip.example']),
    /--vip: "vip.example" is not an IP address/,
  );
  assert.throws(() => build(['--front-name', 'f/1']), /--front-name.*"f\/1" is not a front name/);
});
