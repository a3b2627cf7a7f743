import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../helpers/raw-http.js';
import {
  runLoad,
  startBackend,
  startBackends,
  balancerOn,
  REQUEST_PATHS,
  waitForState,
  type Balancer,
} from '../helpers/balancer-fleet.js';
import { waitFor } from '../helpers/wait.js';

const TOTAL = 2000;
const CONCURRENCY = 20;

/**
 * Watch the status until `name` is down and return the attempts it had received by then: after
 * that moment the balancer must send it nothing more.
 */
async function attemptsWhenDown(lb: Balancer, name: string): Promise<number> {
  const down = await waitForState(lb, name, 'down', 15_000);
  return down.attempts;
}

for (const [engine, signal] of REQUEST_PATHS.flatMap((e) =>
  (['SIGKILL', 'SIGINT'] as const).map((s) => [e, s] as const),
)) {
  const startBalancer = balancerOn(engine);
  const how = signal === 'SIGKILL' ? 'is killed (SIGKILL)' : 'stops gracefully (SIGINT)';
  void test(`${engine}: a backend that ${how} under keep-alive load costs no request`, async (t) => {
    const backends = await startBackends(t, 4);
    const lb = await startBalancer(
      t,
      backends.map((b) => b.port),
    );
    const victim = backends[1]!;
    const victimName = `backend-${victim.port}`;
    let frozen: Promise<number> | undefined;

    const result = await runLoad(lb.port, {
      total: TOTAL,
      concurrency: CONCURRENCY,
      onProgress: (done) => {
        if (done === 300) {
          // The victim has connections pooled and requests in flight right now.
          void victim.proc.stop(signal);
          frozen = attemptsWhenDown(lb, victimName);
        }
      },
    });

    assert.equal(result.failed, 0, `failed requests: ${result.problems.join('; ')}`);
    assert.equal(result.ok, TOTAL);
    assert.ok(frozen, 'the victim was stopped during the load');
    const attemptsAtDown = await frozen;
    const exit = await victim.proc.exited;
    if (signal === 'SIGINT') assert.equal(exit.code, 0, 'the backend drained and exited 0');

    const after = await lb.upstream(victimName);
    assert.equal(after.state, 'down');
    assert.equal(after.attempts, attemptsAtDown, 'no request was sent to it after it was marked down');
    assert.ok((result.servedBy.get(victim.name) ?? 0) < TOTAL / 4, 'it served less than its share');
    for (const b of backends) {
      if (b !== victim) assert.ok((result.servedBy.get(b.name) ?? 0) > TOTAL / 5, `${b.name} took over`);
    }
    const change = lb.proc.lines.find(
      (l) => l.event === 'pool-change' && l.upstream === victimName && l.to === 'down',
    );
    assert.ok(change, 'one pool-change line says it left');
    assert.match(change.message, new RegExp(`^${victimName} left the pool: `));
  });
}

for (const engine of REQUEST_PATHS) {
  const startBalancer = balancerOn(engine);

  void test(`${engine}: all backends down: 503 with Retry-After; back up: traffic resumes without a restart`, async (t) => {
    const first = await startBackends(t, 2);
    const lb = await startBalancer(
      t,
      first.map((b) => b.port),
    );
    assert.equal((await request(lb.port, '/page.html')).status, 200);

    await Promise.all(first.map((b) => b.proc.stop('SIGINT')));
    for (const b of first) await waitForState(lb, `backend-${b.port}`, 'down');

    const refused = await request(lb.port, '/page.html');
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After says when to come back');
    assert.match(refused.body.toString('utf8'), /no upstream is available/);
    assert.equal(refused.headers['x-served-by'], 'balancer');
    await lb.proc.waitForLine((l) => l.event === 'own-answer' && l.status === 503, 'the 503 line');

    // The same ports again (a PM2 restart does this): the balancer's checks bring them back.
    const again = await Promise.all(first.map((b) => startBackend(t, `${b.name}-again`, b.port)));
    for (const b of again) await waitForState(lb, `backend-${b.port}`, 'up');
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await request(lb.port, '/page.html');
      assert.equal(res.status, 200);
      served.add(String(res.headers['x-served-by']));
    }
    assert.deepEqual([...served].sort(), ['b1-again', 'b2-again']);
    const rejoined = lb.proc.lines.filter(
      (l) => l.event === 'pool-change' && l.to === 'up' && l.from === 'down',
    );
    assert.equal(rejoined.length, 2);
    assert.match(rejoined[0]?.message ?? '', /rejoined after 2 checks$/);
  });

  void test(`${engine}: with --no-retries a failed attempt is a 502 at once, and the upstream still leaves the pool`, async (t) => {
    const backends = await startBackends(t, 2);
    const lb = await startBalancer(
      t,
      backends.map((b) => b.port),
      ['--no-retries', '--health-interval', '5s'],
    );
    const victim = backends[0]!;
    await victim.proc.stop('SIGKILL');
    // The checks are slow here, so the first request still goes to the dead backend.
    const res = await request(lb.port, '/page.html');
    assert.equal(res.status, 502);
    assert.match(res.body.toString('utf8'), new RegExp(`tried backend-${victim.port}: connection`));
    const u = await lb.upstream(`backend-${victim.port}`);
    assert.equal(u.state, 'down', 'passive health marked it down');
    const next = await waitFor(async () => {
      const r = await request(lb.port, '/page.html');
      return r.status === 200 ? r : undefined;
    }, 'the next request to succeed');
    assert.equal(next.headers['x-served-by'], backends[1]?.name);
  });
}
