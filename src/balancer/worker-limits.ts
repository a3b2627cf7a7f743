/**
 * The memory limit of a request-path worker (`--worker-max-memory`), what PM2's
 * `max_memory_restart` is to the primary: a worker whose resident memory is above it is replaced
 * the zero-downtime way (a new one first, then the old one drains). Under PM2 the default comes
 * from the balancer app's `max_memory_restart` (ecosystem.config.cjs passes it as
 * WORKER_MAX_MEMORY); elsewhere there is no limit. Pure: the option, its parser, the verdict.
 */
import type { OptionSpec } from '../config/options.js';

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** PM2's notation: `384M`, `1G`, `512K`, or bytes; 0 turns the limit off. */
export function parseMemorySize(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)B?$/i.exec(raw.trim());
  if (m === null) throw new Error(`"${raw}" is not a size (384M, 1G, 512K or bytes; 0 for no limit)`);
  const bytes = Math.round(Number(m[1]) * (UNITS[(m[2] ?? '').toUpperCase()] ?? 1));
  if (bytes !== 0 && bytes < 16 * 1024 ** 2) {
    throw new Error(`${raw} is below 16M: a worker needs more than that to start`);
  }
  return bytes;
}

export const workerLimitSpecs = {
  workerMaxMemory: {
    flag: 'worker-max-memory',
    env: 'WORKER_MAX_MEMORY',
    description:
      "A worker whose resident memory is above this is replaced without downtime (a new one first, then the old one drains); 0: no limit. Under PM2: the balancer app's max_memory_restart",
    default: 0,
    defaultText: 'none (under PM2: max_memory_restart)',
    parse: parseMemorySize,
  } satisfies OptionSpec<number>,
};

/**
 * A worker is replaced for its memory only once it has been ready this long: a limit below what a
 * fresh worker needs would otherwise replace workers in a loop.
 */
export const MIN_WORKER_AGE_MS = 5000;

/** Whether a worker reporting `rssBytes` at `ageMs` old is to be replaced under `limitBytes`. */
export function overMemoryLimit(rssBytes: number, limitBytes: number, ageMs: number): boolean {
  return limitBytes > 0 && rssBytes > limitBytes && ageMs >= MIN_WORKER_AGE_MS;
}
