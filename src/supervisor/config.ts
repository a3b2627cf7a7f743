/**
 * Settings of the door to PM2: where PM2 keeps its daemon (PM2_HOME) and which PM2 app this
 * process is (pm_id, restart_time, treekill). Pure except for the small readers at the bottom,
 * which go through process-input.ts.
 */
import os from 'node:os';
import path from 'node:path';
import { parseString, type OptionSpec } from '../config/options.js';
import { processEnv } from '../config/process-input.js';

/** PM2's own rule: PM2_HOME if set, else `~/.pm2`. */
export function pm2HomeFrom(env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env.PM2_HOME;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.join(os.homedir(), '.pm2');
}

/** The pm_id PM2 gave this process, or null when PM2 did not start it. */
export function pm2IdFrom(env: Readonly<Record<string, string | undefined>>): number | null {
  const raw = env.pm_id;
  if (raw === undefined || !/^\d+$/.test(raw)) return null;
  return Number(raw);
}

/**
 * How many restarts PM2 had counted for this app when it started this process (PM2 passes its
 * restart_time in the environment); 0 when PM2 did not start it.
 */
export function pm2RestartsFrom(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.restart_time;
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 0;
}

/**
 * Whether PM2 signals and waits for this process's whole tree on stop (its `treekill`, on unless
 * the app's config turns it off), or this process alone.
 */
export function pm2TreeKillFrom(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.treekill !== 'false';
}

export const pm2HomeOption = {
  flag: 'pm2-home',
  env: 'PM2_HOME',
  description: 'Folder of the PM2 daemon to talk to (its sockets, pid file and logs)',
  default: () => pm2HomeFrom({}),
  defaultText: '~/.pm2',
  parse: parseString,
} satisfies OptionSpec<string>;

/** This process's PM2_HOME (for code that is not an entry point, such as the PM2 discovery). */
export function currentPm2Home(): string {
  return pm2HomeFrom(processEnv());
}

/** This process's pm_id, or null outside PM2. */
export function currentPm2Id(): number | null {
  return pm2IdFrom(processEnv());
}

/** PM2's restart count for this app when it started this process. */
export function currentPm2Restarts(): number {
  return pm2RestartsFrom(processEnv());
}

/** Whether PM2 stops this process's whole tree (see pm2TreeKillFrom). */
export function currentPm2TreeKill(): boolean {
  return pm2TreeKillFrom(processEnv());
}
