/** Options of the slow upstream of the policies benchmark (bench/slow-server.ts). Pure. */
import { intParser, parsePort, parseString, type OptionSpec } from '../../src/config/options.js';

export const slowServerSpecs = {
  port: {
    flag: 'port',
    description: 'Port to listen on (127.0.0.1 only); 0 picks a free one',
    default: 0,
    parse: parsePort,
  } satisfies OptionSpec<number>,
  delayMs: {
    flag: 'delay-ms',
    description: 'Time each GET of the page holds one of the slots before it is answered',
    default: 20,
    parse: intParser(0, 10_000),
  } satisfies OptionSpec<number>,
  concurrency: {
    flag: 'concurrency',
    description: 'Slots: requests served at once; more wait their turn, first come first served',
    default: 2,
    parse: intParser(1, 10_000),
  } satisfies OptionSpec<number>,
  name: {
    flag: 'name',
    description: 'Name in X-Served-By, so a client can count the answers this server gave',
    default: 'slow',
    parse: parseString,
  } satisfies OptionSpec<string>,
  file: {
    flag: 'file',
    description: 'The file served at /page.html, read once at start (the backends serve the same one)',
    default: 'public/page.html',
    parse: parseString,
  } satisfies OptionSpec<string>,
};
