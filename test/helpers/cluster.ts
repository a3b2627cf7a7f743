/**
 * The balancer as a cluster for tests: a primary and its workers on ephemeral ports, stopped after
 * the test (the primary with SIGINT so it reaps its workers, then every worker pid seen, by pid).
 */
import type { TestContext } from 'node:test';
import type { BalancerStatus } from '../../src/balancer/status.js';
import { startBalancer, type Balancer } from './balancer-fleet.js';
import { waitFor } from './wait.js';

/** The balancer with two workers (or `--workers N` in `args`); stopped with SIGINT so its workers drain and exit, then by pid. */
export async function startCluster(
  t: TestContext,
  ports: readonly number[],
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Balancer> {
  const at = args.indexOf('--workers');
  const workers = at === -1 ? 2 : Number(args[at + 1]);
  const lb = await startBalancer(t, ports, at === -1 ? ['--workers', '2', ...args] : args, env);
  await waitFor(async () => readyWorkers(await lb.status()).length === workers, `${workers} ready workers`);
  await status(lb);
  // A SIGINT lets the primary drain and reap its workers (a SIGKILLed primary's workers drain on
  // their own when the channel closes); any worker pid this test saw is then killed for certain.
  t.after(async () => {
    await lb.proc.stop('SIGINT', 10_000);
    for (const pid of seenPids(lb)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  return lb;
}

const workerPids = new WeakMap<Balancer, Set<number>>();
export function seenPids(lb: Balancer): number[] {
  return [...(workerPids.get(lb) ?? [])];
}
export async function status(lb: Balancer): Promise<BalancerStatus> {
  const s = await lb.status();
  const seen = workerPids.get(lb) ?? new Set<number>();
  for (const w of s.workers) if (w.pid > 0) seen.add(w.pid);
  workerPids.set(lb, seen);
  return s;
}

export const readyWorkers = (s: BalancerStatus) => s.workers.filter((w) => w.state === 'ready');
