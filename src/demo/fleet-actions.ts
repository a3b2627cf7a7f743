/**
 * Everything the demo's schedule can do, on the real fleet: the per-app PM2 actions (through the
 * demo's supervisor) and the balancer's own: a zero-downtime reload (SIGHUP to the primary's pid,
 * found through PM2), a SIGKILL of one of its workers (a pid from its status), and a rolling reload
 * of the fleet (rolling-reload.ts). Each balancer action waits until the balancer's status shows it
 * done, so the timeline says how long it really took.
 */
import { SupervisorError } from '../errors.js';
import { signalPid } from '../supervisor/pm2-client.js';
import type { DemoActions } from './action-runner.js';
import type { DemoSupervisor } from './demo-supervisor.js';
import { newWorkers, reloadPending, replacementPending, workerToKill } from './fleet-checks.js';
import type { LbStatus } from './lb-status.js';
import { rollingReload } from './rolling-reload.js';
import { readLbStatus } from './status-poller.js';
import { waitUntil } from './wait-until.js';

export interface FleetActionsOptions {
  pm2: DemoSupervisor;
  /** The balancer's PM2 app name. */
  balancer: string;
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

  async reloadBalancer(): Promise<string> {
    const { balancer, timeoutMs } = this.options;
    const before = await this.status();
    const pid = await this.pidOf(balancer);
    if (pid === null) throw new SupervisorError('ERR_PM2_NOT_RUNNING', `${balancer} has no running process`);
    if (!signalPid(pid, 'SIGHUP')) {
      throw new SupervisorError('ERR_PM2_NOT_RUNNING', `pid ${pid} of ${balancer} was gone`);
    }
    let now = before;
    await waitUntil(`${balancer} to count the reload (a refused one is in its log)`, timeoutMs, async () => {
      now = await this.status();
      return reloadPending(before.reloads, now);
    });
    const fresh = newWorkers(before.workers, now.workers);
    return (
      `SIGHUP to pid ${pid}: reload ${now.reloads} done, workers ${pidList(fresh.map((w) => w.pid))} ` +
      `in place of ${pidList(before.workers.filter((w) => w.state !== 'draining').map((w) => w.pid))}`
    );
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

  async reloadAll(): Promise<string> {
    const steps = await rollingReload({
      restart: (app) => this.restart(app),
      pidOf: (app) => this.pidOf(app),
      status: () => this.status(),
      reloadBalancer: () => this.reloadBalancer(),
      timeoutMs: this.options.timeoutMs,
    });
    const backends = steps.backends.map(
      (b) => `${b.app} ${b.pidBefore ?? '?'} -> ${b.pidAfter ?? '?'} back in ${b.ms} ms`,
    );
    return `one at a time: ${backends.join(', ')}; then ${steps.balancer}`;
  }
}
