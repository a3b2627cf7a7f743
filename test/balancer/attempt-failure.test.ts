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
function setup(count = 2, retry: Partial<BalancerConfig['retry']> = {}) {
  const logger = memoryLogger();
  const pool = new Pool({ thresholds: { fall: 2, rise: 2 }, logger, events: new BalancerEvents() });
  const specs = Array.from({ length: count }, (_, i) => ({
    id: `127.0.0.1:${i + 1}`,
    name: `backend-${i + 1}`,
    host: '127.0.0.1',
    port: i + 1,
  }));
  pool.setMembers(specs, 'static', true);
  const [b1, b2] = pool.members;
  assert.ok(b1 !== undefined && b2 !== undefined);
  let now = 1000;
  const step = new AttemptFailures(pool, { ...RETRY, ...retry }, logger, () => now);
  /** The message of the first line logged with `event`. */
  const logged = (event: string) => logger.lines.find((l) => l.fields.event === event)?.message;
  return { step, b1, b2, logged, advance: (ms: number) => (now += ms) };
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
  const { step, b1, b2, logged } = setup();
  const h = history();
  assert.deepEqual(step.next(h, failure(b1)), { step: 'retry', upstream: b2 });
  assert.equal(b1.failures, 1);
  assert.equal(b1.available, false);
  assert.equal(b1.reason, 'connection refused while proxying GET /page.html');
  assert.deepEqual(h.tried, [b1]);
  assert.deepEqual(h.failures, ['backend-1: connection refused']);
  assert.equal(
    logged('retry'),
    'GET /page.html: backend-1 failed (connection refused), retrying on backend-2',
  );
});

void test('a client that went away asks for nothing and is held against no upstream', () => {
  const { step, b1 } = setup();
  const h = history();
  assert.deepEqual(step.next(h, failure(b1, { kind: 'client-gone' })), { step: 'drop' });
  assert.equal(b1.failures, 0);
  assert.equal(b1.available, true);
  assert.equal(h.tried, null);
  assert.equal(h.failures, null);
});

void test('an error after the request was sent is retried for GET and answered 502 for POST', () => {
  const { step, b1, b2 } = setup();
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
  const { step, b1, logged } = setup();
  const h = history();
  const cut = { kind: 'reset-during-response', detail: 'socket hang up', responseStarted: true } as const;
  assert.deepEqual(step.next(h, failure(b1, cut)), { step: 'cut' });
  assert.deepEqual([b1.failures, b1.available, h.tried], [1, false, [b1]]);
  assert.equal(
    logged('upstream-broke'),
    'GET /page.html: backend-1 broke off the response (socket hang up); connection to the client cut',
  );
  assert.equal(logged('retry'), undefined);
});

void test('a response timeout is answered 504 and leaves the upstream in rotation', () => {
  const { step, b1 } = setup();
  const timedOut = answered(step.next(history(), failure(b1, { kind: 'response-timeout' })));
  assert.deepEqual(timedOut.answer, {
    status: 504,
    reason: 'the upstream did not answer in time; tried backend-1: no response in time',
    close: false,
  });
  assert.match(timedOut.why, /--retry-timeouts/);
  assert.deepEqual([b1.failures, b1.available], [1, true]);
});

void test('when every upstream has failed, the answer names each failure in order', () => {
  const { step, b1, b2 } = setup();
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
  const { step, b1, b2 } = setup(3);
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
  const { step, b1, advance } = setup(2, { budgetMs: 300 });
  advance(299);
  assert.equal(step.next(history(), failure(b1)).step, 'retry');
  advance(1);
  const late = answered(step.next(history(), failure(b1)));
  assert.match(late.why, /budget of 300ms is spent/);
});

void test('an upstream that closed while the body was still arriving is not blamed, and the answer closes', () => {
  const { step, b1 } = setup();
  const awaiting = { kind: 'awaiting-body', method: 'POST', hasBody: true } as const;
  const { answer } = answered(step.next(history(), failure(b1, awaiting)));
  assert.equal(answer.status, 502);
  assert.equal(answer.close, true);
  assert.equal(b1.failures, 0);
  assert.equal(b1.available, true);
});

void test('an upgrade is named as one in its retry line and in the reason its upstream was taken out', () => {
  const { step, b1, logged } = setup();
  const upgrade = { request: 'upgrade /ws/echo', doing: 'opening a tunnel for /ws/echo' };
  assert.equal(step.next(history(), failure(b1, upgrade)).step, 'retry');
  assert.equal(b1.reason, 'connection refused while opening a tunnel for /ws/echo');
  assert.match(logged('retry') ?? '', /^upgrade \/ws\/echo: backend-1 failed \(connection refused\)/);
});

void test('with --retry-timeouts a timed-out GET goes to an upstream not tried yet, though the first stays up', () => {
  const { step, b1, b2 } = setup(2, { onTimeout: true });
  const next = step.next(history(), failure(b1, { kind: 'response-timeout' }));
  assert.deepEqual(next, { step: 'retry', upstream: b2 });
  assert.equal(b1.available, true);
});
