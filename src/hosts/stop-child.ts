/**
 * Stop a child process as a supervisor would: a signal, then SIGKILL if it is still there after
 * `killAfterMs` (a process stuck in its clean stop is stopped all the same). Resolves once it exited.
 */
import type { ChildProcess } from 'node:child_process';

export async function stopChild(
  child: ChildProcess,
  killAfterMs: number,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}
