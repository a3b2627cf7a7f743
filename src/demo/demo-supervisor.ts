/**
 * What the operations demo asks of PM2, on top of the project's PM2 client: the pid of
 * an app, a SIGKILL behind PM2's back, stop / start / restart by name, restart counts, lifecycle
 * events, and restarting an app with one environment variable changed (the balancer's RETRIES).
 * It sees the fleet's PM2 namespace alone: apps are found by name within it and acted on by pm_id,
 * so another project's app of the same name in the same daemon is never touched.
 */
import { SupervisorError } from '../errors.js';
import { FLEET_NAMESPACE } from '../config/common.js';
import { Pm2Client, signalPid, type Pm2App } from '../supervisor/pm2-client.js';

export interface DemoPm2Event {
  app: string;
  event: string;
}

export class DemoSupervisor {
  private constructor(
    /** The PM2 client, for the fleet's own operations (its rolling reload). */
    readonly client: Pm2Client,
    readonly pm2Home: string,
    readonly namespace: string,
  ) {}

  static async connect(pm2Home: string, namespace: string = FLEET_NAMESPACE): Promise<DemoSupervisor> {
    const client = await Pm2Client.connect({ pm2Home, launchDaemon: false, timeoutMs: 30_000 });
    return new DemoSupervisor(client, client.pm2Home, namespace);
  }

  async app(name: string): Promise<Pm2App> {
    const found = (await this.list()).find((a) => a.name === name);
    if (found === undefined) {
      throw new SupervisorError(
        'ERR_PM2_APP_NOT_FOUND',
        `PM2 has no app named ${name} in namespace ${this.namespace}`,
      );
    }
    return found;
  }

  async pidOf(name: string): Promise<number | null> {
    return (await this.app(name)).pid;
  }

  async restart(name: string): Promise<void> {
    await this.client.restart((await this.app(name)).pmId);
  }

  /** SIGKILL the app's process directly, as a crash would: PM2 only sees it exit. */
  async kill(name: string): Promise<number> {
    const pid = await this.pidOf(name);
    if (pid === null)
      throw new SupervisorError('ERR_PM2_NOT_RUNNING', `${name} has no running process to kill`);
    if (!signalPid(pid, 'SIGKILL')) {
      throw new SupervisorError('ERR_PM2_NOT_RUNNING', `pid ${pid} of ${name} was already gone`);
    }
    return pid;
  }

  async stop(name: string): Promise<void> {
    await this.client.stop((await this.app(name)).pmId);
  }

  /** Start a stopped app again (PM2's restart of a stopped app starts it, as `pm2 start NAME` does). */
  async start(name: string): Promise<void> {
    const app = await this.app(name);
    if (app.status !== 'stopped') {
      throw new SupervisorError('ERR_PM2_NOT_STOPPED', `${name} is ${app.status}, not stopped`);
    }
    await this.client.restart(app.pmId);
  }

  /** Every app of the namespace, with its status, pid and restart count (the ↺ column). */
  async list(): Promise<Pm2App[]> {
    return (await this.client.list()).filter((a) => a.namespace === this.namespace);
  }

  /** PM2's lifecycle events (online, exit, stop...) as they happen, until disconnect(). */
  async watch(handler: (event: DemoPm2Event) => void): Promise<void> {
    const bus = await this.client.launchBus();
    bus.onProcessEvent((e) => {
      if (e.namespace === null || e.namespace === this.namespace) handler({ app: e.name, event: e.event });
    });
  }

  /** Restart an app with `env` merged into its environment (the demo's RETRIES switch). */
  async restartWithEnv(name: string, env: Record<string, string>): Promise<void> {
    const app = await this.app(name);
    await this.client.restartWithEnv(app.pmId, env);
  }

  async disconnect(): Promise<void> {
    await this.client.disconnect();
  }
}
