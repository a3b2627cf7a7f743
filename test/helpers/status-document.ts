/**
 * A balancer status document as the balancer writes it (a real Pool, real checks, buildStatus,
 * through JSON), for tests of the code that reads one; and the facts such a document is built from.
 */
import { BalancerEvents } from '../../src/balancer/events.js';
import { Pool } from '../../src/balancer/pool.js';
import { buildStatus, type StatusFacts } from '../../src/balancer/status.js';
import { memoryLogger } from './memory-logger.js';

const NO_REQUESTS = { inFlight: 0, served: 0, failures: 0, queued: 0 };

/** A single-process balancer's facts on static discovery, started at 1000 and read at 2000; `over` changes any. */
export function statusFacts(over: Partial<StatusFacts> = {}): StatusFacts {
  return {
    name: 'balancer',
    pid: 1,
    startedAt: 1000,
    now: 2000,
    port: 1,
    adminPort: 2,
    discovery: 'static',
    pool: null,
    proxyEngine: 'undici',
    policy: 'round-robin',
    retries: true,
    draining: false,
    workers: 1,
    singleProcessReason: null,
    reloads: 0,
    takenOverFrom: null,
    scheme: 'http',
    tunnels: { open: 0, max: 10 },
    connections: { open: 0, limit: 96, descriptorLimit: 256, dropped: 0, localFailures: 0 },
    frontDoor: { state: 'open', since: 1000, trackFile: null },
    ...over,
  };
}

/** Members b1..bN on ports 1..N; those in `down` failed two checks, the rest passed two. */
export function statusDocument(count: number, down: readonly string[] = [], retries = true): unknown {
  const pool = new Pool({
    thresholds: { fall: 2, rise: 2 },
    logger: memoryLogger(),
    events: new BalancerEvents(),
    clock: () => 1000,
  });
  const specs = Array.from({ length: count }, (_, i) => ({
    id: `127.0.0.1:${i + 1}`,
    name: `b${i + 1}`,
    host: '127.0.0.1',
    port: i + 1,
  }));
  pool.setMembers(specs, 'static', true);
  for (const u of pool.members) {
    const ok = !down.includes(u.name);
    for (const at of [1100, 1200]) {
      pool.recordCheck(u, { ok, ms: 1, at, error: ok ? null : 'connect ECONNREFUSED' });
    }
  }
  const status = buildStatus(
    pool.members,
    statusFacts({ policy: pool.policyName, retries }),
    NO_REQUESTS,
    [],
  );
  return JSON.parse(JSON.stringify(status)) as unknown;
}
