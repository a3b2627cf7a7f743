import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concludeScenario, type Contender, type LevelInput } from '../../bench/lib/conclusion.js';
import { spreadOf } from '../../bench/lib/figures.js';

function contender(target: string, rps: number[], over: Partial<Contender> = {}): Contender {
  return {
    target,
    status: 'measured',
    rps: spreadOf(rps),
    p99Ms: 10,
    failed: 0,
    complete: 1000 * rps.length,
    failedText: 'none',
    clientBound: false,
    runs: rps.length,
    ...over,
  };
}

const level = (
  concurrency: number,
  contenders: Contender[],
  ceilingRps: number | null = 50_000,
): LevelInput => ({
  concurrency,
  ceilingRps,
  contenders,
});

void test('a lead whose slowest run beats the runner-up’s fastest is a clear win, with the margin', () => {
  const { verdicts } = concludeScenario('page', [
    level(10, [
      contender('async', [1000, 1010, 990]),
      contender('balancer', [1300, 1250, 1320]),
      contender('threaded', [400, 410, 390]),
    ]),
  ]);
  const v = verdicts[0];
  assert.equal(v?.kind, 'clear');
  assert.equal(v?.winner, 'balancer');
  assert.equal(v?.runnerUp, 'async');
  assert.ok(Math.abs((v?.margin ?? 0) - 0.3) < 1e-9);
  assert.match(v?.text ?? '', /balancer wins with 1,300 req\/s, 30\.0% more than async/);
});

void test('overlapping repeats are called within the spread, not a win', () => {
  const { verdicts, summary } = concludeScenario('page', [
    level(1, [contender('async', [1000, 900, 1100]), contender('threaded', [950, 1050, 1000])]),
  ]);
  assert.equal(verdicts[0]?.kind, 'within-spread');
  assert.match(verdicts[0]?.text ?? '', /within the run-to-run spread/);
  assert.match(summary, /within the run-to-run spread at c=1/);
});

void test('single runs say the spread is unknown', () => {
  const { verdicts } = concludeScenario('page', [
    level(5, [contender('async', [1000]), contender('threaded', [500])]),
  ]);
  assert.equal(verdicts[0]?.kind, 'single-run');
  assert.match(verdicts[0]?.text ?? '', /spread is unknown/);
});

void test('a client-bound leader is not a reliable ranking', () => {
  const { verdicts } = concludeScenario('page', [
    level(
      50,
      [
        contender('async', [9000, 9100, 8900], { clientBound: true }),
        contender('threaded', [3000, 3100, 2900]),
      ],
      10_000,
    ),
  ]);
  assert.equal(verdicts[0]?.kind, 'client-bound');
  assert.match(verdicts[0]?.text ?? '', /load client's own ceiling of 10,000 req\/s/);
});

void test('targets with failures or down are left out of the ranking and named in the notes', () => {
  const { verdicts, notes } = concludeScenario('page', [
    level(10, [
      contender('async', [5000, 5100, 4900], { failed: 3, failedText: 'reset 3' }),
      contender('threaded', [1000, 1010, 990]),
      contender('balancer', [], { status: 'down', rps: null, p99Ms: null, runs: 0, complete: 0 }),
    ]),
  ]);
  assert.equal(verdicts[0]?.kind, 'only-one');
  assert.equal(verdicts[0]?.winner, 'threaded');
  assert.match(verdicts[0]?.text ?? '', /only threaded can be ranked/);
  const alone = concludeScenario('page', [level(1, [contender('async', [10, 10, 10])])]).verdicts[0];
  assert.match(alone?.text ?? '', /async alone, 10 req\/s: nothing to compare it with/);
  assert.ok(notes.some((n) => /balancer was down/.test(n)));
  assert.ok(notes.some((n) => /async failed 3 of 3,000 requests \(reset 3\)/.test(n)));
});

void test('nobody ranked when every target failed, and the summary names each level', () => {
  const { verdicts, summary } = concludeScenario('custom', [
    level(1, [contender('async', [800, 810, 790], { failed: 3000, failedText: 'status 3000' })]),
    level(10, [contender('async', [1000, 1001, 999]), contender('threaded', [500, 501, 499])]),
  ]);
  assert.equal(verdicts[0]?.kind, 'none');
  assert.equal(verdicts[0]?.winner, null);
  assert.match(summary, /^custom: async wins clearly at c=10; no target ranked at c=1\./);
});

void test('the lowest p99 is reported per level', () => {
  const { verdicts } = concludeScenario('page', [
    level(10, [
      contender('async', [1000, 1000, 1000], { p99Ms: 4 }),
      contender('threaded', [900, 900, 900], { p99Ms: 2.5 }),
    ]),
  ]);
  assert.deepEqual(verdicts[0]?.lowestP99, { target: 'threaded', ms: 2.5 });
});
