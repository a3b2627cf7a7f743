/** Options of the steady-load latency client (bench/latency-load.ts). Pure. */
import { durationParser, intParser, parseString, type OptionSpec } from '../../src/config/options.js';

export const latencyLoadSpecs = {
  url: {
    flag: 'url',
    description: 'What to load (one URL, GET, keep-alive)',
    default: 'http://127.0.0.1:44444/page.html',
    parse: parseString,
  } satisfies OptionSpec<string>,
  rate: {
    flag: 'rate',
    description: 'Requests per second, started on a fixed schedule whatever the answers do (open loop)',
    default: 500,
    parse: intParser(1, 20_000),
  } satisfies OptionSpec<number>,
  duration: {
    flag: 'duration',
    description: 'Measured time',
    default: 20_000,
    parse: durationParser(1000, 600_000),
  } satisfies OptionSpec<number>,
  warmup: {
    flag: 'warmup',
    description: 'Unmeasured load first, at the same rate',
    default: 3000,
    parse: durationParser(0, 60_000),
  } satisfies OptionSpec<number>,
  connections: {
    flag: 'connections',
    description: 'Keep-alive connections at most',
    default: 20,
    parse: intParser(1, 1000),
  } satisfies OptionSpec<number>,
  metricsUrl: {
    flag: 'metrics-url',
    description:
      "A /metrics to read every second during the run for the proxy's worst event-loop delay ('' for none)",
    default: '',
    parse: (raw: string) => raw,
  } satisfies OptionSpec<string>,
};
