/**
 * A benchmark run as the load client reports it, for the tests of what the bench computes from one:
 * 1000 requests at concurrency 10 from one client, all answered 200, over two seconds.
 */
import { histogramOf } from '../../bench/lib/histogram.js';
import { emptyFailures, type RawRun } from '../../bench/lib/types.js';

/** `over` replaces any part; the latencies are 1000 values from 1 ms up, 10 µs apart. */
export function rawRun(over: Partial<RawRun> = {}): RawRun {
  return {
    startedAtMs: 1000,
    endedAtMs: 3000,
    requested: 1000,
    concurrency: 10,
    clients: 1,
    ok: 1000,
    failed: emptyFailures(),
    statusCodes: { '200': 1000 },
    wireBytes: 2_048_000,
    bodyBytes: 2_000_000,
    latency: histogramOf(Array.from({ length: 1000 }, (_, i) => 1000 + i * 10)),
    loadtest: [],
    ...over,
  };
}
