import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AttemptFailures,
  type AttemptHistory,
  type FailedAttempt,
  type NextStep,
} from '../../src/balancer/attempt-failure.js';
import type { BalancerConfig } from '../../src/balancer/config.js';
import { BalancerEvents } from '../../src/balancer/events.js';
import { Pool } from '../../src/balancer/pool.js';
import type { Upstream } from '../../src/balancer/upstream.js';
import { memoryLogger } from '../helpers/memory-logger.js';

const RETRY: BalancerConfig['retry'] = {
  enabled: true,
  maxAttempts: 0,
  budgetMs: 5000,
  onTimeout: false,
  maxBodyBytes: 100,
};

/** A pool of `count` upstreams (backend-1...), the step over it, and its clock at 1000 ms. */
function setup(count: number, retry: Partial<BalancerConfig['retry']> = {}) {
  const logger = memoryLogger();
  const pool = new Pool({ thresholds: { fall: 2, rise: 2 }, logger, events: new BalancerEvents() });
  const specs = Array.from({ length: count }, (_, i) => ({
    id: `127.0.0.1:${i + 1}`,
    name: `backend-${i + 1}`,
    host: '127.0.0.1',
    port: i + 1,
  }));
  pool.setMembers(specs, 'static', true);
  const upstreams = specs.map((s) => pool.get(s.id) as Upstream);
  let now = 1000;
  const step = new AttemptFailures(pool, { ...RETRY, ...retry }, logger, () => now);
  return { pool, logger, step, upstreams, advance: (ms: number) => (now += ms) };
}

function history(attempts = 1): AttemptHistory & { attempts: number } {
  return { started: 1000, attempts, tried: null, failures: null };
}

function failure(upstream: Upstream, over: Partial<FailedAttempt> = {}): FailedAttempt {
  return {
    upstream,
    kind: 'connect-refused',
    detail: 'connect ECONNREFUSED 127.0.0.1:1',
    request: 'GET /page.html',
    doing: 'proxying GET /page.html',
    method: 'GET',
    hasBody: false,
    body: null,
    responseStarted: false,
    ...over,
  };
}

/** The answer `next` asks for; fails the test when it asks for anything else. */
function answered(next: NextStep): Extract<NextStep, { step: 'answer' }> {
  assert.equal(next.step, 'answer');
  return next;
}

void test('a refused connection counts a failure, takes the upstream out and retries on another', () => {
  const { step, upstreams, logger } = setup(2);
  const [b1, b2] = upstreams as [Upstream, Upstream];
  const h = history();
  const next = step.next(h, failure(b1));
  assert.deepEqual(next, { step: 'retry', upstream: b2 });
  assert.equal(b1.failures, 1);
  assert.equal(b1.available, false);
  assert.equal(b1.reason, 'connection refused while proxying GET /page.html');
  assert.deepEqual(h.tried, [b1]);
  assert.deepEqual(h.failures, ['backend-1: connection refused']);
  const retry = logger.lines.find((l) => l.fields.event === 'retry');
  assert.equal(
    retry?.message,
    'GET /page.html: backend-1 failed (connection refused), retrying on backend-2',
  );
});

void test('a client that went away asks for nothing and is held against no upstream', () => {
  const { step, upstreams } = setup(2);
  const b1 = upstreams[0] as Upstream;
  const h = history();
  assert.deepEqual(step.next(h, failure(b1, { kind: 'client-gone' })), { step: 'drop' });
  assert.equal(b1.failures, 0);
  assert.equal(b1.available, true);
  assert.equal(h.tried, null);
  assert.equal(h.failures, null);
});

void test('an error after the request was sent is retried for GET and answered 502 for POST', () => {
  const { step, upstreams } = setup(2);
  const [b1, b2] = upstreams as [Upstream, Upstream];
  const reset = { kind: 'reset-before-response' as const };
  assert.deepEqual(step.next(history(), failure(b1, reset)), { step: 'retry', upstream: b2 });
  const post = answered(step.next(history(), failure(b2, { ...reset, method: 'POST' })));
  assert.equal(post.answer.status, 502);
  assert.equal(
    post.answer.reason,
    'the upstream failed; tried backend-2: connection reset before the response',
  );
  assert.match(post.why, /POST is not idempotent/);
});

