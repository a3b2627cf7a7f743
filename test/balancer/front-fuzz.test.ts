import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cutsFor,
  disagreement,
  mutate,
  random,
  SEEDS,
  show,
  splitDifference,
  sweep,
} from '../../bench/lib/front-fuzz.js';
import { readRequests } from '../../bench/lib/front-parse.js';
import { LlhttpReference } from '../../bench/lib/llhttp-reference.js';

/**
 * The h1 front's request parser (request-head.ts, chunked-body.ts) against llhttp, in process: a
 * bare node:http server on a loopback port is the reference. The seeds are read as llhttp reads
 * them however they are split, and so is every byte value at every place where a parser decides
 * something (the sweep); then a bounded fuzz run of mutated requests, each read whole and
 * in random pieces (which must agree), the first ones also put to llhttp (none accepted where
 * llhttp refuses, the same requests where both read them, and every other refusal a named extra
 * one). `npm run fuzz:front` runs the same for longer.
 */

/** The run's seed: a failure prints it, and bench/fuzz-front.ts takes it (`--seed`). */
const SEED = 0x5eed;
/** Mutations per run here (a few seconds: reading is in process). */
const FUZZ_CASES = 100_000;
/** Of those, how many are also put to llhttp over a socket (0.1 to 0.2 ms each, more when busy). */
const FUZZ_DIFFERENTIAL = 20_000;

void test('front parser: every seed is read as llhttp reads it, whole and cut at every byte', async (t) => {
  const reference = new LlhttpReference();
  await reference.start();
  t.after(() => reference.close());
  for (const seed of SEEDS) {
    const bytes = Buffer.from(seed, 'latin1');
    const whole = readRequests(bytes);
    assert.ok(whole.requests.length > 0, `nothing read from ${show(bytes)}: ${JSON.stringify(whole)}`);
    assert.equal(disagreement(whole, await reference.verdict(bytes)), undefined, show(bytes));
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.equal(
        splitDifference(whole, readRequests(bytes, [cut])),
        undefined,
        `${show(bytes)} cut at ${cut}`,
      );
    }
  }
});

void test('front parser: every byte value, at every place where the parser decides something, is read as llhttp reads it', async (t) => {
  const reference = new LlhttpReference();
  await reference.start();
  t.after(() => reference.close());
  let cases = 0;
  for (const bytes of sweep()) {
    cases++;
    const whole = readRequests(bytes);
    assert.equal(disagreement(whole, await reference.verdict(bytes)), undefined, show(bytes));
    const bytewise = readRequests(
      bytes,
      Array.from({ length: bytes.length }, (_, i) => i),
    );
    assert.equal(splitDifference(whole, bytewise), undefined, `${show(bytes)} fed byte by byte`);
  }
  assert.ok(cases > 5000, `${cases} cases`);
});

void test(`front parser: ${FUZZ_CASES} mutated requests read the same whole and in pieces, and the first ${FUZZ_DIFFERENTIAL} as llhttp reads them`, async (t) => {
  const reference = new LlhttpReference();
  await reference.start();
  t.after(() => reference.close());
  const rand = random(SEED);
  let accepted = 0;
  for (let i = 0; i < FUZZ_CASES; i++) {
    const bytes = mutate(rand);
    const whole = readRequests(bytes);
    const where = `case ${i} of seed ${SEED} (npm run fuzz:front -- --seed ${SEED}): ${show(bytes)}`;
    assert.equal(splitDifference(whole, readRequests(bytes, cutsFor(bytes.length, rand))), undefined, where);
    if (whole.requests.length > 0) accepted++;
    if (i < FUZZ_DIFFERENTIAL) {
      assert.equal(disagreement(whole, await reference.verdict(bytes)), undefined, where);
    }
  }
  // A generator that only ever produced garbage (or only valid input) would test little.
  assert.ok(
    accepted > FUZZ_CASES / 10 && accepted < FUZZ_CASES * 0.9,
    `${accepted} of ${FUZZ_CASES} read a request`,
  );
});
