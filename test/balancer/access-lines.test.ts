/**
 * The balancer's access lines as PM2 gets them: real balancer processes writing to a pipe the test
 * reads. Every request's line appears exactly once, in the order each connection sent them, in
 * both formats and from a cluster's two workers sharing the pipe (no line torn); requests still in
 * flight when the balancer is stopped (SIGINT, SIGTERM) or reloaded (SIGHUP) get their lines before
 * their process exits; and a reader that stops reading costs dropped lines, counted in a warning,
 * never a blocked or growing balancer.
 */
import { spawn } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { startBackends, startBalancer, startHttpServer, type Balancer } from '../helpers/balancer-fleet.js';
import { startCluster } from '../helpers/cluster.js';
import { DIST } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/** One GET with an X-Request-ID, on `agent`; its status (a broken one fails the test). */
function get(port: number, target: string, id: string, agent: http.Agent | false): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: target, agent, headers: { 'X-Request-ID': id } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

/**
 * `perConnection` requests one after another on each of `connections` keep-alive connections at
 * once; the IDs sent, by connection (`<prefix><connection>-<n>`).
 */
async function sendInTurn(
  port: number,
  connections: number,
  perConnection: number,
  prefix = 'c',
): Promise<string[][]> {
  const sent = Array.from({ length: connections }, (_, c) =>
    Array.from({ length: perConnection }, (_, n) => `${prefix}${c}-${n}`),
  );
  await Promise.all(
    sent.map(async (ids) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (const id of ids) assert.equal(await get(port, `/page.html?id=${id}`, id, agent), 200);
      } finally {
        agent.destroy();
      }
    }),
  );
  return sent;
}

/** Each ID sent appears once among `seen`, and each connection's in the order they were sent. */
function assertOnceInOrder(seen: readonly string[], sent: readonly (readonly string[])[]): void {
  const all = sent.flat();
  const counts = new Map<string, number>();
  for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
  const wrong = all.filter((id) => counts.get(id) !== 1).map((id) => `${id} x${counts.get(id) ?? 0}`);
  assert.deepEqual(wrong, [], 'every request has exactly one access line');
  const ours = new Set(all);
  assert.deepEqual(
    seen.filter((id) => !ours.has(id)),
    [],
    'no access line for a request not sent',
  );
  for (const ids of sent) {
    const mine = new Set(ids);
    assert.deepEqual(
      seen.filter((id) => mine.has(id)),
      ids,
      'one connection in its order',
    );
  }
}

const jsonIds = (lb: Balancer): string[] =>
  lb.proc.lines.filter((l) => l.event === 'access').map((l) => String(l.requestId));

/** The balancer with LOG_FORMAT=text, its stdout read line by line from the pipe. */
interface TextBalancer {
  port: number;
  lines: string[];
}

async function startTextBalancer(t: TestContext, upstreams: readonly number[]): Promise<TextBalancer> {
  const child = spawn(
    process.execPath,
    [
      path.join(DIST, 'balancer.js'),
      ...['--port', '0', '--admin-port', '0', '--discovery', 'static', '--workers', '1'],
      ...['--upstreams', upstreams.map((p) => `127.0.0.1:${p}`).join(','), '--health-interval', '100ms'],
    ],
    { env: { ...process.env, LOG_FORMAT: 'text', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: string[] = [];
  let rest = '';
  let errors = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const port = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`the balancer exited: ${errors}`);
    const listening = lines.find((l) => / \[balancer\] balancer listening on http:\/\//.test(l));
    const ready = lines.some((l) => / \[balancer\] ready: /.test(l));
    return ready ? Number(/127\.0\.0\.1:(\d+)/.exec(listening ?? '')?.[1]) : undefined;
  }, 'the text balancer to be ready');
  return { port, lines };
}

const ACCESS_TEXT =
  /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}\[balancer\] GET \/page\.html\?id=\S+ -> backend-\d+ 200 [\d.,]+ m?s \d+B from 127\.0\.0\.1 host=\S+ - id=(\S+)$/;

void test('text, one process: every request has one readable access line, in the order each connection sent them', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await startTextBalancer(
    t,
    backends.map((b) => b.port),
  );
  const sent = await sendInTurn(lb.port, 4, 100);
  const ids = await waitFor(() => {
    const found = lb.lines.filter((l) => l.includes(' -> ')).map((l) => ACCESS_TEXT.exec(l)?.[1] ?? `?${l}`);
    return found.length >= 400 ? found : undefined;
  }, 'four hundred access lines');
  assertOnceInOrder(ids, sent);
});

void test('json, two workers on one pipe: every request has one whole JSON line, in each connection’s order', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await startCluster(
    t,
    backends.map((b) => b.port),
  );
  const sent = await sendInTurn(lb.port, 6, 150);
  const ids = await waitFor(() => {
    const found = jsonIds(lb);
    return found.length >= 900 ? found : undefined;
  }, 'nine hundred access lines');
  assertOnceInOrder(ids, sent);
  const workers = new Set(lb.proc.lines.filter((l) => l.event === 'access').map((l) => l.service));
  assert.equal(workers.size, 2, `both workers wrote lines: ${[...workers].join(', ')}`);
  assert.doesNotMatch(lb.proc.text(), /access/, 'no access line came out torn (every line parsed as JSON)');
});

/** An upstream that answers at once, except /hold..., which waits for `release`. */
async function holdingUpstream(t: TestContext) {
  const held: http.ServerResponse[] = [];
  const { port } = await startHttpServer(t, (req, res) => {
    if (req.url?.startsWith('/hold') === true) held.push(res);
    else res.end('ok');
  });
  return {
    port,
    held,
    release: () => {
      for (const res of held.splice(0)) res.end('late');
    },
  };
}