void test('a response cut short is counted, marks the upstream down and cuts the client, never retried', () => {
  const { step, upstreams, logger } = setup(2);
  const b1 = upstreams[0] as Upstream;
  const h = history();
  const next = step.next(
    h,
    failure(b1, { kind: 'reset-during-response', detail: 'socket hang up', responseStarted: true }),
  );
  assert.deepEqual(next, { step: 'cut' });
  assert.equal(b1.failures, 1);
  assert.equal(b1.available, false);
  assert.deepEqual(h.tried, [b1]);
  const broke = logger.lines.find((l) => l.fields.event === 'upstream-broke');
  assert.equal(
    broke?.message,
    'GET /page.html: backend-1 broke off the response (socket hang up); connection to the client cut',
  );
});

void test('a response timeout is answered 504 and leaves the upstream in rotation', () => {
  const { step, upstreams } = setup(2);
  const b1 = upstreams[0] as Upstream;
  const next = answered(step.next(history(), failure(b1, { kind: 'response-timeout' })));
  assert.equal(next.answer.status, 504);
  assert.equal(
    next.answer.reason,
    'the upstream did not answer in time; tried backend-1: no response in time',
  );
  assert.match(next.why, /--retry-timeouts/);
  assert.equal(b1.failures, 1);
  assert.equal(b1.available, true);
});

void test('when every upstream has failed, the answer names each failure in order', () => {
  const { step, upstreams } = setup(2);
  const [b1, b2] = upstreams as [Upstream, Upstream];
  const h = history();
  assert.deepEqual(step.next(h, failure(b1)), { step: 'retry', upstream: b2 });
  h.attempts++;
  const last = answered(step.next(h, failure(b2, { kind: 'connect-timeout' })));
  assert.equal(last.answer.status, 504);
  assert.equal(
    last.answer.reason,
    'the upstream did not answer in time; tried backend-1: connection refused, backend-2: connect timeout',
  );
  assert.equal(last.why, '2 of 2 attempts made');
  assert.deepEqual(h.tried, [b1, b2]);
});

void test('a kept body is sent again after a refused connection only within --retry-body-bytes', () => {
  const { step, upstreams } = setup(3);
  const [b1, b2] = upstreams as [Upstream, Upstream];
  const post = { method: 'POST', hasBody: true };
  const small = step.next(history(), failure(b1, { ...post, body: { replayable: true, bytes: 100 } }));
  assert.deepEqual(small, { step: 'retry', upstream: b2 });
  const big = answered(
    step.next(history(), failure(b2, { ...post, body: { replayable: true, bytes: 101 } })),
  );
  assert.match(big.why, /too big/);
  const none = answered(step.next(history(), failure(b2, { ...post, body: null })));
  assert.match(none.why, /too big/);
});

void test('no retry once the retry budget is spent, counted on the clock from the request arrival', () => {
  const { step, upstreams, advance } = setup(2, { budgetMs: 300 });
  const b1 = upstreams[0] as Upstream;
  advance(299);
  assert.equal(step.next(history(), failure(b1)).step, 'retry');
  advance(1);
  const late = answered(step.next(history(), failure(b1)));
  assert.match(late.why, /budget of 300ms is spent/);
});

void test('an upstream that closed while the body was still arriving is not blamed, and the answer closes', () => {
  const { step, upstreams } = setup(2);
  const b1 = upstreams[0] as Upstream;
  const next = answered(
    step.next(history(), failure(b1, { kind: 'awaiting-body', method: 'POST', hasBody: true })),
  );
  assert.equal(next.answer.status, 502);
  assert.equal(next.answer.close, true);
  assert.equal(b1.failures, 0);
  assert.equal(b1.available, true);
});

void test('an upgrade is named as one in its retry line and in the reason its upstream was taken out', () => {
  const { step, upstreams, logger } = setup(2);
  const b1 = upstreams[0] as Upstream;
  const next = step.next(
    history(),
    failure(b1, { request: 'upgrade /ws/echo', doing: 'opening a tunnel for /ws/echo' }),
  );
  assert.equal(next.step, 'retry');
  assert.equal(b1.reason, 'connection refused while opening a tunnel for /ws/echo');
  assert.ok(
    logger.lines.some((l) => l.message.startsWith('upgrade /ws/echo: backend-1 failed (connection refused)')),
  );
});

void test('with --retry-timeouts a timed-out GET goes to an upstream not tried yet, though the first stays up', () => {
  const { step, upstreams } = setup(2, { onTimeout: true });
  const [b1, b2] = upstreams as [Upstream, Upstream];
  assert.deepEqual(step.next(history(), failure(b1, { kind: 'response-timeout' })), {
    step: 'retry',
    upstream: b2,
  });
  assert.equal(b1.available, true);
});
