/**
 * Operators' decisions shared through etcd (issue 28): two balancers as users run them (each a
 * primary with two workers) on the etcd discovery of one host's pool. A decision asked of one is
 * put into etcd and applied by the other through its watch; a restarted balancer reads them before
 * it takes traffic; a bad value is refused; with etcd down a decision is refused and nothing
 * changes. One lab for the file: one host, one etcd member, two backends.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { decisionKey } from '../../src/balancer/discovery/etcd-decision-keys.js';
import { etcdBalancerArgs } from '../../src/hosts/balancer-args.js';
import type { Lab } from '../../src/hosts/lab.js';
import { postAdmin } from '../helpers/admin-client.js';
import { runLoad, startBalancer, type Balancer } from '../helpers/balancer-fleet.js';
import { seenPids, startCluster } from '../helpers/cluster.js';
import { createTestLab, TEST_HEALTH } from '../helpers/lab.js';
import { runNode, type LogLine } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/** The bound the issue sets: a decision on one balancer applies on the others within a second. */
const PROPAGATION_MS = 1000;

const control = (lb: Balancer, name: string, action: string) =>
  postAdmin(lb.adminPort, `/__lb/upstreams/${encodeURIComponent(name)}/${action}`);

/** How long after `from` the upstream `name` on `lb` showed what `shows` looks for (at most a second). */
async function followedWithin(
  lb: Balancer,
  name: string,
  what: string,
  shows: (u: { admin: string; weight: number }) => boolean,
  from: number,
): Promise<number> {
  await waitFor(async () => shows(await lb.upstream(name)), `${name} ${what} on the other balancer`, {
    timeoutMs: Math.max(0, PROPAGATION_MS - (Date.now() - from)),
    intervalMs: 10,
  });
  return Date.now() - from;
}

/** `npm run lb` as an operator runs it, against `lb`'s admin listener. */
const cli = (lb: Balancer, words: string[]) =>
  runNode('fleet/cli-lb', [...words, '--admin-port', String(lb.adminPort)], {
    LOG_FORMAT: 'text',
    PORT_OFFSET: '',
  });

const adminLines = (lb: Balancer, name: string): LogLine[] =>
  lb.proc.lines.filter((l) => l.event === 'admin-change' && l.upstream === name);

/** Requests through `lb` until each of its workers has served `each` of them (400 or 20 s at most). */
async function throughEveryWorker(lb: Balancer, each: number): Promise<Map<string, number>> {
  const servedOf = async () => new Map((await lb.status()).workers.map((w) => [w.pid, w.served]));
  const before = await servedOf();
  const servedBy = new Map<string, number>();
  const deadline = Date.now() + 20_000;
  for (let round = 0; round < 20 && Date.now() < deadline; round++) {
    const load = await runLoad(lb.port, { total: 20, concurrency: 2, keepAlive: false });
    assert.equal(load.failed, 0, load.problems.join('; '));
    for (const [by, n] of load.servedBy) servedBy.set(by, (servedBy.get(by) ?? 0) + n);
    const after = await servedOf();
    if ([...after].every(([pid, n]) => n - (before.get(pid) ?? 0) >= each)) return servedBy;
  }
  throw new Error(`a worker of ${lb.proc.pid} served fewer than ${each} of the requests sent`);
}

/** The helpers' static list must not be empty; etcd discovery never reads it. */
const UNUSED_LIST = ['--upstreams', 'unused=127.0.0.1:1'];

function etcdBalancer(t: TestContext, lab: Lab, extra: string[] = []): Promise<Balancer> {
  return startCluster(t, [], [...etcdBalancerArgs(lab, TEST_HEALTH), ...UNUSED_LIST, ...extra]);
}

