import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyError,
  countsAsFailure,
  decideRetry,
  finalStatus,
  isIdempotent,
  marksDown,
  type AttemptFacts,
  type RetrySettings,
} from '../../src/balancer/retry-policy.js';

const settings: RetrySettings = { enabled: true, maxAttempts: 4, budgetMs: 5000, onTimeout: false };
const facts = (over: Partial<AttemptFacts>): AttemptFacts => ({
  kind: 'connect-refused',
  method: 'GET',
  hasBody: false,
  bodyReplayable: false,
  attempts: 1,
  elapsedMs: 1,
  otherUpstreamLeft: true,
  ...over,
});

void test('a refused connection is retried for any method, since nothing reached the upstream', () => {
  assert.equal(decideRetry(facts({}), settings).retry, true);
  assert.equal(decideRetry(facts({ method: 'POST' }), settings).retry, true);
  assert.equal(decideRetry(facts({ kind: 'connect-timeout', method: 'PATCH' }), settings).retry, true);
});

void test('a body is sent again after a refused connection only if it was kept', () => {
  assert.equal(
    decideRetry(facts({ method: 'POST', hasBody: true, bodyReplayable: true }), settings).retry,
    true,
  );
  const d = decideRetry(facts({ method: 'POST', hasBody: true, bodyReplayable: false }), settings);
  assert.equal(d.retry, false);
  assert.match(d.reason, /too big/);
});

void test('a reset before the response is retried for idempotent requests without a body only', () => {
  const reset = { kind: 'reset-before-response' as const };
  assert.equal(decideRetry(facts({ ...reset, method: 'GET' }), settings).retry, true);
  assert.equal(decideRetry(facts({ ...reset, method: 'HEAD' }), settings).retry, true);
  assert.equal(decideRetry(facts({ ...reset, method: 'DELETE' }), settings).retry, true);
  const post = decideRetry(facts({ ...reset, method: 'POST' }), settings);
  assert.equal(post.retry, false);
  assert.match(post.reason, /not idempotent/);
  const put = decideRetry(facts({ ...reset, method: 'PUT', hasBody: true, bodyReplayable: true }), settings);
  assert.equal(put.retry, false, 'the body may have reached the upstream');
});

void test('nothing is retried once the response has started, or when it was garbage', () => {
  assert.equal(decideRetry(facts({ kind: 'reset-during-response' }), settings).retry, false);
  assert.equal(decideRetry(facts({ kind: 'bad-response' }), settings).retry, false);
});

void test('a client that went away is never retried', () => {
  assert.equal(decideRetry(facts({ kind: 'client-gone' }), settings).retry, false);
});

void test('timeouts are retried only when asked for, and only for idempotent requests', () => {
  const timeout = { kind: 'response-timeout' as const };
  assert.equal(decideRetry(facts(timeout), settings).retry, false);
  const on = { ...settings, onTimeout: true };
  assert.equal(decideRetry(facts(timeout), on).retry, true);
  assert.equal(decideRetry(facts({ ...timeout, method: 'POST' }), on).retry, false);
});

void test('attempts, the time budget and the pool all bound retries', () => {
  assert.equal(decideRetry(facts({ attempts: 4 }), settings).retry, false);
  assert.equal(decideRetry(facts({ attempts: 3 }), settings).retry, true);
  assert.equal(decideRetry(facts({ elapsedMs: 5000 }), settings).retry, false);
  const none = decideRetry(facts({ otherUpstreamLeft: false }), settings);
  assert.equal(none.retry, false);
  assert.match(none.reason, /no other upstream/);
});

void test('with retries off nothing is retried', () => {
  const d = decideRetry(facts({}), { ...settings, enabled: false });
  assert.equal(d.retry, false);
  assert.match(d.reason, /off/);
});

void test('refused and reset connections take an upstream out at once; slowness and garbage do not', () => {
  assert.equal(marksDown('connect-refused'), true);
  assert.equal(marksDown('connect-timeout'), true);
  assert.equal(marksDown('reset-before-response'), true);
  assert.equal(marksDown('reset-during-response'), true);
  assert.equal(marksDown('response-timeout'), false);
  assert.equal(marksDown('bad-response'), false);
  assert.equal(marksDown('client-gone'), false);
});

