/**
 * Operators' decisions as etcd keys (pure): the key of an upstream named <host>/<app>, values that
 * are refused with a reason, the whole decision a partial one makes, and what a whole read of etcd
 * asks of the pool. The pool's side of it: decisions by name, kept for members not there yet.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decisionAfter,
  decisionKey,
  decisionsPrefix,
  decodeDecision,
  decodeDecisionKey,
  describeDecision,
  encodeDecision,
  isReady,
  READY,
  stepsToMatch,
  type DecisionValue,
} from '../../src/balancer/discovery/etcd-decision-keys.js';
import { BalancerEvents } from '../../src/balancer/events.js';
import { Pool } from '../../src/balancer/pool.js';
import { memoryLogger } from '../helpers/memory-logger.js';

const value = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ admin: 'drain', weight: null, by: 'lb (ops) from 10.0.0.9:5000 via a', at: 7, ...extra });

void test('a decision is keyed by the URI-encoded upstream name under <prefix>/decisions/<pool>/, and reads back', () => {
  assert.equal(decisionsPrefix('/sb', 'web'), '/sb/decisions/web/');
  const key = decisionKey('/sb', 'web', 'h1/backend-7402');
  assert.equal(key, '/sb/decisions/web/h1%2Fbackend-7402');
  const written: DecisionValue = {
    admin: 'maint',
    weight: 3,
    by: 'lb (ops) from 10.0.0.9:5000 via a',
    at: 12,
  };
  const decoded = decodeDecision('/sb', 'web', key, encodeDecision(written));
  assert.deepEqual(decoded, { ok: true, name: 'h1/backend-7402', value: written });
  // A writer that names nobody (etcdctl) is applied, as "an unnamed writer".
  const bare = decodeDecision('/sb', 'web', key, JSON.stringify({ admin: 'ready', weight: 0 }));
  assert.ok(bare.ok);
  assert.deepEqual(bare.value, { admin: 'ready', weight: 0, by: 'an unnamed writer', at: 0 });
  assert.deepEqual(decodeDecisionKey('/sb', 'web', decisionKey('/sb', 'web', 'a b%c')), {
    ok: true,
    name: 'a b%c',
  });
});

void test('values and keys that are not a decision are refused with the reason', () => {
  const key = decisionKey('/sb', 'web', 'h1/a');
  const cases: [string, string, RegExp][] = [
    [key, 'not json', /not JSON/],
    [key, '[1]', /not a JSON object/],
    [key, 'null', /not a JSON object/],
    [key, value({ admin: 'off' }), /admin "off" is not one of ready, drain, maint/],
    [key, value({ admin: undefined }), /admin undefined/],
    [key, value({ weight: 300 }), /weight 300 is not null or a whole number from 0 to 256/],
    [key, value({ weight: -1 }), /weight -1/],
    [key, value({ weight: 1.5 }), /weight 1.5/],
    [key, value({ weight: '3' }), /weight "3"/],
    [key, value({ weight: undefined }), /weight undefined/],
    [key, value({ by: 5 }), /"by" is not a string/],
    [key, value({ at: 'now' }), /"at" is not a time/],
    [`${key}/deeper`, value(), /not \/sb\/decisions\/web\/<upstream name, URI-encoded>/],
    ['/sb/decisions/web/', value(), /not \/sb\/decisions\/web\/<upstream name/],
    ['/sb/decisions/other/h1%2Fa', value(), /not under \/sb\/decisions\/web\//],
    ['/sb/decisions/web/%E0%A4%A', value(), /not a URI-encoded upstream name/],
  ];
  for (const [k, v, problem] of cases) {
    const decoded = decodeDecision('/sb', 'web', k, v);
    assert.equal(decoded.ok, false, `${k} = ${v}`);
    if (!decoded.ok) assert.match(decoded.problem, problem, `${k} = ${v}`);
  }
});

void test('a partial decision keeps the other part; ready at discovery weight is what no key says', () => {
  assert.deepEqual(decisionAfter({ admin: 'ready', weight: 3 }, { admin: 'drain' }), {
    admin: 'drain',
    weight: 3,
  });
  assert.deepEqual(decisionAfter({ admin: 'drain', weight: null }, { weight: 0 }), {
    admin: 'drain',
    weight: 0,
  });
  assert.deepEqual(decisionAfter({ admin: 'maint', weight: 2 }, { weight: null }), {
    admin: 'maint',
    weight: null,
  });
  assert.ok(isReady(decisionAfter({ admin: 'drain', weight: null }, { admin: 'ready' })));
  assert.ok(!isReady({ admin: 'ready', weight: 1 }));
  assert.deepEqual(
    [
      READY,
      { admin: 'drain', weight: null },
      { admin: 'ready', weight: 3 },
      { admin: 'maint', weight: 0 },
    ].map((d) => describeDecision(d as typeof READY)),
    ['ready', 'drain', 'weight 3', 'maint, weight 0'],
  );
});

void test('a whole read makes the decisions in force exactly those read: any other goes back to ready', () => {
  const read = new Map<string, DecisionValue>([
    ['h1/a', { admin: 'drain', weight: null, by: 'ops via A', at: 1 }],
    ['h2/b', { admin: 'ready', weight: 4, by: 'ops via B', at: 2 }],
  ]);
  const steps = stepsToMatch(
    { 'h1/a': { admin: 'maint', weight: null }, 'h3/c': { admin: 'drain', weight: null } },
    read,
    42,
  );
  assert.deepEqual(steps, [
    { name: 'h3/c', decision: READY, by: 'etcd: no decision at revision 42' },
    { name: 'h1/a', decision: { admin: 'drain', weight: null }, by: 'etcd: ops via A' },
    { name: 'h2/b', decision: { admin: 'ready', weight: 4 }, by: 'etcd: ops via B' },
  ]);
  assert.deepEqual(stepsToMatch({}, new Map(), 1), []);
});

void test('the pool takes decisions by name: members at once with who asked, others kept until they join; ready keeps nothing', () => {
  const logger = memoryLogger();
  const pool = new Pool({ thresholds: { fall: 2, rise: 2 }, logger, events: new BalancerEvents() });
  const spec = (name: string, port: number) => ({ id: `10.0.0.1:${port}`, name, host: '10.0.0.1', port });
  pool.setMembers([spec('h1/a', 7001)], 'etcd', true);
  pool.decideLater(
    { 'h1/a': { admin: 'drain', weight: null }, 'h1/b': { admin: 'maint', weight: 2 } },
    'etcd: ops via A',
  );
  assert.equal(pool.members[0]?.admin, 'drain');
  const line = logger.lines.find((l) => l.fields.event === 'admin-change');
  assert.equal(line?.message, 'h1/a: ready -> drain (etcd: ops via A)');
  assert.deepEqual(pool.decisions(), {
    'h1/a': { admin: 'drain', weight: null },
    'h1/b': { admin: 'maint', weight: 2 },
  });
  // Ready again before it joined: nothing is kept for it, and it joins ready.
  pool.decideLater({ 'h1/b': { admin: 'ready', weight: null } }, 'etcd: ops via B');
  assert.deepEqual(Object.keys(pool.decisions()), ['h1/a']);
  pool.decideLater({ 'h1/c': { admin: 'maint', weight: null } }, 'etcd: ops via B');
  pool.setMembers([spec('h1/a', 7001), spec('h1/b', 7002), spec('h1/c', 7003)], 'etcd');
  assert.deepEqual(
    pool.members.map((u) => `${u.name} ${u.admin} ${u.weight}`),
    ['h1/a drain 1', 'h1/b ready 1', 'h1/c maint 1'],
  );
});
