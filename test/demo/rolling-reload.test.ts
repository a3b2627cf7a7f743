import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LbStatus } from '../../src/demo/lb-status.js';
import { rollingReload, type RollingReloadSteps } from '../../src/demo/rolling-reload.js';

/**
 * A pretend fleet for the order of a rolling reload: a restarted backend gets a new pid at once,
 * and the balancer shows it back in rotation (in that pid) only after two more readings.
 */
function fleet(log: string[], names: string[], neverBack: string | null = null): RollingReloadSteps {
  const pids = new Map(names.map((n, i) => [n, 10 + i]));
  const listed = new Map(pids);
  const out = new Map<string, number>();
  let next = 100;
  return {
    restart: (app) => {
      log.push(`restart ${app}`);
      pids.set(app, next++);
      out.set(app, 2);
      return Promise.resolve();
    },
    pidOf: (app) => Promise.resolve(pids.get(app) ?? null),
    status: (): Promise<LbStatus> => {
      for (const [app, left] of out) {
        if (app === neverBack) continue;
        if (left > 1) out.set(app, left - 1);
        else {
          out.delete(app);
          listed.set(app, pids.get(app) ?? 0);
          log.push(`${app} back`);
        }
      }
      return Promise.resolve({
        retries: true,
        reloads: 0,
        workers: [],
        upstreams: [...names].reverse().map((name) => ({
          name,
          inRotation: !out.has(name),
          state: out.has(name) ? 'down' : 'up',
          pm2Status: 'online',
          served: 0,
        })),
        pids: Object.fromEntries(listed),
      });
    },
    reloadBalancer: () => {
      log.push('reload balancer');
      return Promise.resolve('reload 1 done');
    },
    timeoutMs: 2000,
  };
}

void test('a rolling reload restarts one backend at a time, each back in rotation before the next, the balancer last', async () => {
  const log: string[] = [];
  const result = await rollingReload(fleet(log, ['b1', 'b2', 'b3']));
  assert.deepEqual(log, [
    'restart b1',
    'b1 back',
    'restart b2',
    'b2 back',
    'restart b3',
    'b3 back',
    'reload balancer',
  ]);
  assert.deepEqual(
    result.backends.map((b) => [b.app, b.pidBefore, b.pidAfter]),
    [
      ['b1', 10, 100],
      ['b2', 11, 101],
      ['b3', 12, 102],
    ],
  );
  assert.equal(result.balancer, 'reload 1 done');
});

void test('a backend that never comes back stops the rolling reload there, naming it, and the rest is not touched', async () => {
  const log: string[] = [];
  const steps = { ...fleet(log, ['b1', 'b2', 'b3'], 'b2'), timeoutMs: 300 };
  await assert.rejects(
    rollingReload(steps),
    /gave up after 300 ms waiting for b2 back in rotation: b2 is listed with pid 11, not 101/,
  );
  assert.deepEqual(log, ['restart b1', 'b1 back', 'restart b2']);
});
