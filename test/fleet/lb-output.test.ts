/**
 * What `npm run lb` prints and how it reads the balancer's answers, without a socket: the status
 * table, the line after a change, and each way a request can go wrong turned into its error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readBalancerStatus } from '../../src/balancer/status-reader.js';
import { AdminApiError } from '../../src/errors.js';
import { readAnswer } from '../../src/fleet/lb-client.js';
import { formatUpstreamLine, formatUpstreamTable } from '../../src/fleet/lb-table.js';
import type { GetOutcome } from '../../src/net/http-get.js';
import { statusDocument } from '../helpers/status-document.js';

/** b1 up, b2 down, b3 up but drained by an operator, weighed 3, busy. */
function pool() {
  const status = readBalancerStatus(statusDocument(3, ['b2']));
  const b3 = status.upstreams[2];
  assert.ok(b3 !== undefined);
  Object.assign(b3, {
    admin: 'drain',
    available: false,
    weight: 3,
    inFlight: 2,
    served: 12_345,
    failures: 1,
  });
  status.pool.available = 1;
  return status;
}

void test('status: the balancer and its policy, then one row per upstream', () => {
  assert.equal(
    formatUpstreamTable(pool()),
    [
      'balancer (pid 1): policy round-robin, 1 of 3 upstreams in rotation',
      '',
      '| name | address     | state   | admin | weight | in flight | served | failures |',
      '| ---- | ----------- | ------- | ----- | -----: | --------: | -----: | -------: |',
      '| b1   | 127.0.0.1:1 | up      | ready |      1 |         0 |      0 |        0 |',
      '| b2   | 127.0.0.1:2 | down    | ready |      1 |         0 |      0 |        2 |',
      '| b3   | 127.0.0.1:3 | up, out | drain |      3 |         2 | 12,345 |        1 |',
      '',
    ].join('\n'),
  );
  const empty = readBalancerStatus(statusDocument(0));
  assert.equal(
    formatUpstreamTable(empty),
    'balancer (pid 1): policy round-robin, 0 of 0 upstreams in rotation; the pool is empty.\n',
  );
});

void test('a change: one line with what the upstream now is', () => {
  const [b1, , b3] = pool().upstreams;
  assert.ok(b1 !== undefined && b3 !== undefined);
  assert.equal(
    formatUpstreamLine(b3),
    'b3 (127.0.0.1:3): drain (no new requests; those in flight finish), weight 3, up, out of rotation, 2 in flight',
  );
  assert.equal(
    formatUpstreamLine(b1),
    'b1 (127.0.0.1:1): ready (in rotation when its health allows), weight 1, up, in rotation, 0 in flight',
  );
});

const target = { host: '127.0.0.1', port: 44445 };
const answered = (status: number, body: string): GetOutcome => ({
  kind: 'answered',
  status,
  headers: {},
  body: Buffer.from(body),
});

function failure(outcome: GetOutcome): AdminApiError {
  try {
    readAnswer(outcome, target);
  } catch (err) {
    assert.ok(err instanceof AdminApiError, `an AdminApiError, not ${String(err)}`);
    return err;
  }
  assert.fail('the outcome was read as a success');
}

void test("the balancer's answers: a 200 is its JSON, anything else an error saying what to do", () => {
  assert.deepEqual(readAnswer(answered(200, '{"name":"b1"}'), target), { name: 'b1' });

  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:44445'), { code: 'ECONNREFUSED' });
  const down = failure({ kind: 'failed', error: refused });
  assert.equal(down.code, 'ERR_ADMIN_NOT_RUNNING');
  assert.match(down.message, /^no balancer answers on http:\/\/127\.0\.0\.1:44445 \(connection refused\)/);
  assert.match(down.message, /`npm start`/);

  const unknown = failure(
    answered(
      404,
      JSON.stringify({ error: 'no upstream named "x"; the pool has b1, b2', upstreams: ['b1', 'b2'] }),
    ),
  );
  assert.equal(unknown.code, 'ERR_ADMIN_REFUSED');
  assert.equal(
    unknown.message,
    'the balancer at http://127.0.0.1:44445 refused (404): no upstream named "x"; the pool has b1, b2',
  );
  assert.match(
    failure(answered(401, '{"error":"a valid Authorization: Bearer <token> is required"}')).message,
    /\(401\): a valid Authorization/,
  );
  assert.match(failure(answered(502, 'Bad Gateway\nmore')).message, /refused \(502\): Bad Gateway$/);

  const slow = failure({ kind: 'timeout', timeoutMs: 5000 });
  assert.equal(slow.code, 'ERR_ADMIN_NO_ANSWER');
  assert.match(slow.message, /did not answer within 5000 ms/);
  const reset = failure({
    kind: 'failed',
    error: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
  });
  assert.equal(reset.code, 'ERR_ADMIN_NO_ANSWER');
  assert.equal(failure(answered(200, '<html>')).code, 'ERR_ADMIN_ANSWER');
});
