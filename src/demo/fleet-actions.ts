/**
 * Everything the demo's schedule can do, on the real fleet: the per-app PM2 actions (through the
 * demo's supervisor) and the balancer's own: a zero-downtime reload (SIGHUP to the primary's pid,
 * found through PM2), a SIGKILL of one of its workers (a pid from its status), and a rolling reload
 * of the fleet: the reloads are the fleet's own (src/fleet/rolling-reload.ts, `npm run reload`).
 * Each balancer action waits until the balancer's status shows it done, so the timeline says how
 * long it really took.
 */
import { SupervisorError } from '../errors.js';
import { signalPid } from '../supervisor/pm2-client.js';
import type { DemoActions } from './action-runner.js';
import type { DemoSupervisor } from './demo-supervisor.js';
import type { FleetApp } from '../fleet/ecosystem.js';
import { reloadBalancer, reloadFleet, type ReloadOptions } from '../fleet/rolling-reload.js';
import type { Logger } from '../logger.js';
import { newWorkers, replacementPending, workerToKill } from './fleet-checks.js';
import type { LbStatus } from './lb-status.js';
import { readLbStatus } from './status-poller.js';
import { waitUntil } from './wait-until.js';

export interface FleetActionsOptions {
  pm2: DemoSupervisor;
  /** The balancer's PM2 app name. */
  balancer: string;
  /** The fleet's apps the demo runs (the rolling reload's order and targets). */
  apps: readonly FleetApp[];
  logger: Logger;
  adminPort: number;
  /** Longest wait for a reload, a replacement worker, a backend back in rotation. */
  timeoutMs: number;
  /** `count` clients trickling POST bodies through the balancer (the slow-clients action). */
  slowClients: (count: number) => Promise<string>;
}

const STATUS_TIMEOUT_MS = 1000;
const pidList = (pids: readonly number[]): string => pids.join(', ') || 'none';

export class FleetActions implements DemoActions {
  constructor(private readonly options: FleetActionsOptions) {}

  pidOf(app: string): Promise<number | null> {
    return this.options.pm2.pidOf(app);
  }

  restart(app: string): Promise<void> {
    return this.options.pm2.restart(app);
  }

  kill(app: string): Promise<number> {
    return this.options.pm2.kill(app);
  }

  stop(app: string): Promise<void> {
    return this.options.pm2.stop(app);
  }

  start(app: string): Promise<void> {
    return this.options.pm2.start(app);
  }

  slowClients(count: number): Promise<string> {
    return this.options.slowClients(count);
  }

  status(): Promise<LbStatus> {
    return readLbStatus(this.options.adminPort, STATUS_TIMEOUT_MS);
  }

  /** The fleet's own zero-downtime reload of the balancer (what `npm run reload:balancer` does). */
  reloadBalancer(): Promise<string> {
    return reloadBalancer(this.reloadOptions());
  }

  async killBalancerWorker(): Promise<string> {
    const before = await this.status();
    const victim = workerToKill(before.workers);
    if (victim === null) {
      throw new SupervisorError(
        'ERR_PM2_NOT_RUNNING',
        `${this.options.balancer} lists no ready worker to kill`,
      );
    }
    if (!signalPid(victim.pid, 'SIGKILL')) {
      throw new SupervisorError('ERR_PM2_NOT_RUNNING', `worker pid ${victim.pid} was already gone`);
    }
    const killedAt = Date.now();
    let now = before;
    await waitUntil(
      `a worker in place of pid ${victim.pid}`,
      this.options.timeoutMs,
      async () => {
        now = await this.status();
        return replacementPending(before.workers, victim.pid, now.workers);
      },
      undefined,
      20,
    );
    const replacement = newWorkers(before.workers, now.workers).map((w) => w.pid);
    return (
      `worker ${victim.id} (pid ${victim.pid}) killed with SIGKILL, ` +
      `pid ${pidList(replacement)} ready in its place within ${Date.now() - killedAt} ms`
    );
  }

  /** The fleet's own rolling reload (what `npm run reload` does), over the apps the demo runs. */
  async reloadAll(): Promise<string> {
    return `one at a time: ${(await reloadFleet(this.reloadOptions())).join('; ')}`;
  }

  private reloadOptions(): ReloadOptions {
    const { pm2, apps, logger, timeoutMs } = this.options;
    return { pm2: pm2.client, apps, logger, timeoutMs };
  }
}
