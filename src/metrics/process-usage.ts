/**
 * This process's resident memory and CPU share, as a worker reports them to its primary (PM2
 * measures the primary's pid alone, so the workers' figures come from here). CPU is the share of
 * one core used since the previous sample (100 = one core busy), measured over at least
 * MIN_SPAN_MS so a report asked for right after another does not divide by almost nothing.
 */
import { performance } from 'node:perf_hooks';

export interface ProcessUsage {
  rssBytes: number;
  /** Percent of one core since the previous sample. */
  cpuPercent: number;
}

const MIN_SPAN_MS = 200;

export class UsageSampler {
  private lastCpuUs: number;
  private lastAt: number;
  private percent = 0;

  constructor(
    private readonly cpuUs: () => number = () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    },
    private readonly now: () => number = () => performance.now(),
    private readonly rss: () => number = () => process.memoryUsage.rss(),
  ) {
    this.lastCpuUs = this.cpuUs();
    this.lastAt = this.now();
  }

  sample(): ProcessUsage {
    const at = this.now();
    const spanMs = at - this.lastAt;
    if (spanMs >= MIN_SPAN_MS) {
      const cpu = this.cpuUs();
      this.percent = Math.round(((cpu - this.lastCpuUs) / 1000 / spanMs) * 1000) / 10;
      this.lastCpuUs = cpu;
      this.lastAt = at;
    }
    return { rssBytes: this.rss(), cpuPercent: this.percent };
  }
}
