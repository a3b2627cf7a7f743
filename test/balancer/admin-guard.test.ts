/**
 * The rules that keep the admin API for its operators, without sockets: who may change the
 * balancer (method, Host, Origin, token, Content-Type), what a control path asks for, and what a
 * state file may hold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOwnAuthority, refuseMutation } from '../../src/balancer/admin-guard.js';
import { parseControlPath } from '../../src/balancer/upstream-control.js';
import { parseState } from '../../src/balancer/state-file.js';

const loopback = { host: '127.0.0.1', port: 44445, token: null };
const json = { 'content-type': 'application/json', host: '127.0.0.1:44445' };

void test('a POST with JSON to its own address passes; each rule refuses with its own status', () => {
  assert.equal(refuseMutation('POST', json, loopback), null);
  assert.equal(
    refuseMutation('POST', { ...json, 'content-type': 'application/json; charset=utf-8' }, loopback),
    null,
  );
  assert.equal(refuseMutation('POST', { ...json, origin: 'http://localhost:44445' }, loopback), null);
  assert.equal(refuseMutation('GET', json, loopback)?.status, 405);
  assert.equal(refuseMutation('OPTIONS', json, loopback)?.headers?.Allow, 'POST');
  assert.equal(refuseMutation('POST', { ...json, host: 'attacker.example:44445' }, loopback)?.status, 403);
  assert.equal(refuseMutation('POST', { ...json, host: '127.0.0.1:1' }, loopback)?.status, 403);
  assert.equal(
    refuseMutation('POST', { ...json, origin: 'https://attacker.example' }, loopback)?.status,
    403,
  );
  assert.equal(refuseMutation('POST', { ...json, origin: 'null' }, loopback)?.status, 403);
  assert.equal(refuseMutation('POST', { ...json, 'content-type': 'text/plain' }, loopback)?.status, 415);
  assert.equal(refuseMutation('POST', { host: json.host }, loopback)?.status, 415);
});

void test('with a token: a missing or wrong one is 401, the right one passes', () => {
  const guarded = { ...loopback, token: 'sixteen-chars-token' };
  assert.equal(refuseMutation('POST', json, guarded)?.status, 401);
  assert.equal(refuseMutation('POST', { ...json, authorization: 'Bearer nope' }, guarded)?.status, 401);
  assert.equal(
    refuseMutation('POST', { ...json, authorization: 'Basic sixteen-chars-token' }, guarded)?.status,
    401,
  );
  assert.equal(
    refuseMutation('POST', { ...json, authorization: 'Bearer sixteen-chars-token' }, guarded),
    null,
  );
});

void test('bound to every address, an address literal with its port is its own, a DNS name is not', () => {
  const any = { host: '0.0.0.0', port: 8081 };
  assert.equal(isOwnAuthority('10.1.2.3:8081', any), true);
  assert.equal(isOwnAuthority('[::1]:8081', any), true);
  assert.equal(isOwnAuthority('10.1.2.3:8082', any), false);
  assert.equal(isOwnAuthority('rebound.example:8081', any), false);
  assert.equal(isOwnAuthority('[::1]:44445', { host: '::1', port: 44445 }), true);
  assert.equal(isOwnAuthority('10.0.0.1:44445', { host: '127.0.0.1', port: 44445 }), false);
});

void test('a control path names an upstream and a state or a weight from 0 to 256', () => {
  assert.deepEqual(parseControlPath('/__lb/upstreams/backend-7003/drain'), {
    ok: true,
    name: 'backend-7003',
    decision: { admin: 'drain' },
    words: 'drain',
  });
  assert.deepEqual(parseControlPath('/__lb/upstreams/web%201/weight/256').ok && true, true);
  const bad: [string, number, RegExp][] = [
    ['/__lb/upstreams/b/weight/257', 400, /0 to 256/],
    ['/__lb/upstreams/b/weight/', 400, /0 to 256/],
    ['/__lb/upstreams/b/weight/0x1', 400, /0 to 256/],
    ['/__lb/upstreams/b/weight/3/4', 400, /0 to 256/],
    ['/__lb/upstreams/b/asleep', 400, /not a state/],
    ['/__lb/upstreams/b/ready/now', 400, /not a state/],
    ['/__lb/upstreams/b', 404, /drain\|maint\|ready/],
    ['/__lb/upstreams/%E0%A4%A/drain', 400, /well-formed/],
  ];
  for (const [path, status, reason] of bad) {
    const parsed = parseControlPath(path);
    assert.equal(parsed.ok, false, path);
    if (!parsed.ok) {
      assert.equal(parsed.status, status, path);
      assert.match(parsed.reason, reason, path);
    }
  }
});

void test('a state file holds decisions by name; anything else is refused with what is wrong', () => {
  assert.deepEqual(
    parseState('{"version":1,"upstreams":{"a":{"admin":"maint","weight":null},"b":{"weight":7}}}'),
    { a: { admin: 'maint', weight: null }, b: { weight: 7 } },
  );
  assert.throws(() => parseState('[]'), /version 1/);
  assert.throws(() => parseState('{"version":2,"upstreams":{}}'), /version 1/);
  assert.throws(() => parseState('{"version":1}'), /"upstreams"/);
  assert.throws(() => parseState('{"version":1,"upstreams":{"a":{"admin":"off"}}}'), /a: admin "off"/);
  assert.throws(() => parseState('{"version":1,"upstreams":{"a":{"weight":300}}}'), /a: weight 300/);
  assert.throws(() => parseState('{ nope'), SyntaxError);
});
