/**
 * etcd streams towards a member whose host is gone. Neither grpc-js nor etcd3 bounds a connection
 * attempt, so a watch reopened towards a host that drops every packet used to wait for the
 * kernel's SYN retries (about two minutes), following nothing meanwhile, even when other members
 * answered (seen in CI as a pool that never lost a cut-off host). The door to etcd
 * (etcd-client.ts) gives a stream's first answer the call timeout.
 *
 * The discovery source here knows one member only, so every attempt goes to the cut-off host and
 * the test does not depend on which member the client happens to pick.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEtcdDiscovery } from '../../src/balancer/discovery/etcd-source.js';
import type { UpstreamSpec } from '../../src/balancer/discovery/types.js';
import { createTestLab } from '../helpers/lab.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { waitFor } from '../helpers/wait.js';

const CALL_TIMEOUT_MS = 1000;

void test('a watch towards a cut-off member gives up within the call timeout, again and again, and follows the pool once it is back', async (t) => {
  const lab = await createTestLab(t, { hosts: 3, backendsPerHost: 1, leaseTtlS: 3 });
  const logger = memoryLogger();
  const source = createEtcdDiscovery({
    endpoints: [lab.etcd.member('h1').clientUrl],
    prefix: lab.prefix,
    pool: lab.pool,
    logger,
    callTimeoutMs: CALL_TIMEOUT_MS,
    keepaliveMs: 1000,
  });
  let pool: UpstreamSpec[] = [];
  t.after(() => source.stop());
  const all = lab.hosts.flatMap((h) => lab.upstreamIds(h.link.name));
  pool = await source.start((event) => {
    if (event.type === 'members') pool = event.members;
  });
  const ids = () => pool.map((u) => u.id);
  const connected = () => source.state?.().connected === true;
  await waitFor(() => all.every((id) => ids().includes(id)), 'the whole pool', { timeoutMs: 15_000 });

  const [h2] = lab.upstreamIds('h2');
  const h2app = lab.host('h2').backends[0]?.name ?? '';
  assert.ok(h2 !== undefined);
  await lab.network.linkDown('h1');
  try {
    await waitFor(() => !connected(), 'the source says disconnected', { timeoutMs: 10_000 });
    // Each attempt while the host is away ends within the call timeout, with a reason that says so.
    // Before, the first attempt after the drop hung on the kernel's SYN retries: no line after it.
    const refused = () =>
      logger.lines.filter(
        (l) =>
          l.fields.event === 'etcd-retry' &&
          String(l.fields.reason).includes(`no answer from the etcd member within ${CALL_TIMEOUT_MS} ms`),
      ).length;
    await waitFor(() => refused() >= 3, 'three attempts, each ended for no answer', { timeoutMs: 15_000 });
    // The status says why, not only that the stream ended (etcd3 reports each failed attempt twice).
    assert.match(source.state?.().lastError ?? '', /no answer from the etcd member/);
    // A change made while h1 is away (h2 and h3 keep the quorum) is followed once h1 answers again.
    await lab.host('h2').fleet.stop(h2app);
  } finally {
    await lab.network.linkUp('h1');
  }
  const upAt = Date.now();
  await waitFor(() => !ids().includes(h2), 'h2 gone from the pool after h1 came back', { timeoutMs: 15_000 });
  await waitFor(connected, 'the source connected again', { timeoutMs: 5000 });
  t.diagnostic(`the change was followed ${Date.now() - upAt} ms after h1's link came up`);
  assert.ok(
    logger.lines.some((l) => l.fields.event === 'etcd-reachable'),
    'one line when etcd is back',
  );
});
