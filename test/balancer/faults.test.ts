import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { request } from '../helpers/raw-http.js';
import {
  startBackends,
  balancerOn,
  REQUEST_PATHS,
  startHttpServer,
  startTcpServer,
  waitForState,
} from '../helpers/balancer-fleet.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A fault injector: a plain HTTP upstream that answers (health checks too) until it is told to
 * hang, then accepts connections and requests and never answers anything.
 */
async function hangingUpstream(t: TestContext) {
  const state = { hang: false, hung: 0 };
  const server = await startHttpServer(t, (req, res) => {
    if (state.hang) {
      if (req.url !== '/healthz') state.hung++;
      return; // never answer
    }
    res.writeHead(200, { 'X-Served-By': 'hanger', 'Content-Length': '2' });
    res.end('ok');
  });
  return { ...server, state };
}

/** Count the requests (other than health checks) an upstream saw, with their bodies. */
async function countingUpstream(t: TestContext, name: string) {
  const seen: { method: string; body: string }[] = [];
  const server = await startHttpServer(t, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      if (req.url !== '/healthz') seen.push({ method: req.method ?? '', body });
      res.writeHead(200, { 'X-Served-By': name, 'Content-Length': '2' });
      res.end('ok');
    });
  });
  return { ...server, seen };
}

/** Health checks pass; any other request has its body read and then its connection destroyed. */
async function dyingUpstream(t: TestContext) {
  const state = { received: [] as string[] };
  const server = await startTcpServer(t, (socket) => {
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      if (buffered.startsWith('GET /healthz')) {
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        return;
      }
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(buffered)?.[1] ?? 0);
      if (buffered.length - end - 4 >= length) {
        state.received.push(buffered);
        socket.destroy(); // died mid-request: body read, no answer
      }
    });
  });
  return { ...server, state };
}

