import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { RawConnection } from '../helpers/raw-http.js';
import {
  balancerOn,
  REQUEST_PATHS,
  runLoad,
  startBackends,
  type Balancer,
} from '../helpers/balancer-fleet.js';
import { delay } from '../helpers/wait.js';

/**
 * Default keep-alive timeouts (backends 5 s, the balancer's pooled connections 4 s). A request
 * head given a warm pooled connection and then left waiting for a body is, to the backend, an
 * idle connection: it closes it 5 s after its last response, and a balancer that streamed bodies
 * as they came blamed the backend for the reset.
 */
const BACKEND_ARGS: string[] = [];
const BALANCER_ARGS = ['--request-timeout', '3s', '--headers-timeout', '2s', '--health-interval', '200ms'];

function postHead(length: number, extra = ''): string {
  return `POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\n${extra}\r\n`;
}

async function open(t: TestContext, port: number): Promise<RawConnection> {
  const conn = await RawConnection.open(port);
  t.after(() => conn.destroy());
  return conn;
}

/** Every upstream up, none with a failure or a request still counted in flight. */
async function assertPoolWhole(lb: Balancer): Promise<void> {
  const status = await lb.status();
  for (const u of status.upstreams) {
    assert.equal(u.state, 'up', `${u.name} is ${u.state}: ${u.reason}`);
    assert.equal(u.failures, 0, `${u.name} has ${u.failures} failures`);
  }
  const blamed = lb.proc.lines.filter((l) => /left the pool|taken out/.test(l.message));
  assert.deepEqual(
    blamed.map((l) => l.message),
    [],
  );
}

for (const engine of REQUEST_PATHS) {
  const startBalancer = balancerOn(engine);

  void test(`${engine}: a body that starts after the backends' keep-alive timeout is proxied whole, and no upstream is blamed`, async (t) => {
    const backends = await startBackends(t, 2, BACKEND_ARGS);
    const lb = await startBalancer(
      t,
      backends.map((b) => b.port),
      BALANCER_ARGS,
    );
    // Warm connections to both backends, as under load.
    assert.equal((await runLoad(lb.port, { total: 20, concurrency: 4 })).failed, 0);
    const body = 'slow-body'.repeat(10);
    // Idle 3 s, then headers, then the body 3 s later: 6 s after the backends' last responses.
    await delay(3000);
    const conns = await Promise.all([open(t, lb.port), open(t, lb.port)]);
    for (const c of conns) await c.write(postHead(body.length));
    await delay(3000);
    for (const c of conns) await c.write(body);
    for (const c of conns) {
      const res = await c.readResponse({ timeoutMs: 5000 });
      assert.equal(res.status, 200, res.body.toString('utf8'));
    }
    await assertPoolWhole(lb);
  });

  void test(`${engine}: clients that leave after their POST headers, or send Expect: 100-continue and no body, empty no pool; ordinary clients see no failure`, async (t) => {
    const backends = await startBackends(t, 2, BACKEND_ARGS);
    const lb = await startBalancer(
      t,
      backends.map((b) => b.port),
      BALANCER_ARGS,
    );
    assert.equal((await runLoad(lb.port, { total: 20, concurrency: 4 })).failed, 0);

    const leaving = await Promise.all([open(t, lb.port), open(t, lb.port)]);
    for (const c of leaving) await c.write(postHead(100));
    const expecting = await open(t, lb.port);
    await expecting.write(postHead(100, 'Expect: 100-continue\r\n'));
    const sentAt = Date.now();
    // Meanwhile an ordinary client: every answer must be a 200.
    const load = runLoad(lb.port, { total: 150, concurrency: 2 });

    const interim = await expecting.readResponse({ timeoutMs: 2000 });
    assert.equal(interim.status, 100, 'the balancer asks for the body');
    await delay(1500);
    for (const c of leaving) c.destroy();

    const final = await expecting.readResponse({ timeoutMs: 6000 });
    const waited = Date.now() - sentAt;
    assert.equal(final.status, 408, final.body.toString('utf8'));
    assert.match(final.body.toString('utf8'), /not received within 3000ms/);
    assert.ok(
      waited >= 2900 && waited <= 4000,
      `the 408 came ${waited}ms after the headers (--request-timeout 3s)`,
    );
    await expecting.waitForClose(3000);

    const result = await load;
    assert.equal(result.failed, 0, `ordinary clients failed: ${result.problems.join('; ')}`);
    const gone = await lb.proc.waitForLine(
      (l) => l.event === 'access' && l.method === 'POST' && l.status === 499,
      'an access line for a client that left',
    );
    assert.equal(gone.upstream, null, 'the abandoned upload never reached an upstream');
    await assertPoolWhole(lb);
  });
}
