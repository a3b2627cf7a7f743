/**
 * Reads the balancer's /__lb/status on a fixed beat while the demo runs. Readings never overlap
 * (the next is scheduled when the last one is done) and a failed reading is recorded, not thrown:
 * the status going dark is part of what the demo shows.
 */
import { errorMessage, InternalError } from '../errors.js';
import { describeOutcome, getWithDeadline } from '../net/http-get.js';
import { STATUS_PATH } from '../balancer/status.js';
import { parseLbStatus, type LbStatus } from './lb-status.js';
import type { PoolSample } from './types.js';

/** One GET of the status, with a timeout; rejects with the reason it could not be read. */
export async function readLbStatus(adminPort: number, timeoutMs: number): Promise<LbStatus> {
  const outcome = await getWithDeadline({ host: '127.0.0.1', port: adminPort, path: STATUS_PATH }, timeoutMs);
  if (outcome.kind !== 'answered' || outcome.status !== 200) {
    throw new InternalError('ERR_DEMO_STATUS', `no status: ${describeOutcome(outcome)}`);
  }
  return parseLbStatus(JSON.parse(outcome.body.toString('utf8')));
}

export interface StatusPoller {
  /** Stop reading; resolves once the reading in progress, if any, is recorded. */
  stop(): Promise<void>;
}

export function pollLbStatus(
  adminPort: number,
  intervalMs: number,
  clock: () => number,
  onSample: (sample: PoolSample) => void,
): StatusPoller {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const tick = (): void => {
    const startedAt = clock();
    current = readLbStatus(adminPort, Math.max(intervalMs * 5, 500)).then(
      (status) => onSample({ atMs: clock(), upstreams: status.upstreams }),
      (err: unknown) => onSample({ atMs: clock(), upstreams: null, error: errorMessage(err) }),
    );
    void current.then(() => {
      if (!stopped) timer = setTimeout(tick, Math.max(0, intervalMs - (clock() - startedAt)));
    });
  };
  tick();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
