/** Messages between the benchmark and its client processes (bench/worker.ts). */
import type { ClientMode, Expectation, RawRun } from './types.js';

export interface RunRequest {
  type: 'run';
  id: number;
  url: string;
  requests: number;
  concurrency: number;
  mode: ClientMode;
  expect: Expectation;
  timeoutMs: number;
  /** loadtest stops by itself after this long, whatever it has done. */
  deadlineMs: number;
}

export type ToWorker = RunRequest | { type: 'exit' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: number; done: number }
  | { type: 'result'; id: number; run: RawRun }
  | { type: 'error'; id: number; message: string };

export function isFromWorker(value: unknown): value is FromWorker {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}

export function isToWorker(value: unknown): value is ToWorker {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}
