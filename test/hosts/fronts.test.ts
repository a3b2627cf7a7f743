/**
 * Two front hosts behind one virtual address: each a PM2 daemon in its own namespace running the
 * balancer (etcd discovery of two backend hosts) and keepalived; clients in a namespace of their
 * own use the virtual address only. Under load through it: a planned failover loses nothing, and
 * each unplanned fault (link cut, host crash, balancer stopped, keepalived stopped) moves the
 * address with no more failures than requests that were in flight; a VRRP-only partition makes a
 * split brain that VRRP's priorities end when it heals. One lab for the file.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientRun, type TimedOutcome } from '../../src/hosts/client-run.js';
import { describeFailover, failoverFigures } from '../../src/hosts/failover-report.js';
import { FRONT_FAULTS } from '../../src/hosts/front-failover.js';
import { failoverTrial } from '../../src/hosts/failover-trial.js';
import type { FrontHost } from '../../src/hosts/front-host.js';
import type { Lab } from '../../src/hosts/lab.js';
import { cutVrrp, healVrrp } from '../../src/hosts/packet-filter.js';
import { createTestLab } from '../helpers/lab.js';
import { waitFor } from '../helpers/wait.js';

const KEEP_ALIVE_LOOPS = 4;
const CLOSE_LOOPS = 4;
/** Each loop has at most one request in flight, on a connection it may not yet know is dead. */
const IN_FLIGHT_BOUND = KEEP_ALIVE_LOOPS + CLOSE_LOOPS;

