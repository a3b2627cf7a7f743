/**
 * Every timeout the balancer documents holds within a second of its value (docs/hardening.md):
 * headers, request, client keep-alive, proxy and connect (for requests and upgrades alike), and
 * health check. Measured from outside, on real sockets, with values of a few seconds so a late cut
 * cannot hide in the noise.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { LISTEN_BACKLOG } from '../../src/net/listen.js';
import { rawExchange, rawRequest, request } from '../helpers/raw-http.js';
import {
  balancerOn,
  REQUEST_PATHS,
  startBackends,
  startBalancer,
  startHttpServer,
  startTcpServer,
} from '../helpers/balancer-fleet.js';
import {
  assertHeadersTimeout,
  assertKeepAliveTimeout,
  assertRequestTimeout,
  assertWithinASecond,
  silentConnections,
  type SilentConnection,
} from '../helpers/timing.js';
import { refusedStatus } from '../helpers/ws-client.js';
import { waitFor } from '../helpers/wait.js';

void test("slowloris and silent sockets are cut within a second of the balancer's --headers-timeout", async (t) => {
  const [backend] = await startBackends(t, 1);
  const lb = await startBalancer(t, [backend!.port], ['--headers-timeout', '3s']);
  await assertHeadersTimeout(t, lb.port, 3000);
});

void test('500 connections that never send a byte, opened at once, are each closed between their --headers-timeout deadline and 1.5 s after it, without a 408', async (t) => {
  const [backend] = await startBackends(t, 1);
  const headersMs = 2000;
  const lb = await startBalancer(t, [backend!.port], ['--headers-timeout', '2s']);
  // Before: node's 511-connection accept queue overflowed (handshakes dropped, accepted seconds
  // late or never), node checked for expired connections once a second, and each expiry wrote a
  // 408, armed a timer and logged a warning, all in one go.
  const connections = await silentConnections(t, lb.port, 500, 20_000);
  const early = connections.filter((c) => c.closed - c.asked < headersMs);
  const late = connections.filter((c) => c.closed - c.connected > headersMs + 1500);
  const span = (cs: SilentConnection[]): string =>
    cs.length === 0
      ? ''
      : `${Math.round(Math.min(...cs.map((c) => c.closed - c.asked)))}..${Math.round(Math.max(...cs.map((c) => c.closed - c.asked)))}ms`;
  assert.equal(early.length, 0, `${early.length} closed before their deadline (${span(early)})`);
  assert.equal(late.length, 0, `${late.length} closed over 1.5 s after their deadline (${span(late)})`);
  assert.deepEqual(
    connections.filter((c) => c.bytes > 0).map((c) => c.bytes),
    [],
    'nothing is written to a connection that asked nothing',
  );
  assert.equal(lb.proc.child.exitCode, null);
});

void test("the public listener's accept queue is as long as the kernel allows up to 4096, not node's 511", async (t) => {
  const [backend] = await startBackends(t, 1);
  const lb = await startBalancer(t, [backend!.port]);
  // For a listening socket, ss shows the backlog as Send-Q.
  const [state, , sendQ] = execFileSync('ss', ['-Hltn', `sport = :${lb.port}`])
    .toString()
    .trim()
    .split(/\s+/);
  assert.equal(state, 'LISTEN');
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  assert.equal(Number(sendQ), Math.min(LISTEN_BACKLOG, somaxconn));
});

void test("a body that does not arrive within the balancer's --request-timeout gets a 408 within a second of it", async (t) => {
  const [backend] = await startBackends(t, 1);
  const lb = await startBalancer(t, [backend!.port], ['--request-timeout', '3s', '--headers-timeout', '2s']);
  await assertRequestTimeout(t, lb.port, 3000);
  const line = await lb.proc.waitForLine(
    (l) => l.event === 'access' && l.method === 'POST',
    'the access line',
  );
  assert.equal(line.status, 408);
  assert.equal(line.upstream, null);
});

void test("an idle client connection is closed within a second of the balancer's --keep-alive-timeout", async (t) => {
  const [backend] = await startBackends(t, 1);
  const lb = await startBalancer(t, [backend!.port], ['--keep-alive-timeout', '2s']);
  const head = rawRequest('GET', '/page.html', { Connection: 'keep-alive' }).replace(
    'Connection: close\r\n',
    '',
  );
  await assertKeepAliveTimeout(t, lb.port, head, 2000);
});

void test('an upstream silent for --proxy-timeout gets the request a 504 within a second of it', async (t) => {
  const silent = await startHttpServer(t, (req, res) => {
    if (req.url === '/healthz') res.end('ok');
    // anything else: never answered
  });
  const lb = await startBalancer(t, [silent.port], ['--proxy-timeout', '2s']);
  const started = Date.now();
  const res = await request(lb.port, '/page.html');
  assert.equal(res.status, 504);
  assertWithinASecond('the 504', Date.now() - started, 2000);
});

/**
 * An upstream that passes its health checks and answers anything else with a response head one
 * byte every 300 ms, never finished: never silent, never done.
 */
async function tricklingUpstream(t: TestContext): Promise<{ port: number }> {
  return startTcpServer(t, (socket) => {
    let buffered = '';
    let drip: NodeJS.Timeout | undefined;
    socket.on('close', () => clearInterval(drip));
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      if (!buffered.includes('\r\n\r\n') || drip !== undefined) return;
      if (buffered.startsWith('GET /healthz')) {
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        return;
      }
      const head = `HTTP/1.1 200 OK\r\nX-Slow: ${'a'.repeat(10_000)}`;
      let at = 0;
      drip = setInterval(() => {
        if (at < head.length && socket.writable) socket.write(head.charAt(at++));
      }, 300);
    });
  });
}