void test('a drain, ready or weight asked of one balancer is put into etcd and applied by the other within a second', async (t) => {
  const lab = await createTestLab(t, { hosts: 1, etcdMembers: 1, backendsPerHost: 2 });
  const host = lab.host('h1');
  const [first, second] = host.backends;
  assert.ok(first !== undefined && second !== undefined);
  const one = `h1/${first.name}`;
  const two = `h1/${second.name}`;
  const key = (name: string) => decisionKey(lab.prefix, lab.pool, name);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-decisions-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const stateOfA = path.join(dir, 'a.json');

  const a = await etcdBalancer(t, lab, ['--name', 'front-a', '--state-file', stateOfA]);
  let b = await etcdBalancer(t, lab, ['--name', 'front-b']);
  for (const lb of [a, b]) {
    await waitFor(async () => (await lb.status()).pool.available === 2, 'both backends in rotation', {
      timeoutMs: 15_000,
    });
    const { decisions } = (await lb.status()).balancer;
    assert.equal(decisions?.source, 'etcd');
    assert.equal(decisions?.connected, true);
  }

  await t.test(
    'a drain through A applies on B within a second, and none of B’s workers sends it a request',
    async () => {
      const answer = await control(a, one, 'drain');
      const answeredAt = Date.now();
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.json.admin, 'drain');
      const ms = await followedWithin(b, one, 'in drain', (u) => u.admin === 'drain', answeredAt);
      t.diagnostic(`B showed the drain ${ms} ms after A answered`);
      const stored = JSON.parse(await lab.etcd.ctl(['get', key(one), '--print-value-only'])) as Record<
        string,
        unknown
      >;
      assert.deepEqual({ admin: stored.admin, weight: stored.weight }, { admin: 'drain', weight: null });
      assert.match(String(stored.by), /via front-a on .*, admin port \d+$/);
      // One line on B, naming who asked A; A's echo of its own decision logs nothing more.
      await waitFor(() => adminLines(b, one).length === 1, "B's line");
      assert.equal(adminLines(b, one)[0]?.by, `etcd: ${String(stored.by)}`);
      assert.equal(adminLines(a, one).length, 1);
      assert.match(String(adminLines(a, one)[0]?.by), /^admin API from /, 'A names the asker itself');
      const servedBy = await throughEveryWorker(b, 5);
      assert.equal(
        servedBy.get(`h1-${first.name}`),
        undefined,
        `served by ${[...servedBy.keys()].join(', ')}`,
      );
      assert.ok((servedBy.get(`h1-${second.name}`) ?? 0) > 0);
    },
  );

  await t.test(
    'B restarted has the decisions from etcd before it takes traffic, one made while it was away too',
    async () => {
      await b.proc.stop('SIGINT', 10_000);
      for (const pid of seenPids(b)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone with its primary
        }
      }
      const answer = await control(a, two, 'weight/3');
      assert.equal(answer.status, 200, answer.body);
      // No state file (--port 0): what B knows at start is etcd's.
      b = await etcdBalancer(t, lab, ['--name', 'front-b']);
      const lines = b.proc.lines;
      const read = lines.findIndex((l) => l.event === 'etcd-decisions-read');
      const discovered = lines.findIndex((l) => l.event === 'discovery');
      const ready = lines.find((l) => l.event === 'ready');
      assert.ok(read !== -1 && read < discovered, 'the decisions are read before the pool is set');
      assert.match(String(lines[read]?.message), new RegExp(`${one} drain, ${two} weight 3`));
      // At ready the drained one was out of rotation already: held from the start, not applied later.
      assert.deepEqual({ available: ready?.available, size: ready?.size }, { available: 1, size: 2 });
      assert.deepEqual(adminLines(b, one), []);
      const status = await b.status();
      const byName = new Map(status.upstreams.map((u) => [u.name, u]));
      assert.equal(byName.get(one)?.admin, 'drain');
      assert.equal(byName.get(two)?.weight, 3);
      assert.ok((status.balancer.decisions?.revision ?? 0) > 0);
      const servedBy = await throughEveryWorker(b, 3);
      assert.equal(servedBy.get(`h1-${first.name}`), undefined);
    },
  );

  await t.test('ready through B applies on A within a second, and the key is gone', async () => {
    const answer = await control(b, one, 'ready');
    const answeredAt = Date.now();
    assert.equal(answer.status, 200, answer.body);
    const ms = await followedWithin(a, one, 'ready', (u) => u.admin === 'ready', answeredAt);
    t.diagnostic(`A showed the ready ${ms} ms after B answered`);
    assert.equal((await lab.etcd.ctl(['get', key(one)])).trim(), '');
    // A's line names who asked B: the value was put before the key was deleted.
    await waitFor(() => adminLines(a, one).length === 2, "A's line");
    assert.match(String(adminLines(a, one)[1]?.by), /^etcd: admin API from .* via front-b on /);
  });

  await t.test(
    'a weight through A applies on B, one through npm run lb on B applies on A; A’s state file keeps what is in force',
    async () => {
      const answer = await control(a, one, 'weight/0');
      const answeredAt = Date.now();
      assert.equal(answer.status, 200, answer.body);
      const ms = await followedWithin(b, one, 'at weight 0', (u) => u.weight === 0, answeredAt);
      t.diagnostic(`B showed the weight ${ms} ms after A answered`);
      const kept = JSON.parse(fs.readFileSync(stateOfA, 'utf8')) as { upstreams: Record<string, unknown> };
      assert.deepEqual(kept.upstreams, {
        [one]: { admin: 'ready', weight: 0 },
        [two]: { admin: 'ready', weight: 3 },
      });
      // npm run lb through B: its words are on A's line too.
      const run = await cli(b, ['weight', one, '1']);
      assert.equal(run.code, 0, run.stderr);
      await waitFor(async () => (await a.upstream(one)).weight === 1, `${one} at weight 1 on A`, {
        timeoutMs: 5000,
      });
      assert.match(
        String(adminLines(a, one).at(-1)?.by),
        /^etcd: supervised-balancer lb \(.*\) from .* via front-b on /,
      );
    },
  );

  await t.test(
    'a bad value written with etcdctl is refused on both with a warning naming the key',
    async () => {
      const bad = {
        [key(one)]: JSON.stringify({ admin: 'off', weight: null }),
        [key('h1/nobody')]: 'not json',
        [`${lab.prefix}/decisions/${lab.pool}/%E0%A4%A`]: JSON.stringify({ admin: 'drain', weight: null }),
      };
      const before = await Promise.all([a.status(), b.status()]);
      for (const [k, v] of Object.entries(bad)) await lab.etcd.ctl(['put', k, v]);
      for (const lb of [a, b]) {
        await waitFor(
          () =>
            Object.keys(bad).every((k) =>
              lb.proc.lines.some(
                (l) => l.event === 'etcd-decision-refused' && l.key === k && l.level === 'warn',
              ),
            ),
          'a warning per bad key',
          { timeoutMs: 5000 },
        );
      }
      const after = await Promise.all([a.status(), b.status()]);
      const decided = (s: (typeof after)[number]) =>
        s.upstreams.map((u) => `${u.name} ${u.admin} ${u.weight}`);
      assert.deepEqual(after.map(decided), before.map(decided));
      // The watch lives on: a good value from etcdctl (naming nobody) applies, its delete undoes it.
      await lab.etcd.ctl(['put', key(one), JSON.stringify({ admin: 'maint', weight: null })]);
      await waitFor(async () => (await b.upstream(one)).admin === 'maint', `${one} in maint`, {
        timeoutMs: 5000,
      });
      assert.equal(adminLines(b, one).at(-1)?.by, 'etcd: an unnamed writer');
      for (const k of Object.keys(bad)) await lab.etcd.ctl(['del', k]);
      const readyAgain = async (lb: Balancer) => {
        const u = await lb.upstream(one);
        return u.admin === 'ready' && u.weight === 1;
      };
      await waitFor(
        async () => (await readyAgain(a)) && (await readyAgain(b)),
        `${one} ready again on both`,
        {
          timeoutMs: 5000,
        },
      );
      assert.equal(adminLines(a, one).at(-1)?.by, 'etcd: its decision was deleted');
    },
  );

  await t.test(
    'etcd down: a decision is refused with 503 and changes nothing; a balancer started meanwhile keeps its state file until etcd answers',
    async () => {
      const [member] = lab.etcd.members;
      assert.ok(member !== undefined);
      const fileOfC = path.join(dir, 'c.json');
      fs.writeFileSync(
        fileOfC,
        JSON.stringify({ version: 1, upstreams: { [two]: { admin: 'maint', weight: null } } }),
      );
      await lab.etcd.stopMember(member);
      try {
        await whileEtcdIsDown(member, fileOfC);
      } finally {
        // Started again whatever happened (a no-op when it runs): the lab's teardown expects it.
        lab.etcd.startMember(member);
      }
    },
  );

  async function whileEtcdIsDown(member: (typeof lab.etcd.members)[number], fileOfC: string): Promise<void> {
    const asked = Date.now();
    const answer = await control(a, one, 'drain');
    t.diagnostic(`refused after ${Date.now() - asked} ms`);
    assert.equal(answer.status, 503, answer.body);
    assert.match(
      String(answer.json.error),
      /^etcd unreachable: the decision was not made, since the other balancers would not see it/,
    );
    assert.equal(answer.json.code, 'ERR_DECISION_NOT_SHARED');
    assert.equal((await a.upstream(one)).admin, 'ready');
    assert.equal((await b.upstream(one)).admin, 'ready');
    const run = await cli(a, ['maint', one]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /refused \(503\): etcd unreachable: the decision was not made/);
    assert.equal((await a.upstream(one)).admin, 'ready');
    assert.ok(a.proc.lines.some((l) => l.event === 'admin-refused' && l.status === 503));
    await waitFor(
      async () => (await a.status()).balancer.decisions?.connected === false,
      'A says etcd is away',
      {
        timeoutMs: 10_000,
      },
    );
    assert.ok((await a.status()).balancer.decisions?.lastError);

    // One process, a state file, and etcd away at its start: the file's decision holds, one warning.
    const c = await startBalancer(
      t,
      [],
      [...etcdBalancerArgs(lab, TEST_HEALTH), ...UNUSED_LIST, '--name', 'front-c', '--state-file', fileOfC],
    );
    const unreachable = () => c.proc.lines.filter((l) => l.event === 'etcd-decisions-unreachable');
    assert.equal(unreachable().length, 1);
    assert.match(
      String(unreachable()[0]?.message),
      /keeping the state file's 1 operator decision until etcd's can be read/,
    );

    lab.etcd.startMember(member);
    await lab.etcd.waitHealthy(1, 20_000);
    // etcd's decision for it (none: ready, weight 3 from before) replaces the state file's maint.
    await waitFor(
      async () => {
        const u = (await c.status()).upstreams.find((x) => x.name === two);
        return u?.admin === 'ready' && u.weight === 3;
      },
      "C has etcd's decisions",
      { timeoutMs: 15_000 },
    );
    assert.equal(unreachable().length, 1, 'one warning for the outage');
    // Said once: in the read's line while it was not in the pool yet, else on its own line.
    const replaced =
      c.proc.lines.some(
        (l) =>
          l.event === 'etcd-decisions-read' &&
          String(l.message).includes(`replacing those kept here: ${two} maint -> weight 3`),
      ) ||
      adminLines(c, two).some(
        (l) => String(l.by).startsWith('etcd: ') && String(l.message).startsWith(`${two}: maint -> ready`),
      );
    assert.ok(replaced, "a line says etcd's decision replaced the state file's");
    assert.equal((await lab.etcd.ctl(['get', key(one)])).trim(), '', 'the refused drain is nowhere');
    // A follows etcd again: a drain through it is taken and reaches B.
    await waitFor(async () => (await a.status()).balancer.decisions?.connected === true, 'A reconnected', {
      timeoutMs: 15_000,
    });
    const again = await control(a, one, 'drain');
    const answeredAt = Date.now();
    assert.equal(again.status, 200, again.body);
    const ms = await followedWithin(b, one, 'in drain', (u) => u.admin === 'drain', answeredAt);
    t.diagnostic(`after the outage, B showed a drain ${ms} ms after A answered`);
  }
});