for (const engine of REQUEST_PATHS) {
  const startBalancer = balancerOn(engine);

  void test(`${engine}: a hanging upstream is marked down; a request caught on it gets a 504 in bounded time`, async (t) => {
    const hanger = await hangingUpstream(t);
    const [backend] = await startBackends(t, 1);
    const lb = await startBalancer(
      t,
      [hanger.port, backend!.port],
      ['--proxy-timeout', '400ms', '--health-timeout', '150ms', '--health-interval', '200ms'],
    );
    hanger.state.hang = true;
    const statuses: number[] = [];
    // Requests alternate; the first goes to the hanger (first in the pool) and waits for the timeout.
    const started = Date.now();
    for (let i = 0; i < 4; i++) statuses.push((await request(lb.port, '/page.html')).status);
    assert.equal(statuses[0], 504, `statuses: ${statuses.join(',')}`);
    assert.ok(Date.now() - started < 10_000, 'no request waited forever');
    const answer = await lb.proc.waitForLine(
      (l) => l.event === 'own-answer' && l.status === 504,
      'the 504 line',
    );
    assert.deepEqual(answer.tried, [`backend-${hanger.port}`]);

    await waitForState(lb, `backend-${hanger.port}`, 'down');
    const hungBefore = hanger.state.hung;
    for (let i = 0; i < 4; i++) assert.equal((await request(lb.port, '/page.html')).status, 200);
    assert.equal(hanger.state.hung, hungBefore, 'nothing more was sent to it once it was down');
    const u = await lb.upstream(`backend-${hanger.port}`);
    assert.match(u.lastCheck?.error ?? '', /no answer within 150 ms/);
    assert.equal(u.inFlight, 0);
  });

  void test(`${engine}: with --retry-timeouts a request caught on a hanging upstream is retried elsewhere`, async (t) => {
    const hanger = await hangingUpstream(t);
    const [backend] = await startBackends(t, 1);
    const lb = await startBalancer(
      t,
      [hanger.port, backend!.port],
      ['--proxy-timeout', '300ms', '--retry-timeouts', '--health-interval', '10s'],
    );
    hanger.state.hang = true;
    for (let i = 0; i < 4; i++) {
      const res = await request(lb.port, '/page.html');
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-served-by'], backend!.name);
    }
    assert.ok(hanger.state.hung >= 1, 'the hanger did get requests, which timed out into retries');
    const retried = await waitFor(() => {
      const lines = lb.proc.lines.filter((l) => l.event === 'access' && Number(l.retries) > 0);
      return lines.length === hanger.state.hung ? lines : undefined;
    }, 'an access line with a retry for each request the hanger held');
    assert.ok(retried.every((l) => l.upstream === `backend-${backend!.port}` && l.status === 200));
  });

  void test(`${engine}: a POST whose upstream dies after reading the body is not replayed: the client gets 502`, async (t) => {
    const dying = await dyingUpstream(t);
    const other = await countingUpstream(t, 'other');
    const lb = await startBalancer(t, [dying.port, other.port]);

    const post = await request(lb.port, '/submit', { method: 'POST', body: 'name=value' });
    assert.equal(post.status, 502);
    assert.match(post.body.toString('utf8'), new RegExp(`tried backend-${dying.port}`));
    assert.equal(dying.state.received.length, 1);
    assert.match(dying.state.received[0] ?? '', /name=value$/, 'the body did reach the dying upstream');
    assert.deepEqual(other.seen, [], 'and was not sent anywhere else');
    const line = await lb.proc.waitForLine(
      (l) => l.event === 'own-answer' && l.status === 502,
      'the 502 line',
    );
    assert.match(line.message, /not retried: .*POST|body/);

    // The same failure on a GET is retried, since GET is idempotent.
    await waitFor(
      async () => (await lb.upstream(`backend-${dying.port}`)).state === 'up',
      'the dying one back',
    );
    const get = await request(lb.port, '/page.html');
    assert.equal(get.status, 200);
    assert.equal(get.headers['x-served-by'], 'other');
  });

  void test(`${engine}: a POST to an upstream that refuses the connection is sent, whole, to another`, async (t) => {
    const refusing = await startHttpServer(t, (_req, res) => res.end('ok'));
    const other = await countingUpstream(t, 'other');
    // Slow checks: once its listener closes, the refusing upstream stays in rotation until a request finds out.
    const lb = await startBalancer(t, [refusing.port, other.port], ['--health-interval', '10s']);
    await new Promise<void>((resolve) => refusing.server.close(() => resolve()));

    const body = 'x'.repeat(10_000);
    const res = await request(lb.port, '/upload', { method: 'POST', body });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-served-by'], 'other');
    assert.deepEqual(other.seen.at(-1), { method: 'POST', body }, 'the whole body arrived');
    const u = await lb.upstream(`backend-${refusing.port}`);
    assert.equal(u.state, 'down', 'the refused connection took it out at once');
    assert.match(u.reason, /connection refused while proxying POST \/upload/);
    const access = await lb.proc.waitForLine(
      (l) => l.event === 'access' && l.url === '/upload',
      'the access line',
    );
    assert.equal(access.retries, 1);
  });

  void test(`${engine}: a client that hangs up is not counted against the upstream`, async (t) => {
    const slow = await startHttpServer(t, (req, res) => {
      if (req.url === '/healthz') {
        res.end('ok');
        return;
      }
      setTimeout(() => res.end('late'), 300);
    });
    const lb = await startBalancer(t, [slow.port]);
    await new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: lb.port, path: '/slow', agent: false });
      req.on('error', () => resolve());
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    const line = await lb.proc.waitForLine(
      (l) => l.event === 'access' && l.url === '/slow',
      'the access line',
    );
    assert.equal(line.status, 499);
    const u = await lb.upstream(`backend-${slow.port}`);
    assert.equal(u.failures, 0);
    assert.equal(u.state, 'up');
    await waitFor(
      async () => ((await lb.upstream(`backend-${slow.port}`)).inFlight === 0 ? true : undefined),
      'in-flight 0',
    );
  });
}