/**
 * Requests on their own connections that the upstream holds; once it holds them all, their
 * statuses to come (in an object: an async function returning a promise would wait for it).
 */
async function holdRequests(
  lb: Balancer,
  upstream: { held: unknown[] },
  ids: readonly string[],
): Promise<{ statuses: Promise<number[]> }> {
  const statuses = Promise.all(ids.map((id) => get(lb.port, `/hold?id=${id}`, id, false)));
  await waitFor(() => upstream.held.length === ids.length, `${ids.length} requests held by the upstream`);
  return { statuses };
}

for (const workers of [1, 2]) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    void test(`--workers ${workers}, ${signal}: requests still in flight at the stop get their lines before the exit`, async (t) => {
      const upstream = await holdingUpstream(t);
      const lb =
        workers === 1 ? await startBalancer(t, [upstream.port]) : await startCluster(t, [upstream.port]);
      const sent = await sendInTurn(lb.port, 2, 20, 'q');
      const heldIds = ['h0', 'h1', 'h2', 'h3'];
      const { statuses } = await holdRequests(lb, upstream, heldIds);
      lb.proc.child.kill(signal);
      await lb.proc.waitForLine(
        (l) => l.event === 'shutdown' || l.event === 'worker-drain',
        'the balancer to start draining',
      );
      upstream.release();
      assert.deepEqual(await statuses, [200, 200, 200, 200]);
      const exit = await Promise.race([
        lb.proc.exited,
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000).unref()),
      ]);
      assert.deepEqual(exit, { code: 0, signal: null });
      assertOnceInOrder(jsonIds(lb), [...sent, ...heldIds.map((id) => [id])]);
      const stopped = lb.proc.lines.findIndex((l) => l.event === 'stopped');
      const lastAccess = lb.proc.lines.findLastIndex((l) => l.event === 'access');
      assert.ok(
        stopped > lastAccess,
        `'stopped' (line ${stopped}) comes after the last access line (${lastAccess})`,
      );
    });
  }
}

void test('a reload: the old workers write the lines of the requests they finish while they drain', async (t) => {
  const upstream = await holdingUpstream(t);
  const lb = await startCluster(t, [upstream.port]);
  const before = await sendInTurn(lb.port, 2, 20, 'b');
  const heldIds = ['h0', 'h1', 'h2', 'h3'];
  const { statuses } = await holdRequests(lb, upstream, heldIds);
  lb.proc.child.kill('SIGHUP');
  await lb.proc.waitForLine((l) => l.event === 'reload-done', 'the reload to finish', 20_000);
  upstream.release();
  assert.deepEqual(await statuses, [200, 200, 200, 200]);
  const after = await sendInTurn(lb.port, 2, 20, 'a');
  const ids = await waitFor(() => {
    const found = jsonIds(lb);
    return found.length >= 84 ? found : undefined;
  }, 'every access line');
  assertOnceInOrder(ids, [...before, ...heldIds.map((id) => [id]), ...after]);
  const byWhom = (prefix: string) =>
    lb.proc.lines
      .filter((l) => l.event === 'access' && String(l.requestId).startsWith(prefix))
      .map((l) => String(l.service));
  const newWorkers = new Set(byWhom('a'));
  const heldBy = byWhom('h');
  assert.ok(
    heldBy.every((w) => !newWorkers.has(w)),
    `the old workers logged the held requests (${heldBy.join(', ')}; new: ${[...newWorkers].join(', ')})`,
  );
});

void test('a reader that stops reading: lines beyond the backlog are dropped and counted, the balancer serves on', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    ['--access-log-backlog', '16384'],
  );
  // Like a PM2 daemon that stalls: the pipe and this side's buffer fill, then the balancer's backlog.
  lb.proc.child.stdout?.pause();
  const sent = await sendInTurn(lb.port, 4, 300);
  const dropping = await lb.proc.waitForLine(
    (l) => l.event === 'access-lines-dropping',
    'the dropping warning',
  );
  assert.equal(dropping.level, 'warn');
  assert.equal(dropping.backlogBytes, 16384);
  lb.proc.child.stdout?.resume();
  // One count per spell of dropping; a reader that catches up and falls behind again makes several.
  const droppedSoFar = (): number =>
    lb.proc.lines
      .filter((l) => l.event === 'access-lines-dropped')
      .reduce((sum, l) => sum + Number(l.dropped), 0);
  await waitFor(() => droppedSoFar() > 0, 'the count of dropped lines');
  const ids = await waitFor(() => {
    const found = jsonIds(lb);
    return found.length + droppedSoFar() >= 1200 ? found : undefined;
  }, 'every line not dropped');
  const dropped = droppedSoFar();
  assert.ok(dropped > 0 && dropped < 1200, `${dropped} dropped`);
  assert.equal(ids.length + dropped, 1200, 'each request was either logged or counted as dropped');
  assert.equal(new Set(ids).size, ids.length, 'no line twice');
  for (const connection of sent) {
    const mine = new Set(connection);
    const order = ids.filter((id) => mine.has(id)).map((id) => connection.indexOf(id));
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      'the lines kept are in order',
    );
  }
  // Caught up: lines are written again.
  const later = await sendInTurn(lb.port, 1, 5, 'later');
  const again = await waitFor(() => {
    const found = jsonIds(lb).filter((id) => id.startsWith('later'));
    return found.length >= 5 ? found : undefined;
  }, 'lines after the reader caught up');
  assert.deepEqual(again, later[0]);
});
