/**
 * The longer fuzz run of the h1 engine's response parser (the tests run a bounded one):
 * `npm run fuzz:h1 -- [--cases N] [--differential N] [--seed N]` (or CASES, DIFFERENTIAL, SEED):
 * mutated responses (default 200,000) from a seed (default: the time), of which the first 5,000
 * are also put to llhttp over a loopback socket. Each case is
 * parsed whole and in random pieces, which must agree; none may be accepted where llhttp refuses
 * it. Stops at the first failure, printing the seed and the case so it can be run again.
 */
import {
  cutsFor,
  disagreement,
  llhttpVerdict,
  mutate,
  parseWhole,
  random,
  splitDifference,
} from './lib/h1-fuzz.js';
import { loadConfigOrExit } from '../src/config/load.js';
import { intParser, type OptionSpec } from '../src/config/options.js';

const options = loadConfigOrExit('npm run fuzz:h1 -- [options]: fuzz the h1 response parser', {
  cases: {
    flag: 'cases',
    env: 'CASES',
    description: 'Mutated responses to parse',
    default: 200_000,
    parse: intParser(0),
  },
  differential: {
    flag: 'differential',
    env: 'DIFFERENTIAL',
    description: 'How many of them (the first ones) are also put to llhttp over a loopback socket',
    default: 5_000,
    parse: intParser(0),
  },
  seed: {
    flag: 'seed',
    env: 'SEED',
    description: 'Seed of the random mutations (a failure prints it, to run the same cases again)',
    default: () => Date.now() % 2 ** 31,
    defaultText: 'the time',
    parse: intParser(0, 2 ** 31 - 1),
  },
} satisfies Record<string, OptionSpec<number>>);

const { cases, seed } = options;
const differential = Math.min(cases, options.differential);
const rand = random(seed);
const started = Date.now();
let accepted = 0;
for (let i = 0; i < cases; i++) {
  const bytes = mutate(rand);
  const text = JSON.stringify(bytes.toString('latin1'));
  const whole = parseWhole(bytes);
  const split = splitDifference(whole, parseWhole(bytes, 'GET', cutsFor(bytes.length, rand)));
  const problem = split ?? (i < differential ? disagreement(whole, await llhttpVerdict(bytes)) : undefined);
  if (problem !== undefined) {
    console.error(`FAILED at case ${i} of seed ${seed}: ${problem}\n  ${text}`);
    process.exit(1);
  }
  if (whole.ok) accepted++;
}
console.log(
  `${cases} cases from seed ${seed} (${differential} also against llhttp): ${accepted} accepted, ` +
    `${cases - accepted} refused, no disagreement; ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
