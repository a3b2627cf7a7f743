import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyMatches, captureLimit, describeBodyCheck, learnBodyCheck } from '../../bench/lib/body-check.js';
import { trialRequests } from '../../bench/lib/client-ceiling.js';
import { chooseMode, loadtestOptions, modesFor, splitLoad } from '../../bench/lib/client-modes.js';
import { parseAbOutput, parseWrkOutput } from '../../bench/lib/external-tools.js';
import { customScenario, scenariosFor } from '../../bench/lib/scenarios.js';

void test('load is split over client processes without losing a request or a connection', () => {
  assert.deepEqual(splitLoad(1000, 10, 1), [{ requests: 1000, concurrency: 10 }]);
  assert.deepEqual(splitLoad(1000, 10, 2), [
    { requests: 500, concurrency: 5 },
    { requests: 500, concurrency: 5 },
  ]);
  assert.deepEqual(splitLoad(1000, 1, 4), [{ requests: 1000, concurrency: 1 }], 'c=1 cannot be shared');
  for (const [n, c, k] of [
    [1000, 15, 2],
    [999, 100, 3],
    [7, 5, 4],
    [1000, 50, 8],
  ] as const) {
    const shares = splitLoad(n, c, k);
    assert.equal(
      shares.reduce((s, x) => s + x.requests, 0),
      n,
      `${n}/${c}/${k} requests`,
    );
    assert.equal(
      shares.reduce((s, x) => s + x.concurrency, 0),
      c,
      `${n}/${c}/${k} concurrency`,
    );
    assert.ok(
      shares.every((x) => x.concurrency >= 1 && x.requests >= x.concurrency),
      JSON.stringify(shares),
    );
  }
});

void test('the fastest correct mode that fits the keep-alive setting is chosen', () => {
  const trials = [
    { mode: 'default' as const, rps: 3000, correct: true, eligible: false },
    { mode: 'keepalive' as const, rps: 11_000, correct: true, eligible: true },
    { mode: 'tcp' as const, rps: 35_000, correct: true, eligible: true },
  ];
  assert.equal(chooseMode(trials, 'auto', true).mode, 'tcp');
  const tcpWrong = trials.map((t) => (t.mode === 'tcp' ? { ...t, correct: false } : t));
  assert.equal(chooseMode(tcpWrong, 'auto', true).mode, 'keepalive');
  assert.deepEqual(chooseMode(trials, 'keepalive', true), {
    mode: 'keepalive',
    reason: 'forced with --client-mode',
  });
  const noneCorrect = trials.map((t) => ({ ...t, correct: false }));
  assert.match(chooseMode(noneCorrect, 'auto', false).reason, /fell back to default/);
  assert.deepEqual(modesFor(true), ['keepalive', 'tcp']);
  assert.deepEqual(modesFor(false), ['default']);
});

void test('each mode maps to its loadtest option, always quiet and bounded', () => {
  const base = loadtestOptions('default', 'http://127.0.0.1:1/x', 100, 5, 30_000);
  assert.deepEqual(base, {
    url: 'http://127.0.0.1:1/x',
    concurrency: 5,
    maxRequests: 100,
    maxSeconds: 30,
    quiet: true,
  });
  assert.equal(loadtestOptions('keepalive', 'http://h/', 1, 1, 1000).agentKeepAlive, true);
  assert.equal(loadtestOptions('tcp', 'http://h/', 1, 1, 1000).tcp, true);
});

void test('a body check is learned from a sample: JSON by shape, anything else by length', () => {
  const json = learnBodyCheck(Buffer.from('{"ms":5,"elapsedMs":5.013,"rounds":120,"digest":"ab12"}'));
  assert.deepEqual(json, {
    kind: 'json-shape',
    fields: { ms: 'number', elapsedMs: 'number', rounds: 'number', digest: 'string' },
  });
  const array = Buffer.from('[5, 5.1, 99999, "ffff0000"]');
  assert.equal(bodyMatches(json, array.length, array), false);
  const other = Buffer.from('{"ms":5,"elapsedMs":5.1,"rounds":99999,"digest":"ffff0000"}');
  assert.equal(bodyMatches(json, other.length, other), true);
  const missing = Buffer.from('{"ms":5,"elapsedMs":5.1,"rounds":99999}');
  assert.equal(bodyMatches(json, missing.length, missing), false);
  assert.equal(bodyMatches(json, 10, undefined), false, 'a JSON check needs the body');
  assert.equal(captureLimit(json) > 0, true);
  assert.deepEqual(learnBodyCheck(Buffer.from('<html>hi</html>')), { kind: 'length', bytes: 15 });
  assert.equal(bodyMatches({ kind: 'length', bytes: 15 }, 14, undefined), false);
  assert.equal(bodyMatches({ kind: 'none' }, 0, undefined), true);
  assert.equal(captureLimit({ kind: 'length', bytes: 1 }), 0);
  assert.equal(describeBodyCheck({ kind: 'length', bytes: 2173 }), 'exactly 2173 bytes');
});

void test('scenarios name their path and file; a custom path maps into public/ only when safe', () => {
  assert.deepEqual(
    scenariosFor(['page', 'cpu'], null).map((s) => [s.path, s.file]),
    [
      ['/page.html', 'page.html'],
      ['/work?ms=5', null],
    ],
  );
  assert.equal(customScenario('/images/a%20b.jpg').file, 'images/a b.jpg');
  assert.equal(customScenario('/../etc/passwd').file, null);
  assert.equal(customScenario('/x?y=1').file, null);
  assert.equal(scenariosFor(['page'], '/nope.html')[0]?.name, 'custom');
});

const AB_OUTPUT = `Server Hostname:        127.0.0.1
Concurrency Level:      5
Time taken for tests:   0.098 seconds
Complete requests:      200
Failed requests:        12
   (Connect: 0, Receive: 0, Length: 12, Exceptions: 0)
Non-2xx responses:      200
Keep-Alive requests:    200
Total transferred:      33200 bytes
HTML transferred:       2000 bytes
Requests per second:    2042.65 [#/sec] (mean)
`;

void test("ab's and wrk's outputs are read, including the failures they report", () => {
  assert.deepEqual(parseAbOutput(AB_OUTPUT), {
    rps: 2042.65,
    complete: 200,
    failed: 12,
    non2xx: 200,
    timeTakenS: 0.098,
    totalTransferred: 33200,
    failedDetail: '(Connect: 0, Receive: 0, Length: 12, Exceptions: 0)',
  });
  assert.equal(parseAbOutput('apr_socket_recv: Connection refused (111)'), null);
  const wrk = `Running 3s test @ http://127.0.0.1:1/bytes/13
  37250 requests in 3.04s, 6.25MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  12251.58
Transfer/sec:      2.06MB`;
  assert.deepEqual(parseWrkOutput(wrk), { rps: 12251.58, requests: 37250, errors: 7 });
  assert.equal(parseWrkOutput('unable to connect'), null);
});

void test('mode trials move a bounded number of bytes and fewer fresh connections', () => {
  assert.equal(trialRequests(20_000, 13, 'tcp'), 20_000);
  assert.equal(trialRequests(20_000, 13, 'default'), 5000);
  assert.equal(trialRequests(20_000, 72_751, 'keepalive'), 3689);
  assert.equal(trialRequests(20_000, 1_048_576, 'tcp'), 256);
  assert.equal(trialRequests(20, 1_048_576, 'tcp'), 20, 'never more than asked for');
  assert.equal(trialRequests(4, 13, 'tcp'), 10, 'at least one request per connection');
});