for (const engine of REQUEST_PATHS) {
  void test(`${engine}: an upstream trickling its response head gets the request a 504 within a second of --upstream-header-timeout, counted against it`, async (t) => {
    const slow = await tricklingUpstream(t);
    const lb = await balancerOn(engine)(
      t,
      [slow.port],
      ['--proxy-timeout', '6s', '--upstream-header-timeout', '2s'],
    );
    const started = Date.now();
    const res = await rawExchange(lb.port, rawRequest('GET', '/page.html'), { timeoutMs: 8000 });
    assert.equal(res.status, 504, res.body.toString('utf8'));
    assertWithinASecond('the 504', Date.now() - started, 2000);
    assert.match(res.body.toString('utf8'), /no response in time/);
    const u = await lb.upstream(`backend-${slow.port}`);
    assert.ok(u.failures >= 1, 'the late head counts against the upstream');
    assert.equal(u.available, true, 'slow is not gone: it stays in rotation');
  });
}

void test('with only --proxy-timeout, a response head trickling in gets a 504 within a second of it, not after the trickle ends', async (t) => {
  const slow = await tricklingUpstream(t);
  const lb = await startBalancer(t, [slow.port], ['--proxy-timeout', '2s']);
  const started = Date.now();
  const res = await rawExchange(lb.port, rawRequest('GET', '/page.html'), { timeoutMs: 8000 });
  assert.equal(res.status, 504, res.body.toString('utf8'));
  assertWithinASecond('the 504', Date.now() - started, 2000);
});

/**
 * A listener that can be made to stall: a child process listening with a backlog of 1 that
 * answers 200 to anything until `stall()` stops it (SIGSTOP) and fills its accept queue. The
 * kernel then drops new SYNs, so a connect neither succeeds nor fails: what a connect timeout is for.
 */
async function stallableListener(t: TestContext): Promise<{ port: number; stall: () => Promise<void> }> {
  const code =
    "const s=require('net').createServer(c=>c.end('HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok'));" +
    "s.listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port));";
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = child.pid ?? -1;
  t.after(() => {
    if (child.exitCode === null) process.kill(pid, 'SIGKILL');
  });
  const port = await new Promise<number>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
  );
  const fillers: net.Socket[] = [];
  t.after(() => fillers.forEach((s) => s.destroy()));
  return {
    port,
    async stall() {
      process.kill(pid, 'SIGSTOP');
      for (let i = 0; i < 4; i++) {
        const s = net.connect({ port, host: '127.0.0.1' });
        s.on('error', () => undefined);
        fillers.push(s);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    },
  };
}

void test('a connect that never completes gets the request a 504 within a second of --connect-timeout', async (t) => {
  const listener = await stallableListener(t);
  // One health round while it answers, then none for the test's length.
  const lb = await startBalancer(t, [listener.port], ['--connect-timeout', '2s', '--health-interval', '60s']);
  await listener.stall();
  const started = Date.now();
  const res = await request(lb.port, '/page.html');
  assert.equal(res.status, 504, res.body.toString('utf8'));
  assertWithinASecond('the 504', Date.now() - started, 2000);
  assert.match(res.body.toString('utf8'), /connect timeout/);
});

void test('an upgrade whose upstream is silent for --proxy-timeout gets a 504 within a second of it', async (t) => {
  const silent = await startHttpServer(t, (req, res) => {
    if (req.url === '/healthz') res.end('ok');
    // anything else, the upgrade included: never answered
  });
  const lb = await startBalancer(t, [silent.port], ['--proxy-timeout', '2s']);
  const started = Date.now();
  const res = await refusedStatus(`ws://127.0.0.1:${lb.port}/ws/echo`);
  assert.equal(res.status, 504, res.body);
  assertWithinASecond('the 504', Date.now() - started, 2000);
  assert.match(res.body, /no response in time/);
});

void test('an upgrade whose connect never completes gets a 504 within a second of --connect-timeout', async (t) => {
  const listener = await stallableListener(t);
  const lb = await startBalancer(t, [listener.port], ['--connect-timeout', '2s', '--health-interval', '60s']);
  await listener.stall();
  const started = Date.now();
  const res = await refusedStatus(`ws://127.0.0.1:${lb.port}/ws/echo`);
  assert.equal(res.status, 504, res.body);
  assertWithinASecond('the 504', Date.now() - started, 2000);
  assert.match(res.body, /connect timeout/);
});

void test('a health check with no answer fails within a second of --health-timeout', async (t) => {
  const mute = await startHttpServer(t, () => undefined);
  const lb = await startBalancer(t, [mute.port], ['--health-timeout', '2s', '--health-interval', '500ms']);
  const u = await waitFor(
    async () => {
      const s = await lb.upstream(`backend-${mute.port}`);
      return s.lastCheck !== null ? s : undefined;
    },
    'a finished check',
    { timeoutMs: 8000 },
  );
  assert.equal(u.lastCheck?.ok, false);
  assert.match(u.lastCheck?.error ?? '', /no answer within 2000 ?ms/);
  assertWithinASecond('the failed check', Math.round(u.lastCheck?.latencyMs ?? 0), 2000);
});
