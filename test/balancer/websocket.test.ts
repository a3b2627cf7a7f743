import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawExchange } from '../helpers/raw-http.js';
import { startBackends, startBalancer, waitForState } from '../helpers/balancer-fleet.js';
import { openEcho, refusedStatus } from '../helpers/ws-client.js';
import { waitFor } from '../helpers/wait.js';
import { parsePrometheusText, sumSamples } from '../helpers/prometheus-text.js';

function echoUrl(port: number): string {
  return `ws://127.0.0.1:${port}/ws/echo`;
}

async function metricsText(adminPort: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
  return res.text();
}

void test('WebSockets through the balancer echo and spread over four backends, and show in status and metrics', async (t) => {
  const backends = await startBackends(t, 4);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
  );
  const clients = [];
  for (let i = 0; i < 8; i++) clients.push(await openEcho(t, echoUrl(lb.port)));
  const landed = new Map<string, number>();
  for (const c of clients) landed.set(c.hello.hello, (landed.get(c.hello.hello) ?? 0) + 1);
  assert.deepEqual([...landed.keys()].sort(), ['b1', 'b2', 'b3', 'b4']);
  assert.deepEqual([...landed.values()], [2, 2, 2, 2]);

  for (const [i, c] of clients.entries()) assert.equal(await c.echo(`message ${i}`), `message ${i}`);
  const big = 'x'.repeat(200_000);
  assert.equal(await clients[0]!.echo(big), big);

  const status = await lb.status();
  assert.equal(status.balancer.tunnels.open, 8);
  for (const u of status.upstreams) {
    assert.equal(u.tunnels.open, 2, `${u.name} tunnels`);
    assert.ok(u.inFlight >= 2, `${u.name} counts its tunnels as in flight`);
    assert.ok(u.tunnels.bytesToUpstream > 0 && u.tunnels.bytesFromUpstream > 0);
  }
  const families = parsePrometheusText(await metricsText(lb.adminPort));
  assert.equal(sumSamples(families, 'balancer_upstream_tunnels_open', {}), 8);
  const up = sumSamples(families, 'balancer_tunnel_bytes_total', { direction: 'to_upstream' });
  const down = sumSamples(families, 'balancer_tunnel_bytes_total', { direction: 'from_upstream' });
  assert.ok(up > big.length && down > big.length, `bytes up ${up}, down ${down}`);

  for (const c of clients) c.ws.close();
  await Promise.all(clients.map((c) => c.closed));
  await waitFor(
    async () => ((await lb.status()).balancer.tunnels.open === 0 ? true : undefined),
    'tunnels to close',
  );
  const after = await lb.status();
  for (const u of after.upstreams) assert.equal(u.inFlight, 0, `${u.name} has nothing in flight`);
  await lb.proc.waitForLine(
    (l) => l.event === 'access' && l.status === 101 && l.upgrade === true,
    'the access line of the tunnel',
  );
});

void test('a backend killed mid-tunnel ends that tunnel, and a reconnect lands on a live backend', async (t) => {
  const backends = await startBackends(t, 4);
  // Slow health checks: the reconnect must find the dead backend by its refused connection.
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    ['--health-interval', '10s'],
  );
  const client = await openEcho(t, echoUrl(lb.port));
  const victim = backends.find((b) => b.name === client.hello.hello)!;
  assert.equal(await client.echo('before'), 'before');
  await victim.proc.stop('SIGKILL');
  await client.closed;

  // Four reconnects: one of them is sent to the dead backend first, refused, and retried elsewhere.
  for (let i = 0; i < 4; i++) {
    const again = await openEcho(t, echoUrl(lb.port));
    assert.notEqual(again.hello.hello, victim.name);
    assert.equal(await again.echo(`after ${i}`), `after ${i}`);
    again.ws.close();
  }
  const dead = await waitForState(lb, `backend-${victim.port}`, 'down');
  assert.match(dead.reason, /tunnel/);
  assert.equal(dead.tunnels.open, 0);
  assert.ok(lb.proc.lines.some((l) => l.event === 'tunnel-closed' && l.why === 'upstream closed'));
});

