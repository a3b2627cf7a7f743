/**
 * The longer fuzz run of the h1 engine's response parser (the tests run a bounded one):
 * `npm run fuzz:h1`, with CASES mutated responses (default 200,000) from SEED (default: the time),
 * of which DIFFERENTIAL (default 5,000) are also put to llhttp over a loopback socket. Each case is
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

function count(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`${name} must be a whole number, not ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

const cases = count('CASES', 200_000);
const differential = Math.min(cases, count('DIFFERENTIAL', 5_000));
const seed = count('SEED', Date.now() % 2 ** 31);
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
