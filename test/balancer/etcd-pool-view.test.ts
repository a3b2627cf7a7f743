import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeMember,
  encodeMember,
  memberKey,
  type MemberValue,
} from '../../src/balancer/discovery/etcd-keys.js';
import { EtcdPoolView } from '../../src/balancer/discovery/etcd-pool-view.js';
import { desiredKeys } from '../../src/registrar/desired-keys.js';
import { buildRegistrarConfig } from '../../src/registrar/config.js';

const key = (host: string, app: string) => memberKey('/sb', 'web', host, app);
const value = (address: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ address, weight: 1, host: 'h1', app: 'a', pm2: null, registeredAt: 1, ...extra });

void test('a registered member decodes to an upstream named host/app, identified by its address, from etcd', () => {
  const decoded = decodeMember(
    '/sb',
    'web',
    key('h1', 'backend-7402'),
    value('10.0.0.11:7402', { weight: 3 }),
  );
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.spec, {
    id: '10.0.0.11:7402',
    name: 'h1/backend-7402',
    host: '10.0.0.11',
    port: 7402,
    weight: 3,
    origin: { source: 'etcd', host: 'h1', key: key('h1', 'backend-7402') },
  });
  const v6 = decodeMember('/sb', 'web', key('h2', 'b'), value('[fd00::2]:80'));
  assert.ok(v6.ok && v6.spec.id === '[fd00::2]:80' && v6.spec.host === 'fd00::2');
});

void test('values that are not JSON, name a bad address or do not match their key are refused with the reason', () => {
  const cases: [string, string, RegExp][] = [
    [key('h1', 'a'), 'not json', /not JSON/],
    [key('h1', 'a'), '[1,2]', /not a JSON object/],
    [key('h1', 'a'), value('300.1.1.1:80'), /does not start with an IP address/],
    [key('h1', 'a'), value('10.0.0.1'), /not host:port/],
    [key('h1', 'a'), value('10.0.0.1:0'), /no usable port/],
    [key('h1', 'a'), value('0.0.0.0:80'), /wildcard/],
    [key('h1', 'a'), value('example.org:80'), /does not start with an IP address/],
    [key('h1', 'a'), value('10.0.0.1:80', { weight: 0 }), /weight/],
    [key('h1', 'a'), JSON.stringify({ weight: 1 }), /address is not a string/],
    [`${key('h1', 'a')}/deeper`, value('10.0.0.1:80'), /not \/sb\/pools\/web\/<host>\/<app>/],
    ['/sb/pools/other/h1/a', value('10.0.0.1:80'), /not under/],
  ];
  for (const [k, v, problem] of cases) {
    const decoded = decodeMember('/sb', 'web', k, v);
    assert.equal(decoded.ok, false, `${k} = ${v}`);
    if (!decoded.ok) assert.match(decoded.problem, problem);
  }
});

void test('the pool view follows puts and deletes, drops a member whose value turns bad, and refuses a second key for one address', () => {
  const view = new EtcdPoolView('/sb', 'web');
  const first = view.replace([{ key: key('h1', 'a'), value: value('10.0.0.11:1') }], 5);
  assert.deepEqual(first, { changed: true, refused: [] });
  assert.equal(view.revision, 5);
  assert.deepEqual(view.put(key('h2', 'a'), value('10.0.0.12:1'), 6).changed, true);
  assert.deepEqual(
    view.put(key('h2', 'a'), value('10.0.0.12:1'), 7).changed,
    false,
    'the same value again changes nothing',
  );
  const dup = view.put(key('h3', 'a'), value('10.0.0.12:1'), 8);
  assert.match(dup.refused[0]?.problem ?? '', /already \/sb\/pools\/web\/h2\/a/);
  const bad = view.put(key('h1', 'a'), 'garbage', 9);
  assert.equal(bad.changed, true);
  assert.deepEqual(
    view.snapshot().map((m) => m.name),
    ['h2/a'],
  );
  assert.equal(view.delete(key('h2', 'a'), 10).changed, true);
  assert.deepEqual(view.snapshot(), []);
  assert.equal(view.revision, 10);
});

void test('the registrar wants a key for each online member only, and its value round-trips through the balancer', () => {
  const scope = { prefix: '/sb', pool: 'web', hostName: 'h1' };
  const pm2 = (status: string) => ({
    pmId: 1,
    status,
    pid: 10,
    restarts: 0,
    uptimeMs: 5,
    memoryBytes: 9,
    cpuPercent: 1,
  });
  const members = [
    { id: '10.0.0.11:1', name: 'b1', host: '10.0.0.11', port: 1, pm2: pm2('online') },
    { id: '10.0.0.11:2', name: 'b2', host: '10.0.0.11', port: 2, pm2: pm2('stopping') },
    { id: '10.0.0.11:3', name: 'b3', host: '10.0.0.11', port: 3, pm2: pm2('online') },
  ];
  const wanted = desiredKeys(scope, members, new Set(['10.0.0.11:3']));
  assert.deepEqual([...wanted.keys()], [key('h1', 'b1')]);
  const one = wanted.get(key('h1', 'b1'));
  assert.ok(one !== undefined);
  const decoded = decodeMember('/sb', 'web', one.key, one.value(123));
  assert.ok(decoded.ok);
  assert.equal(decoded.spec.pm2?.status, 'online');
  assert.equal((JSON.parse(one.value(123)) as MemberValue).registeredAt, 123);
  assert.equal(encodeMember(JSON.parse(one.value(1)) as MemberValue), one.value(1));
});

void test("the registrar's options refuse a bad endpoint list, an empty prefix and a host name with a slash", () => {
  assert.throws(() => buildRegistrarConfig({ argv: ['--etcd-endpoints', 'x'], env: {} }), /--etcd-endpoints/);
  assert.throws(() => buildRegistrarConfig({ argv: ['--etcd-prefix', ''], env: {} }), /--etcd-prefix/);
  assert.throws(() => buildRegistrarConfig({ argv: [], env: { REGISTRAR_HOST: 'a/b' } }), /REGISTRAR_HOST/);
  const config = buildRegistrarConfig({
    argv: [],
    env: { REGISTRAR_HOST: 'h7', REGISTRAR_ADDRESS: '10.0.0.7' },
  });
  assert.equal(config.hostName, 'h7');
  assert.equal(config.leaseTtlS, 5);
});