void test('an idle tunnel is closed at --tunnel-idle-timeout, a busy one is not', async (t) => {
  const backends = await startBackends(t, 1);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    ['--tunnel-idle-timeout', '400ms'],
  );
  const idle = await openEcho(t, echoUrl(lb.port));
  const busy = await openEcho(t, echoUrl(lb.port));
  let idleClosed = false;
  void idle.closed.then(() => (idleClosed = true));
  // The busy one talks every 100 ms, well inside the timeout, until the idle one is gone.
  for (let i = 0; i < 40 && !idleClosed; i++) {
    assert.equal(await busy.echo(`tick ${i}`), `tick ${i}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(idleClosed, true, 'the idle tunnel was closed');
  assert.equal(await busy.echo('still here'), 'still here');
  const line = await lb.proc.waitForLine(
    (l) => l.event === 'tunnel-closed' && l.why === 'idle',
    'the idle line',
  );
  assert.ok(Number(line.ms) >= 400);
});

void test('--max-tunnels: the next upgrade gets 503 with a reason, and one closing makes room', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    ['--max-tunnels', '2'],
  );
  const first = await openEcho(t, echoUrl(lb.port));
  await openEcho(t, echoUrl(lb.port));
  const refused = await refusedStatus(echoUrl(lb.port));
  assert.equal(refused.status, 503);
  assert.match(refused.body, /2 tunnels are open.*--max-tunnels/);
  // An ordinary request is not held to the tunnel cap.
  const page = await fetch(`http://127.0.0.1:${lb.port}/page.html`);
  assert.equal(page.status, 200);
  first.ws.close();
  await first.closed;
  await waitFor(
    async () => ((await lb.status()).balancer.tunnels.open === 1 ? true : undefined),
    'a free slot',
  );
  const third = await openEcho(t, echoUrl(lb.port));
  assert.equal(await third.echo('room'), 'room');
});

void test('h2c upgrades, upgrades with a body and non-GET upgrades are refused with 400 and a log line', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
  );
  const head = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;
  const cases = [
    {
      request: head([
        'GET / HTTP/1.1',
        'Host: 127.0.0.1',
        'Connection: Upgrade, HTTP2-Settings',
        'Upgrade: h2c',
        'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA',
      ]),
      reason: /Upgrade: h2c is never forwarded/,
    },
    {
      request: head([
        'POST /ws/echo HTTP/1.1',
        'Host: 127.0.0.1',
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Content-Length: 0',
      ]),
      reason: /an upgrade must be a GET, not POST/,
    },
    {
      request:
        head([
          'GET /ws/echo HTTP/1.1',
          'Host: 127.0.0.1',
          'Connection: Upgrade',
          'Upgrade: websocket',
          'Content-Length: 5',
        ]) + 'hello',
      reason: /must not carry a body/,
    },
  ];
  for (const c of cases) {
    const res = await rawExchange(lb.port, c.request);
    assert.equal(res.status, 400);
    assert.match(res.body.toString(), c.reason);
    assert.equal(res.headers.connection, 'close');
    await lb.proc.waitForLine(
      (l) => l.event === 'own-answer' && l.status === 400 && c.reason.test(String(l.reason)),
      'the refusal line',
    );
  }
  const status = await lb.status();
  for (const u of status.upstreams) {
    assert.equal(u.attempts, 0, `${u.name} never saw a refused upgrade`);
    assert.equal(u.state, 'up');
  }
});

void test("an upstream's answer other than 101 is relayed as an ordinary response", async (t) => {
  const backends = await startBackends(t, 1);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
  );
  const res = await rawExchange(
    lb.port,
    'GET /ws/nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  assert.equal(res.status, 404);
  assert.equal(res.headers['x-served-by'], 'b1');
  assert.match(res.body.toString(), /no WebSocket endpoint at \/ws\/nowhere/);
  assert.equal((await lb.status()).upstreams[0]?.state, 'up');
});

void test('a draining balancer closes its tunnels spread over --tunnel-close-spread, then exits', async (t) => {
  const backends = await startBackends(t, 2);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    ['--grace-ms', '3000', '--tunnel-close-spread', '1200ms'],
  );
  const clients = [];
  for (let i = 0; i < 4; i++) clients.push(await openEcho(t, echoUrl(lb.port)));
  const closedAt: number[] = [];
  for (const c of clients) void c.closed.then(() => closedAt.push(performance.now()));
  const exited = lb.proc.stop('SIGTERM', 8000);
  await Promise.all(clients.map((c) => c.closed));
  const { code } = await exited;
  assert.equal(code, 0);
  closedAt.sort((a, b) => a - b);
  // Four closings at 0, 300, 600 and 900 ms: spread out, not all in one moment.
  const spread = closedAt[3]! - closedAt[0]!;
  assert.ok(spread >= 600, `closings spread over ${Math.round(spread)}ms`);
  assert.equal(
    lb.proc.lines.filter((l) => l.event === 'tunnel-closed' && l.why === 'balancer draining').length,
    4,
  );
});

void test('a backend that stops gracefully closes its WebSockets with 1001 (going away)', async (t) => {
  const backends = await startBackends(t, 1);
  const client = await openEcho(t, echoUrl(backends[0]!.port));
  assert.equal(client.hello.hello, 'b1');
  const exited = backends[0]!.proc.stop('SIGTERM');
  assert.equal(await client.closed, 1001);
  assert.equal((await exited).code, 0);
});
