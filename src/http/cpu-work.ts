/**
 * The `/work?ms=N` computation: real CPU work (SHA-256 over a 4 KB block, chained so it cannot be
 * skipped) until N milliseconds have passed. It never sleeps, so it shows how a server's
 * concurrency model copes with CPU-bound requests.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export interface WorkResult {
  ms: number;
  elapsedMs: number;
  rounds: number;
  digest: string;
}

const BLOCK = Buffer.alloc(4096, 0x5a);

export function doCpuWork(ms: number): WorkResult {
  const start = performance.now();
  const end = start + ms;
  let digest: Buffer = BLOCK.subarray(0, 32);
  let rounds = 0;
  let now: number;
  do {
    digest = createHash('sha256').update(digest).update(BLOCK).digest();
    rounds++;
    now = performance.now();
  } while (now < end);
  return {
    ms,
    elapsedMs: Math.round((now - start) * 1000) / 1000,
    rounds,
    digest: digest.toString('hex', 0, 8),
  };
}
