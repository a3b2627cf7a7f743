/** Options of the steady-load latency client (bench/latency-load.ts). Pure. */
import { intParser, type OptionSpec } from '../../src/config/options.js';
import { openLoopSpecs } from './open-loop-options.js';

export const latencyLoadSpecs = {
  ...openLoopSpecs({
    rate: 500,
    durationMs: 20_000,
    maxDurationMs: 600_000,
    warmupMs: 3000,
    durationWords: 'Measured time',
  }),
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
