/**
 * Runs the schedule against PM2 while the load runs: each action at its time on the demo's clock,
 * each recorded with when it really started and ended, what it did and whether it worked. The PM2
 * calls and the balancer's signals are behind `DemoActions` (src/demo/fleet-actions.ts).
 */
import { errorMessage } from '../errors.js';
import { pm2AppOf } from './schedule.js';
import { BALANCER_WORKER, WHOLE_FLEET, type ActionRecord, type ScheduledAction } from './types.js';

/** What the demo asks of the supervisor. */
export interface DemoActions {
  /** The app's OS pid, or null when it is not running. */
  pidOf(app: string): Promise<number | null>;
  /** PM2's graceful restart (stop with SIGINT, start, wait for ready). */
  restart(app: string): Promise<void>;
  /** SIGKILL the app's process behind PM2's back, as a crash would; returns the pid killed. */
  kill(app: string): Promise<number>;
  stop(app: string): Promise<void>;
  start(app: string): Promise<void>;
  /** `count` clients trickle POST bodies to the balancer; resolves with what they got. */
  slowClients(count: number): Promise<string>;
  /** SIGHUP to the balancer's primary; resolves once its status counts the reload. Says what it did. */
  reloadBalancer(): Promise<string>;
  /** SIGKILL one balancer worker; resolves once another serves in its place. Says what it did. */
  killBalancerWorker(): Promise<string>;
  /** Every backend restarted through PM2 and back in rotation in turn, then the balancer reloaded. */
  reloadAll(): Promise<string>;
}

async function perform(
  entry: ScheduledAction,
  actions: DemoActions,
  pidBefore: number | null,
): Promise<string> {
  if (entry.app === BALANCER_WORKER) return actions.killBalancerWorker();
  if (entry.app === WHOLE_FLEET) return actions.reloadAll();
  switch (entry.action) {
    case 'reload':
      return actions.reloadBalancer();
    case 'kill': {
      const pid = await actions.kill(entry.app);
      return `pid ${pid} killed with SIGKILL`;
    }
    case 'restart': {
      await actions.restart(entry.app);
      return `restarted, pid ${pidBefore ?? '?'} -> ${(await actions.pidOf(entry.app)) ?? '?'}`;
    }
    case 'stop':
      await actions.stop(entry.app);
      return `stopped, pid ${pidBefore ?? '?'} gone`;
    case 'start':
      await actions.start(entry.app);
      return `started, pid ${(await actions.pidOf(entry.app)) ?? '?'}`;
    case 'slow-clients':
      return actions.slowClients(Number(entry.app));
  }
}

/** Run one action now and record it; never throws. */
export async function runAction(
  entry: ScheduledAction,
  actions: DemoActions,
  clock: () => number,
  onStart?: (startedAtMs: number) => void,
): Promise<ActionRecord> {
  const startedAtMs = clock();
  onStart?.(startedAtMs);
  let pidBefore: number | null = null;
  try {
    // Only an entry naming one PM2 app has "its" pid; a worker's is the action's to find.
    if (entry.action !== 'slow-clients' && pm2AppOf(entry) === entry.app)
      pidBefore = await actions.pidOf(entry.app);
    const detail = await perform(entry, actions, pidBefore);
    return { ...entry, startedAtMs, finishedAtMs: clock(), ok: true, detail, pidBefore };
  } catch (err) {
    return { ...entry, startedAtMs, finishedAtMs: clock(), ok: false, detail: errorMessage(err), pidBefore };
  }
}

export interface ScheduleRun {
  /** Every record, once every action that was started has ended. */
  done: Promise<ActionRecord[]>;
  /** Drop the actions not started yet (the load ended early). */
  cancel(): void;
}

/** Start each action when the clock reaches its time; `onStart` and `onRecord` tell when each starts and ends. */
export function runSchedule(
  schedule: readonly ScheduledAction[],
  actions: DemoActions,
  clock: () => number,
  onRecord: (record: ActionRecord) => void,
  onStart: (entry: ScheduledAction, startedAtMs: number) => void = () => undefined,
): ScheduleRun {
  const timers: NodeJS.Timeout[] = [];
  const running: Promise<ActionRecord>[] = [];
  let settle: () => void = () => undefined;
  const allStarted = new Promise<void>((resolve) => (settle = resolve));
  let pending = schedule.length;
  if (pending === 0) settle();
  let cancelled = false;
  const start = (entry: ScheduledAction): void => {
    // Timers run on a monotonic clock and may fire a millisecond before the wall clock says so.
    const early = entry.atMs - clock();
    if (early > 0) {
      timers.push(setTimeout(() => start(entry), early));
      return;
    }
    if (cancelled) return;
    const run = runAction(entry, actions, clock, (at) => onStart(entry, at)).then((record) => {
      onRecord(record);
      return record;
    });
    running.push(run);
    if (--pending === 0) settle();
  };
  for (const entry of schedule)
    timers.push(setTimeout(() => start(entry), Math.max(0, entry.atMs - clock())));
  return {
    done: allStarted.then(() => Promise.all(running)),
    cancel: () => {
      cancelled = true;
      for (const t of timers) clearTimeout(t);
      settle();
    },
  };
}