void test('the client gets 504 for timeouts and 502 for other failures', () => {
  assert.equal(finalStatus('response-timeout'), 504);
  assert.equal(finalStatus('connect-timeout'), 504);
  assert.equal(finalStatus('connect-refused'), 502);
  assert.equal(finalStatus('reset-before-response'), 502);
  assert.equal(finalStatus('bad-response'), 502);
});

void test('errors are classified by code and by how far the exchange got', () => {
  const fresh = { responded: false, clientGone: false };
  assert.equal(classifyError('ECONNREFUSED', fresh), 'connect-refused');
  assert.equal(classifyError('ERR_UPSTREAM_CONNECT_TIMEOUT', fresh), 'connect-timeout');
  assert.equal(classifyError('ERR_UPSTREAM_TIMEOUT', fresh), 'response-timeout');
  assert.equal(classifyError('ERR_UPSTREAM_HEADER_TIMEOUT', fresh), 'response-timeout');
  assert.equal(classifyError('ECONNRESET', fresh), 'reset-before-response');
  assert.equal(classifyError('EPIPE', fresh), 'reset-before-response');
  assert.equal(classifyError('HPE_INVALID_CONSTANT', fresh), 'bad-response');
  // undici's names for the same events.
  assert.equal(classifyError('UND_ERR_CONNECT_TIMEOUT', fresh), 'connect-timeout');
  assert.equal(classifyError('UND_ERR_HEADERS_TIMEOUT', fresh), 'response-timeout');
  assert.equal(classifyError('UND_ERR_SOCKET', fresh), 'reset-before-response');
  assert.equal(classifyError('UND_ERR_HEADERS_OVERFLOW', fresh), 'bad-response');
  assert.equal(classifyError('ERR_UPSTREAM_BAD_RESPONSE', fresh), 'bad-response');
  assert.equal(classifyError('ERR_UPSTREAM_BROKE_OFF', fresh), 'reset-before-response');
  assert.equal(classifyError(undefined, fresh), 'reset-before-response');
  assert.equal(classifyError('UND_ERR_INVALID_ARG', fresh), 'unsendable');
  assert.equal(classifyError('ECONNRESET', { responded: true, clientGone: false }), 'reset-during-response');
  assert.equal(classifyError('ECONNRESET', { responded: false, clientGone: true }), 'client-gone');
  assert.equal(classifyError('ECONNREFUSED', { responded: false, clientGone: true }), 'client-gone');
});

void test('idempotent methods are those of RFC 9110', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])
    assert.equal(isIdempotent(m), true, m);
  for (const m of ['POST', 'PATCH', 'CONNECT']) assert.equal(isIdempotent(m), false, m);
});

void test("a request the engine will not send is nobody's failure: not retried, no upstream blamed", () => {
  const d = decideRetry(facts({ kind: 'unsendable' }), settings);
  assert.equal(d.retry, false);
  assert.match(d.reason, /no upstream/);
  assert.equal(marksDown('unsendable'), false);
  assert.equal(countsAsFailure('unsendable'), false);
});

void test("the balancer's own EMFILE, ENFILE, ENOBUFS or EADDRNOTAVAIL is its failure: 503, no upstream blamed", () => {
  for (const code of ['EMFILE', 'ENFILE', 'ENOBUFS', 'EADDRNOTAVAIL']) {
    const kind = classifyError(code, { responded: false, clientGone: false });
    assert.equal(kind, 'local-resource', code);
    assert.equal(marksDown(kind), false);
    assert.equal(countsAsFailure(kind), false);
    assert.equal(finalStatus(kind), 503);
    assert.equal(decideRetry(facts({ kind }), settings).retry, false);
  }
});

void test('an upstream that closes while the client is still sending its body is not blamed for it', () => {
  const kind = classifyError('ECONNRESET', { responded: false, clientGone: false, bodyPending: true });
  assert.equal(kind, 'awaiting-body');
  assert.equal(marksDown(kind), false);
  assert.equal(countsAsFailure(kind), false);
  // A refused connection is still the upstream's, body or not.
  assert.equal(
    classifyError('ECONNREFUSED', { responded: false, clientGone: false, bodyPending: true }),
    'connect-refused',
  );
});
