/**
 * Faults across real hosts under a steady load through the balancer (retries on): a host's link
 * pulled, the etcd leader killed, every etcd member stopped. The pool must ride through each one
 * without a failed request, and follow etcd again afterwards.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestLab, runLoad, startEtcdBalancer, TEST_HEALTH } from '../helpers/lab.js';
import { waitFor } from '../helpers/wait.js';

void test('the pool rides through a pulled link, a killed etcd leader and a full etcd outage without a failed request', async (t) => {
  const lab = await createTestLab(t, { hosts: 3, backendsPerHost: 1, leaseTtlS: 3 });
  const lb = await startEtcdBalancer(t, lab);
  const all = lab.hosts.flatMap((h) => lab.upstreamIds(h.link.name));
  await waitFor(() => all.every((id) => lb.inRotation().includes(id)), 'the whole pool in rotation', {
    timeoutMs: 15_000,
  });
  const load = runLoad(lb.url, { concurrency: 4, maxMs: 120_000, maxRequests: 60_000 });
  t.after(() => load.stop());
  // The health fall time: `fall` checks, each waiting its timeout, one interval apart.
  const fallMs = TEST_HEALTH.fall * (TEST_HEALTH.intervalMs + TEST_HEALTH.timeoutMs);
  // Each fault starts from a whole pool. The one before may have cost another host its lease too:
  // with a 3 s TTL, an election under load can outlast it, and that host registers again anew.
  const wholePool = () =>
    waitFor(
      () => all.every((id) => lb.listed().includes(id) && lb.inRotation().includes(id)),
      'the whole pool',
      {
        timeoutMs: 30_000,
      },
    );

  await t.test(
    "a host's link down takes its members out of rotation within the health fall time",
    async () => {
      const [h1] = lab.upstreamIds('h1');
      assert.ok(h1 !== undefined);
      const sentBefore = load.result.sent;
      const downAt = Date.now();
      await lab.network.linkDown('h1');
      await waitFor(() => !lb.inRotation().includes(h1), 'h1 out of rotation', {
        timeoutMs: fallMs + TEST_HEALTH.intervalMs,
        intervalMs: 10,
      });
      t.diagnostic(
        `h1 out of rotation ${Date.now() - downAt} ms after its link went down (fall time ${fallMs} ms)`,
      );
      // Its registrar cannot renew its lease through a dead link: its key expires too.
      // The lease TTL (3 s), plus an election when the cut took the etcd leader with it (a new leader
      // extends every lease by its TTL).
      // Deadlines, not speeds (bench:hosts measures those): a leader change renews every lease, so
      // on a busy machine a cut-off host's keys can outlive their TTL by an election or two.
      await waitFor(() => !lb.listed().includes(h1), "h1's key expired", { timeoutMs: 30_000 });
      t.diagnostic(`h1 left the pool (lease expired) ${Date.now() - downAt} ms after its link went down`);
      await lab.network.linkUp('h1');
      await waitFor(() => lb.inRotation().includes(h1), 'h1 back after its link came up', {
        timeoutMs: 15_000,
      });
      assert.ok(load.result.sent > sentBefore, 'the load kept running');
      assert.deepEqual(load.result.failures, []);
    },
  );

  await t.test('the etcd leader killed: the pool stays and follows the next change', async () => {
    await wholePool();
    const leader = await lab.etcd.leader();
    await lab.etcd.stopMember(leader, 'SIGKILL');
    const [h2] = lab.upstreamIds('h2');
    const h2app = lab.host('h2').backends[0]?.name ?? '';
    assert.ok(h2 !== undefined);
    assert.equal(lb.listed().length, all.length, 'the pool is unchanged');
    await lab.host('h2').fleet.stop(h2app);
    await waitFor(() => !lb.listed().includes(h2), 'h2 gone after its stop', { timeoutMs: 30_000 });
    await lab.host('h2').fleet.start(h2app);
    await waitFor(() => lb.inRotation().includes(h2), 'h2 back after its start', { timeoutMs: 30_000 });
    lab.etcd.startMember(leader);
    await lab.etcd.waitHealthy(3, 20_000);
    assert.deepEqual(load.result.failures, []);
  });

  await t.test(
    'every etcd member stopped: the last known pool serves on, and is followed again after',
    async () => {
      await wholePool();
      const revisionBefore = lb.status().balancer.source?.lastRevision ?? 0;
      const linesBefore = lb.lines.length;
      await lab.etcd.stopAll();
      await waitFor(() => lb.status().balancer.source?.connected === false, 'the source says disconnected', {
        timeoutMs: 10_000,
      });
      assert.ok(lb.status().balancer.source?.lastError, 'the last error is shown');
      const warned = lb.lines.slice(linesBefore).filter((l) => l.fields.event === 'etcd-unreachable');
      assert.equal(warned.length, 1, 'one warning for the outage');
      const sentDuring = load.result.sent;
      await new Promise((r) => setTimeout(r, 2000));
      assert.ok(load.result.sent > sentDuring, 'requests were served during the outage');
      assert.deepEqual(lb.listed().sort(), [...all].sort(), 'the last known pool is kept');
      assert.deepEqual(lb.inRotation().sort(), [...all].sort(), 'and stays in rotation on its health checks');

      for (const m of lab.etcd.members) lab.etcd.startMember(m);
      await lab.etcd.waitHealthy(3, 30_000);
      await waitFor(() => lb.status().balancer.source?.connected === true, 'the source reconnected', {
        timeoutMs: 15_000,
      });
      // A change after the outage reaches the pool: the watch resumed.
      const [h3] = lab.upstreamIds('h3');
      const h3app = lab.host('h3').backends[0]?.name ?? '';
      assert.ok(h3 !== undefined);
      await lab.host('h3').fleet.stop(h3app);
      await waitFor(() => !lb.listed().includes(h3), 'h3 gone after the outage', { timeoutMs: 30_000 });
      await lab.host('h3').fleet.start(h3app);
      await waitFor(() => lb.inRotation().includes(h3), 'h3 back', { timeoutMs: 30_000 });
      assert.ok((lb.status().balancer.source?.lastRevision ?? 0) > revisionBefore, 'the revision moved on');
      assert.ok(
        lb.lines.some((l) => l.fields.event === 'etcd-reachable'),
        'one line when etcd is back',
      );
      const result = await load.stop();
      t.diagnostic(`load: ${result.sent} requests, ${result.ok} ok, ${result.failures.length} failed`);
      assert.deepEqual(result.failures, []);
      assert.ok(result.ok > 100);
    },
  );
});
