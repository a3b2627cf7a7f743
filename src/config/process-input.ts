/**
 * The only place in the project that reads `process.env` and `process.argv`. Everything else gets
 * its settings from a parsed, validated config object.
 */
import os from 'node:os';
import type { RawInput } from './options.js';

export function processInput(): RawInput {
  return { argv: process.argv.slice(2), env: process.env };
}

/** A copy of the environment, for starting child processes (PM2 apps, test servers). */
export function processEnv(): Record<string, string | undefined> {
  return { ...process.env };
}

/**
 * Who runs this process, for the admin API's log line (`npm run lb`): the account's name, else
 * $USER, else "unknown" (a container can run under a uid with no entry in /etc/passwd).
 */
export function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
}

/** True when PM2 started this process (PM2 sets pm_id in its apps' environment). */
export function runningUnderPm2(): boolean {
  return process.env.pm_id !== undefined;
}

/**
 * Which instance of its app PM2 started this process as (NODE_APP_INSTANCE): 0 for the first, more
 * after `pm2 scale`; null outside PM2.
 */
export function pm2Instance(): number | null {
  const raw = process.env.NODE_APP_INSTANCE;
  return runningUnderPm2() && raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : null;
}

/**
 * A cluster worker's place, set by its primary in the environment: its number, the descriptors it
 * inherited (stdio slots after the IPC channel: the listening sockets and the shared zone), and
 * its row of in-flight counts in the zone. Null in a primary.
 */
export interface WorkerSlot {
  id: number;
  publicFd: number;
  redirectFd: number | null;
  zoneFd: number;
  row: number;
}

export const WORKER_ENV = {
  id: 'LB_WORKER_ID',
  publicFd: 'LB_PUBLIC_FD',
  redirectFd: 'LB_REDIRECT_FD',
  zoneFd: 'LB_ZONE_FD',
  row: 'LB_ZONE_ROW',
} as const;

export function workerSlot(): WorkerSlot | null {
  const whole = (name: string): number | null => {
    const raw = process.env[name];
    return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : null;
  };
  const id = whole(WORKER_ENV.id);
  const publicFd = whole(WORKER_ENV.publicFd);
  const zoneFd = whole(WORKER_ENV.zoneFd);
  const row = whole(WORKER_ENV.row);
  if (id === null || publicFd === null || zoneFd === null || row === null) return null;
  return { id, publicFd, redirectFd: whole(WORKER_ENV.redirectFd), zoneFd, row };
}

/** The socket holder's orders, as JSON (set by the primary that hands its sockets over). */
export const HOLDER_ENV = 'LB_HOLDER';

export function holderInput(): string | undefined {
  return process.env[HOLDER_ENV];
}

/** The log files PM2 writes this app's stdout and stderr to (null outside PM2). */
export function pm2LogFiles(): { out: string; err: string } | null {
  const out = process.env.pm_out_log_path;
  const err = process.env.pm_err_log_path;
  return runningUnderPm2() && out !== undefined && err !== undefined ? { out, err } : null;
}
