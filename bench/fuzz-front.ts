/**
 * The longer fuzz run of the h1 front's request parser (the tests run a bounded one):
 * `npm run fuzz:front -- [--cases N] [--differential N] [--seed N]` (or CASES, DIFFERENTIAL,
 * SEED): first every byte value at every place where the parser decides something, put to
 * llhttp; then mutated requests (default 500,000) from a seed (default: the time), each read
 * whole and in random pieces, which must agree, the first 50,000 also put to llhttp over a
 * loopback socket. None may be accepted where llhttp refuses it, nor read differently where both
 * accept it. Stops at the first failure, printing the seed and the case so it can be run again.
 */
import { cutsFor, disagreement, mutate, random, show, splitDifference, sweep } from './lib/front-fuzz.js';
import { readRequests } from './lib/front-parse.js';
import { LlhttpReference } from './lib/llhttp-reference.js';
import { loadConfigOrExit } from '../src/config/load.js';
import { intParser, type OptionSpec } from '../src/config/options.js';

const options = loadConfigOrExit("npm run fuzz:front -- [options]: fuzz the h1 front's request parser", {
  cases: {
    flag: 'cases',
    env: 'CASES',
    description: 'Mutated requests to read',
    default: 500_000,
    parse: intParser(0),
  },
  differential: {
    flag: 'differential',
    env: 'DIFFERENTIAL',
    description: 'How many of them (the first ones) are also put to llhttp over a loopback socket',
    default: 50_000,
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
const reference = new LlhttpReference();
await reference.start();
const started = Date.now();
const fail = async (problem: string, bytes: Buffer): Promise<never> => {
  console.error(`${problem}\n  ${show(bytes)}`);
  await reference.close();
  process.exit(1);
};
// First every byte value at every place where the parser decides something (no seed needed).
let swept = 0;
for (const bytes of sweep()) {
  swept++;
  const problem = disagreement(readRequests(bytes), await reference.verdict(bytes));
  if (problem !== undefined) await fail(`FAILED in the sweep: ${problem}`, bytes);
}
let accepted = 0;
let requests = 0;
for (let i = 0; i < cases; i++) {
  const bytes = mutate(rand);
  const whole = readRequests(bytes);
  const split = splitDifference(whole, readRequests(bytes, cutsFor(bytes.length, rand)));
  const problem =
    split ?? (i < differential ? disagreement(whole, await reference.verdict(bytes)) : undefined);
  if (problem !== undefined) await fail(`FAILED at case ${i} of seed ${seed}: ${problem}`, bytes);
  if (whole.requests.length > 0) accepted++;
  requests += whole.requests.length;
}
await reference.close();
console.log(
  `${swept} bytes swept, then ${cases} cases from seed ${seed} (${differential} also against llhttp): ${accepted} with requests read ` +
    `(${requests} requests), ${cases - accepted} refused or incomplete, no disagreement; ` +
    `${((Date.now() - started) / 1000).toFixed(1)} s`,
);
