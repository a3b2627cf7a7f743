/**
 * What the socket holder makes of PM2's word about the app: whether a next primary will come for
 * the sockets. Pure, so the rule is testable against the sequences PM2 really shows.
 */
import type { Pm2App } from '../../supervisor/pm2-app.js';

/**
 * Null while a next primary may still come; otherwise why none will.
 *
 * A restart shows the old process as stopped (errored when PM2's kill timed out) for a moment:
 * PM2 counts the restart, then opens the next process's log files before it lists that process,
 * and a loaded machine stretches the moment to many milliseconds. A `pm2 stop` leaves the count
 * as it was. So only a stop with the count this primary started with is a stop; one with any
 * other count is a restart under way, and the holder's own deadline covers a start that fails.
 */
export function noPrimaryWillCome(
  app: Pick<Pm2App, 'status' | 'restarts'> | undefined,
  restartsAtStart: number,
): string | null {
  if (app === undefined) return 'PM2 deleted the app';
  if (app.status !== 'stopped' && app.status !== 'errored') return null;
  if (app.restarts !== restartsAtStart) return null;
  return `PM2 says the app is ${app.status}`;
}
