/**
 * The only place in the project that reads `process.env` and `process.argv`. Everything else gets
 * its settings from a parsed, validated config object.
 */
import type { RawInput } from './options.js';

export function processInput(): RawInput {
  return { argv: process.argv.slice(2), env: process.env };
}

/** A copy of the environment, for starting child processes (PM2 apps, test servers). */
export function processEnv(): Record<string, string | undefined> {
  return { ...process.env };
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
