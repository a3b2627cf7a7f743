/** Options of the fixed-rate load client of the policies benchmark (bench/policy-load.ts). Pure. */
import { durationParser, intParser, parseString, type OptionSpec } from '../../src/config/options.js';
import { openLoopSpecs } from './open-loop-options.js';

export const policyLoadSpecs = {
  ...openLoopSpecs({
    rate: 480,
    durationMs: 10_000,
    maxDurationMs: 120_000,
    warmupMs: 2000,
    durationWords: 'Measured time (the requests counted: rate x duration)',
  }),
  drain: {
    flag: 'drain',
    description:
      'After the schedule, how long to wait for the answers still due; the rest count as unanswered',
    default: 15_000,
    parse: durationParser(0, 120_000),
  } satisfies OptionSpec<number>,
  connections: {
    flag: 'connections',
    description:
      'Keep-alive connections at most (requests beyond them wait in the client, timed all the same)',
    default: 400,
    parse: intParser(1, 4000),
  } satisfies OptionSpec<number>,
  bytes: {
    flag: 'bytes',
    description: 'Body length a good answer has (with status 200); 0 checks the status only',
    default: 0,
    parse: intParser(0),
  } satisfies OptionSpec<number>,
  slowName: {
    flag: 'slow-name',
    description: 'X-Served-By of the slow upstream, whose share of the answers is reported',
    default: 'slow',
    parse: parseString,
  } satisfies OptionSpec<string>,
};
