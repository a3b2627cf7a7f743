/**
 * The demo's schedule: `TIME:ACTION:APP` entries (`5s:restart:backend-9003`, `7s:reload:balancer`),
 * parsed one by one as the option parser collects them, then checked as a whole so a schedule that
 * cannot run as written (a start of an app nothing stopped, a kill of a stopped app, a reload of the
 * fleet with an app stopped, an action after the load ends) is refused before anything is touched.
 */
import { parseDurationMs } from '../config/options.js';
import {
  BALANCER_APP,
  BALANCER_WORKER,
  DEMO_ACTIONS,
  WHOLE_FLEET,
  type DemoActionKind,
  type ScheduledAction,
} from './types.js';

/** The schedule with a balancer reload, in the form `--at` takes. */
export const DEFAULT_SCHEDULE_TEXT =
  '5s:restart:backend-9003 7s:reload:balancer 9s:kill:backend-9004 13s:stop:backend-9005 16s:start:backend-9005';

const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** One `--at` value. Throws an Error whose message says what is wrong. */
export function parseScheduleEntry(raw: string): ScheduledAction {
  const parts = raw.trim().split(':');
  if (parts.length !== 3) {
    throw new Error(`"${raw}" is not TIME:ACTION:APP (example: 5s:restart:backend-9003)`);
  }
  const [time = '', action = '', app = ''] = parts;
  // A bare number would be read as milliseconds, which nobody means in a schedule of seconds.
  if (!/[a-z]$/i.test(time.trim())) {
    throw new Error(`"${raw}": give the time a unit (5s, 1500ms, 1m)`);
  }
  let atMs: number;
  try {
    atMs = parseDurationMs(time);
  } catch (err) {
    throw new Error(`"${raw}": ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (!(DEMO_ACTIONS as readonly string[]).includes(action)) {
    throw new Error(`"${raw}": action "${action}" is not one of ${DEMO_ACTIONS.join(', ')}`);
  }
  if (action === 'slow-clients') {
    if (!/^\d+$/.test(app) || Number(app) < 1 || Number(app) > 500) {
      throw new Error(`"${raw}": slow-clients takes a count of clients from 1 to 500 (6s:slow-clients:20)`);
    }
    return { atMs, action, app };
  }
  if (!APP_NAME.test(app)) throw new Error(`"${raw}": "${app}" is not a PM2 app name`);
  if (action === 'reload' && app !== BALANCER_APP && app !== WHOLE_FLEET) {
    throw new Error(
      `"${raw}": reload takes ${BALANCER_APP} (its zero-downtime reload) or ${WHOLE_FLEET} (a rolling reload of the fleet)`,
    );
  }
  if (app === BALANCER_WORKER && action !== 'kill') {
    throw new Error(`"${raw}": ${BALANCER_WORKER} only goes with kill (kill:${BALANCER_WORKER})`);
  }
  if (app === WHOLE_FLEET && action !== 'reload') {
    throw new Error(`"${raw}": ${WHOLE_FLEET} only goes with reload (reload:${WHOLE_FLEET})`);
  }
  return { atMs, action: action as DemoActionKind, app };
}

/**
 * The PM2 app an entry acts on: its app, the balancer for one of its workers, null for the whole
 * fleet.
 */
export function pm2AppOf(entry: Pick<ScheduledAction, 'app'>): string | null {
  if (entry.app === WHOLE_FLEET) return null;
  return entry.app === BALANCER_WORKER ? BALANCER_APP : entry.app;
}

/** The entry as `--at` takes it back. */
export function formatScheduleEntry(entry: ScheduledAction): string {
  return `${formatSeconds(entry.atMs)}:${entry.action}:${entry.app}`;
}

/** `5s`, `1.5s`, `250ms`. */
export function formatSeconds(ms: number): string {
  return ms % 100 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * Every reason the schedule (sorted by time) cannot run as written during a load of `durationMs`.
 * Apps are assumed running at the start, as the demo makes sure they are.
 */
export function scheduleProblems(schedule: readonly ScheduledAction[], durationMs: number): string[] {
  const problems: string[] = [];
  const stopped = new Set<string>();
  const seen = new Map<string, number>();
  for (const entry of schedule) {
    const text = formatScheduleEntry(entry);
    if (entry.atMs >= durationMs) {
      problems.push(`--at ${text}: happens after the load ends (--duration ${formatSeconds(durationMs)})`);
    }
    if (entry.action === 'slow-clients') continue;
    const key = `${entry.app}@${entry.atMs}`;
    if (seen.has(key)) problems.push(`--at ${text}: two actions on ${entry.app} at the same moment`);
    seen.set(key, entry.atMs);
    switch (entry.action) {
      case 'start':
        if (!stopped.has(entry.app)) {
          problems.push(`--at ${text}: ${entry.app} is running then; start only follows a stop`);
        }
        stopped.delete(entry.app);
        break;
      case 'stop':
        if (stopped.has(entry.app)) problems.push(`--at ${text}: ${entry.app} is already stopped then`);
        stopped.add(entry.app);
        break;
      case 'restart':
      case 'kill':
      case 'reload': {
        const app = pm2AppOf(entry);
        if (app !== null && stopped.has(app)) {
          problems.push(`--at ${text}: ${app} is stopped then; start it first`);
        }
        if (app === null && stopped.size > 0) {
          const names = [...stopped].sort().join(', ');
          const verb = stopped.size === 1 ? 'is' : 'are';
          problems.push(`--at ${text}: ${names} ${verb} stopped then; reload:all restarts every backend`);
        }
        break;
      }
    }
  }
  return problems;
}

/** Apps the schedule leaves stopped at its end (nobody waits for them to come back). */
export function leftStopped(schedule: readonly ScheduledAction[]): Set<string> {
  const stopped = new Set<string>();
  for (const entry of schedule) {
    if (entry.action === 'stop') stopped.add(entry.app);
    if (entry.action === 'start') stopped.delete(entry.app);
  }
  return stopped;
}
