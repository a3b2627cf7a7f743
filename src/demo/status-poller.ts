/**
 * Reads the balancer's /__lb/status on a fixed beat while the demo runs. Readings never overlap
 * (the next is scheduled when the last one is done) and a failed reading is recorded, not thrown:
 * the status going dark is part of what the demo shows.
 */
import http from 'node:http';
import { errorMessage } from '../errors.js';
import { parseLbStatus, type LbStatus } from './lb-status.js';
import type { PoolSample } from './types.js';

/** One GET of the status, with a timeout; rejects with the reason it could not be read. */
export function readLbStatus(adminPort: number, timeoutMs: number): Promise<LbStatus> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: adminPort, path: '/__lb/status', agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          try {
            if (res.statusCode !== 200) throw new Error(`status ${res.statusCode ?? '?'}`);
            resolve(parseLbStatus(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no status within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
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
