/**
 * PM2 announces nothing before it signals an app to stop: its `exit` event comes after the process
 * has gone, with its port already closed. So a server tells PM2's bus itself, the moment it gets
 * SIGINT/SIGTERM, and the PM2 discovery takes it out of rotation before it stops listening.
 *
 * The notice travels as `process.send({ type: 'process:msg', data: { event: 'stopping', ... } })`,
 * which PM2 forwards to every bus subscriber as a `process:msg` packet. This file does not import
 * pm2, so servers can use it.
 */
import { runningUnderPm2 } from '../config/process-input.js';

export interface StoppingNotice {
  event: 'stopping';
  /** The signal that started the stop (SIGINT from PM2). */
  signal: string;
}

export function isStoppingNotice(data: unknown): data is StoppingNotice {
  return typeof data === 'object' && data !== null && (data as { event?: unknown }).event === 'stopping';
}

/**
 * Call first thing in a SIGINT/SIGTERM handler. Does nothing outside PM2 (a test harness that
 * forks the server with an IPC channel gets no stray messages).
 */
export function announceStopping(signal: string): void {
  if (!runningUnderPm2() || typeof process.send !== 'function' || !process.connected) return;
  const notice: StoppingNotice = { event: 'stopping', signal };
  try {
    process.send({ type: 'process:msg', data: notice });
  } catch {
    // The daemon is gone; nobody is listening.
  }
}
