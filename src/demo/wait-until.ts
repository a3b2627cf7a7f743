/**
 * Poll a check until it says nothing is left to wait for, the way the demo waits for the pool, a
 * reload or a replacement worker; on timeout the error names what was still missing.
 */
import { InternalError, errorMessage } from '../errors.js';

export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new InternalError('ERR_DEMO_INTERRUPTED', 'interrupted');
}

/**
 * `check` returns what is still missing, or null when the wait is over; a check that throws counts
 * as its message missing. Throws naming it after `timeoutMs`.
 */
export async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => Promise<string | null>,
  signal?: AbortSignal,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending: string | null = what;
  while (Date.now() < deadline) {
    throwIfInterrupted(signal);
    try {
      pending = await check();
    } catch (err) {
      pending = errorMessage(err);
    }
    if (pending === null) return;
    await pause(intervalMs);
  }
  throw new InternalError(
    'ERR_DEMO_TIMEOUT',
    `gave up after ${timeoutMs} ms waiting for ${what}: ${pending}`,
  );
}
