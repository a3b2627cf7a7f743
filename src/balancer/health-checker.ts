/**
 * Active health checks: `GET <path>` on every upstream every interval, each on a new connection (as
 * HAProxy does, so a closed listener is noticed even while pooled connections still work), with a
 * timeout; none for an upstream in maintenance. Healthy is what --health-expect-status and
 * --health-expect-body say (health-expect.ts), any 2xx by default. This file only runs the timers and the requests; what a result means is the pool's and
 * the health state machine's business.
 */
import { performance } from 'node:perf_hooks';
import { describeOutcome, getWithDeadline } from '../net/http-get.js';
import { expectationProblem, type HealthExpectation } from './health-expect.js';
import type { Pool } from './pool.js';
import { isLocalResourceError } from './retry-policy.js';
import type { CheckResult, Upstream } from './upstream.js';

export interface HealthCheckSettings {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  expect: HealthExpectation;
}

export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Map<Upstream, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly settings: HealthCheckSettings,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Check every upstream once, then keep checking every interval. Resolves after the first round. */
  async start(): Promise<void> {
    this.stopped = false;
    const first = this.round();
    this.timer = setInterval(() => void this.round(), this.settings.intervalMs);
    this.timer.unref();
    await first;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Check one upstream now (PM2 says it came online); a check already running counts. */
  checkNow(upstream: Upstream): Promise<void> {
    return this.check(upstream);
  }

  /** One check of every member; resolves when all have answered or timed out. */
  round(): Promise<void> {
    return Promise.all(this.pool.members.map((u) => this.check(u))).then(() => undefined);
  }

  private check(upstream: Upstream): Promise<void> {
    // An operator put it in maintenance: nobody looks at it until it is made ready again.
    if (upstream.admin === 'maint') return Promise.resolve();
    const running = this.running.get(upstream);
    if (running !== undefined) return running;
    const done = this.probe(upstream).then((result) => {
      this.running.delete(upstream);
      if (!this.stopped) this.pool.recordCheck(upstream, { ...result, at: this.clock() });
    });
    this.running.set(upstream, done);
    return done;
  }

  private async probe(upstream: Upstream): Promise<Omit<CheckResult, 'at'>> {
    const { path, timeoutMs } = this.settings;
    const started = performance.now();
    // Read, not timed, on the request path: the count says whether it answered traffic meanwhile.
    const servedBefore = upstream.served;
    const outcome = await getWithDeadline(
      { host: upstream.host, port: upstream.port, path, headers: CHECK_HEADERS },
      timeoutMs,
    );
    const problem =
      outcome.kind === 'answered'
        ? expectationProblem(this.settings.expect, outcome.status, outcome.body)
        : describeOutcome(outcome);
    const ok = problem === undefined;
    return {
      ok,
      ms: performance.now() - started,
      error: problem ?? null,
      timedOut: outcome.kind === 'timeout',
      servedDuring: upstream.served - servedBefore,
      // Our own descriptors or ports ran out: says nothing about the upstream.
      local: outcome.kind === 'failed' && isLocalResourceError((outcome.error as NodeJS.ErrnoException).code),
    };
  }
}

const CHECK_HEADERS = { 'User-Agent': 'supervised-balancer health check', Connection: 'close' };
