/**
 * The options every fixed-rate (open-loop) load client of the benchmarks has: what to load, how
 * many requests a second, for how long, and the unmeasured warm-up first. Each client passes its
 * own defaults and adds its own options beside these.
 */
import { durationParser, intParser, parseString, type OptionSpec } from '../../src/config/options.js';

export function openLoopSpecs(defaults: {
  rate: number;
  durationMs: number;
  maxDurationMs: number;
  warmupMs: number;
  durationWords: string;
}) {
  return {
    url: {
      flag: 'url',
      description: 'What to load (one URL, GET, keep-alive)',
      default: 'http://127.0.0.1:44444/page.html',
      parse: parseString,
    } satisfies OptionSpec<string>,
    rate: {
      flag: 'rate',
      description: 'Requests per second, started on a fixed schedule whatever the answers do (open loop)',
      default: defaults.rate,
      parse: intParser(1, 20_000),
    } satisfies OptionSpec<number>,
    duration: {
      flag: 'duration',
      description: defaults.durationWords,
      default: defaults.durationMs,
      parse: durationParser(1000, defaults.maxDurationMs),
    } satisfies OptionSpec<number>,
    warmup: {
      flag: 'warmup',
      description: 'Unmeasured load first, at the same rate',
      default: defaults.warmupMs,
      parse: durationParser(0, 60_000),
    } satisfies OptionSpec<number>,
  };
}
