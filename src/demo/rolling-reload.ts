/**
 * The demo's `reload:all`: a rolling reload of the fleet, one app at a time, as `pm2 reload all`
 * should have been. Each backend of the balancer's pool is restarted through PM2 and waited for
 * until the balancer has it back in rotation in its new process, so the pool never loses more than
 * one member; the balancer goes last, through its zero-downtime reload.
 */
import { rollingOrder, rotationPending } from './fleet-checks.js';
import type { LbStatus } from './lb-status.js';
import { waitUntil } from './wait-until.js';

export interface RollingReloadSteps {
  /** PM2's graceful restart of one app (resolves once PM2 has it online again). */
  restart(app: string): Promise<void>;
  pidOf(app: string): Promise<number | null>;
  status(): Promise<LbStatus>;
  /** The balancer's reload, last; says what it did. */
  reloadBalancer(): Promise<string>;
  /** Longest wait for one backend to be back in rotation. */
  timeoutMs: number;
}

export interface BackendReloaded {
  app: string;
  pidBefore: number | null;
  pidAfter: number | null;
  /** From the restart command to the balancer showing it in rotation again. */
  ms: number;
}

export interface RollingReloadResult {
  backends: BackendReloaded[];
  /** What the balancer's reload did. */
  balancer: string;
}

export async function rollingReload(steps: RollingReloadSteps): Promise<RollingReloadResult> {
  const backends: BackendReloaded[] = [];
  for (const app of rollingOrder(await steps.status())) {
    const started = Date.now();
    const pidBefore = await steps.pidOf(app);
    await steps.restart(app);
    const pidAfter = await steps.pidOf(app);
    await waitUntil(`${app} back in rotation`, steps.timeoutMs, async () =>
      rotationPending(app, pidAfter, await steps.status()),
    );
    backends.push({ app, pidBefore, pidAfter, ms: Date.now() - started });
  }
  return { backends, balancer: await steps.reloadBalancer() };
}
