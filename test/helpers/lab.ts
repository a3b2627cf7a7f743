/**
 * Test hosts for one test file: a lab (src/hosts/lab.ts) torn down with `t.after` even when the
 * test fails, checked afterwards for anything left behind (a namespace, a process in one); an
 * in-process balancer on etcd discovery in the root namespace; a bounded load through it.
 */
import type { TestContext } from 'node:test';
import { startInProcessBalancer } from '../../src/balancer/in-process-balancer.js';
import type { LoadBalancer } from '../../src/balancer/load-balancer.js';
import type { BalancerStatus } from '../../src/balancer/status.js';
import { etcdBalancerArgs, LAN_HEALTH, type LabHealth } from '../../src/hosts/balancer-args.js';
import { hostsSupportProblems } from '../../src/hosts/support.js';
import { Lab, type LabOptions } from '../../src/hosts/lab.js';
import { labTags, namespacePids } from '../../src/hosts/network.js';
import { memoryLogger, type MemoryLine } from './memory-logger.js';

export async function createTestLab(t: TestContext, options: LabOptions): Promise<Lab> {
  const problems = await hostsSupportProblems();
  if (problems.length > 0) throw new Error(`cannot build test hosts: ${problems.join('; ')}`);
  const lab = await Lab.create(options);
  t.after(async () => {
    const tag = lab.tag;
    const killed = await lab.destroy();
    const left = (await labTags()).filter((x) => x === tag);
    if (left.length > 0) throw new Error(`namespaces of lab ${tag} are still there`);
    const stray = [];
    for (const host of lab.network.hosts) stray.push(...(await namespacePids(host.netns)));
    if (stray.length > 0) throw new Error(`processes left in lab ${tag}: ${stray.join(', ')}`);
    // Processes SIGKILLed by the namespace sweep mean `pm2 kill` or an etcd stop let one get away.
    if (killed.length > 0) throw new Error(`teardown had to SIGKILL: ${killed.join('; ')}`);
  });
  return lab;
}

export interface EtcdBalancer {
  lb: LoadBalancer;
  url: string;
  lines: MemoryLine[];
  status(): BalancerStatus;
  /** Upstream ids the balancer would send a request to now. */
  inRotation(): string[];
  /** Upstream ids the balancer lists at all. */
  listed(): string[];
}

/** The LAN's checks with a shorter timeout, so the tests' fall time is short and can be named. */
export const TEST_HEALTH: LabHealth = { ...LAN_HEALTH, timeoutMs: 200 };

export async function startEtcdBalancer(
  t: TestContext,
  lab: Lab,
  extra: string[] = [],
): Promise<EtcdBalancer> {
  const logger = memoryLogger();
  const { lb, port, stop } = await startInProcessBalancer({
    args: [...etcdBalancerArgs(lab, TEST_HEALTH), ...extra],
    discoveryKind: 'etcd',
    logger,
  });
  t.after(stop);
  const status = () => lb.status();
  return {
    lb,
    url: `http://127.0.0.1:${port}`,
    lines: logger.lines,
    status,
    inRotation: () =>
      status()
        .upstreams.filter((u) => u.available)
        .map((u) => u.id),
    listed: () => status().upstreams.map((u) => u.id),
  };
}

export interface LoadResult {
  sent: number;
  ok: number;
  failures: string[];
}

/**
 * GETs through the balancer from `concurrency` loops until `stop()` or `maxMs`, at most `maxRequests`
 * in all. Every answer must be a 200; anything else is a failure with its reason.
 */
export function runLoad(url: string, options: { concurrency?: number; maxMs: number; maxRequests?: number }) {
  const result: LoadResult = { sent: 0, ok: 0, failures: [] };
  let stopped = false;
  const deadline = Date.now() + options.maxMs;
  const max = options.maxRequests ?? 100_000;
  const loop = async () => {
    while (!stopped && Date.now() < deadline && result.sent < max) {
      result.sent++;
      try {
        const res = await fetch(`${url}/page.html`, { signal: AbortSignal.timeout(8000) });
        await res.arrayBuffer();
        if (res.status === 200) result.ok++;
        else result.failures.push(`status ${res.status}`);
      } catch (err) {
        result.failures.push(err instanceof Error ? err.message : String(err));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const done = Promise.all(Array.from({ length: options.concurrency ?? 4 }, loop)).then(() => result);
  return {
    result,
    stop: async () => {
      stopped = true;
      return done;
    },
  };
}
