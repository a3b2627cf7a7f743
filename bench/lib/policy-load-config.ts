/** Options of the fixed-rate load client of the policies benchmark (bench/policy-load.ts). Pure. */
import { durationParser, intParser, parseString, type OptionSpec } from '../../src/config/options.js';

export const policyLoadSpecs = {
  url: {
    flag: 'url',
    description: 'What to load (one URL, GET, keep-alive)',
    default: 'http://127.0.0.1:44444/page.html',
    parse: parseString,
  } satisfies OptionSpec<string>,
  rate: {
    flag: 'rate',
    description: 'Requests per second, started on a fixed schedule whatever the answers do (open loop)',
    default: 480,
    parse: intParser(1, 20_000),
  } satisfies OptionSpec<number>,
  duration: {
    flag: 'duration',
    description: 'Measured time (the requests counted: rate x duration)',
    default: 10_000,
    parse: durationParser(1000, 120_000),
  } satisfies OptionSpec<number>,
  warmup: {
    flag: 'warmup',
    description: 'Unmeasured load first, at the same rate',
    default: 2000,
    parse: durationParser(0, 60_000),
  } satisfies OptionSpec<number>,
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