void test('two fronts behind a virtual address: planned failover loses nothing, faults lose only what was in flight', async (t) => {
  const lab: Lab = await createTestLab(t, {
    hosts: 2,
    etcdMembers: 1,
    backendsPerHost: 1,
    fronts: 2,
    client: true,
  });
  const client = lab.client;
  assert.ok(client !== null);
  const holder = async (): Promise<FrontHost> =>
    waitFor(() => lab.vipHolder().then((h) => h ?? undefined), 'one front holding the address', {
      timeoutMs: 15_000,
    });
  const other = (front: FrontHost): FrontHost => {
    const found = lab.fronts.find((f) => f !== front);
    assert.ok(found !== undefined);
    return found;
  };
  const first = await holder();

  const run = new ClientRun(client, {
    url: `${lab.frontUrl}/page.html`,
    keepAlive: KEEP_ALIVE_LOOPS,
    close: CLOSE_LOOPS,
    rate: 200,
    durationMs: 240_000,
  });
  // Stopped before the lab goes (the after hooks run in order, the lab's first): a client still
  // running would be one more process the namespace sweep has to kill.
  t.after(() => run.stop());
  try {
    await scenarios();
  } finally {
    await run.stop();
  }
  async function scenarios(): Promise<void> {
    /** Outcomes sent from `at` on. */
    const since = (at: number): TimedOutcome[] => run.outcomes.filter((o) => o.at >= at);

    await t.test('one front holds the address and the clients reach every backend through it', async () => {
      await waitFor(() => run.outcomes.length >= 50, 'fifty answers');
      assert.equal(run.failures().length, 0, JSON.stringify(run.failures().slice(0, 3)));
      assert.deepEqual([...new Set(run.outcomes.map((o) => o.via))], [first.name]);
      assert.equal((await first.vrrp())?.state, 'MASTER');
      assert.equal((await other(first).vrrp())?.state, 'BACKUP');
      const status = await first.status();
      assert.equal(status.balancer.frontDoor.state, 'open');
      assert.equal(status.upstreams.filter((u) => u.available).length, 2);
      // The balancer says who holds the address, and knows the other front through etcd.
      await waitFor(
        async () => {
          const front = (await first.status()).balancer.front;
          return (
            front?.vrrp === 'MASTER' &&
            front.peers.some((p) => p.name === other(first).name && p.vrrp === 'BACKUP')
          );
        },
        `${first.name}'s status showing it MASTER and ${other(first).name} BACKUP`,
      );
    });

    await t.test('a planned failover under keep-alive and close clients fails no request', async () => {
      const from = await holder();
      const trial = await failoverTrial(lab, run, 'planned', 1500);
      t.diagnostic(`${describeFailover(trial.figures)}; address moved after ${trial.movedMs} ms`);
      const failed = run.outcomes.filter((o) => !o.ok && o.at >= trial.at - 1000);
      assert.equal(
        trial.figures.failed,
        0,
        JSON.stringify(failed.map((o) => ({ ...o, sinceFailover: o.at - trial.at }))),
      );
      assert.ok(trial.figures.failoverMs !== null, `answers came through ${trial.to}`);
      // The door was opened again: a candidate, but the address stays where it serves (nopreempt).
      assert.equal((await from.status()).balancer.frontDoor.state, 'open');
      assert.equal((await lab.vipHolder())?.name, trial.to);
    });

    await t.test(
      'npm run lb -- front-maint on the active front is the whole planned failover in one command',
      async () => {
        const from = await holder();
        const to = other(from);
        const at = Date.now();
        const done = await from.lb(['front-maint']);
        try {
          assert.equal(done.code, 0, done.stderr);
          assert.match(done.stdout, /^front door maint after \d+ ms: .*left this host after \d+ ms/m);
          await waitFor(() => to.holdsVip(), `${to.name} holding the address`);
          const firstNew = await waitFor(
            () => since(at).find((o) => o.via === to.name && o.ok),
            `an answer through ${to.name}`,
            { timeoutMs: 15_000 },
          );
          const settled = firstNew.at + firstNew.ms + 1000;
          await waitFor(() => since(settled).length > 0, 'a second of answers');
          const figures = failoverFigures(run.outcomes, {
            name: 'front-maint',
            at,
            from: from.name,
            to: to.name,
            untilMs: Date.now() - at,
          });
          t.diagnostic(`${describeFailover(figures)}; ${done.stdout.trim()}`);
          assert.equal(figures.failed, 0, JSON.stringify(figures.reasons));
        } finally {
          const ready = await from.lb(['front-ready']);
          assert.equal(ready.code, 0, ready.stderr);
        }
        await waitFor(async () => (await from.vrrp())?.state === 'BACKUP', `${from.name} BACKUP again`);
      },
    );

    for (const fault of FRONT_FAULTS) {
      await t.test(`${fault}: the address moves and only requests in flight fail`, async () => {
        const trial = await failoverTrial(lab, run, fault, 1500);
        t.diagnostic(`${describeFailover(trial.figures)}; address moved after ${trial.movedMs} ms`);
        assert.ok(
          trial.figures.failed <= IN_FLIGHT_BOUND,
          `${trial.figures.failed} failed, more than the ${IN_FLIGHT_BOUND} in flight: ${JSON.stringify(trial.figures.reasons)}`,
        );
        assert.ok(trial.figures.failoverMs !== null, `answers came through ${trial.to}`);
        // A second after the new front's first answer every loop has noticed (each sends every
        // 40 ms and fails at most once, on a connection to the old front): nothing fails.
        assert.deepEqual(trial.lateFailures, []);
        assert.equal(
          (await lab.vipHolder())?.name,
          trial.to,
          'the address stays where it serves (nopreempt)',
        );
      });
    }

    await t.test(
      'a VRRP-only partition makes both fronts claim the address; VRRP ends it when it heals',
      async () => {
        const master = await holder();
        const backup = other(master);
        await cutVrrp(backup.link.netns);
        try {
          await waitFor(
            async () => (await backup.vrrp())?.state === 'MASTER' && (await backup.holdsVip()),
            `${backup.name} claiming the address too`,
            { timeoutMs: 10_000 },
          );
          assert.equal(await master.holdsVip(), true, 'split brain: both hold it');
        } finally {
          await healVrrp(backup.link.netns);
        }
        // The higher priority (f1) keeps it; the other goes back to BACKUP.
        const winner = lab.fronts.reduce((a, b) => (a.settings.priority > b.settings.priority ? a : b));
        const loser = other(winner);
        await waitFor(
          async () => (await loser.vrrp())?.state === 'BACKUP' && !(await loser.holdsVip()),
          `${loser.name} BACKUP after the heal`,
          { timeoutMs: 10_000 },
        );
        assert.equal(await winner.holdsVip(), true);
        // Each balancer saw it through etcd: one error line when it began, one line when it ended.
        await waitFor(async () => {
          const log = (await winner.logs()).balancer;
          return /split brain: /.test(log) && /split brain over after/.test(log);
        }, `${winner.name}'s log naming the split brain and its end`);
        const settleAt = Date.now();
        await waitFor(
          () => since(settleAt).filter((o) => o.via === winner.name && o.ok).length >= 50,
          `answers through ${winner.name}`,
          { timeoutMs: 15_000 },
        );
      },
    );
  }
});
