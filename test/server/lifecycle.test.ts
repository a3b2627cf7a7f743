/**
 * The file servers as supervised processes: bad configuration, graceful shutdown (in-flight
 * requests finish, idle keep-alive clients cannot hold the process), /work burning real CPU, and
 * the thread pool's bounded queue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, runNode, startNode } from '../helpers/processes.js';
import { RawConnection, request } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait.js';

const KINDS = ['backend', 'threaded'] as const;

/** CPU time (user + system, all threads) a process has used so far, from /proc. */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line; the slice starts at field 3.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / clockTicks();
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

const hasProc = fs.existsSync('/proc/self/stat');

for (const kind of KINDS) {
  void test(`${kind}: bad configuration exits 2 and lists every problem`, async () => {
    const missing = path.join(ROOT, 'no-such-folder-for-tests');
    const result = await runNode(kind, [
      '--port',
      'eighty',
      '--root',
      missing,
      '--grace-ms',
      'soon',
      '--colour',
      ...(kind === 'threaded' ? ['--threads', '-1'] : []),
    ]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--port: "eighty" is not a port/);
    assert.match(result.stderr, /--root: the folder .*no-such-folder-for-tests does not exist/);
    assert.match(result.stderr, /--grace-ms: "soon" is not a duration/);
    assert.match(result.stderr, /unknown option --colour/);
    if (kind === 'threaded') assert.match(result.stderr, /--threads: "-1"/);
    assert.match(result.stderr, /--help/);
  });

  void test(`${kind}: serves the project's public/ folder by default`, async (t) => {
    const server = await startNode(kind, ['--port', '0']);
    t.after(() => server.stop());
    const res = await request(server.port, '/page.html');
    assert.equal(res.status, 200);
    assert.ok(res.body.equals(fs.readFileSync(path.join(ROOT, 'public', 'page.html'))));
    const listening = server.lines.find((l) => l.event === 'listening');
    assert.equal(listening?.host, '127.0.0.1');
    assert.equal(listening?.port, server.port);
  });

  void test(
    `${kind}: /work spends real CPU time, not sleep`,
    { skip: !hasProc && 'needs /proc' },
    async (t) => {
      const server = await startNode(kind, ['--port', '0', '--work-cap-ms', '1000']);
      t.after(() => server.stop());
      const before = cpuMs(server.pid);
      for (let i = 0; i < 2; i++) assert.equal((await request(server.port, '/work?ms=1000')).status, 200);
      const used = cpuMs(server.pid) - before;
      // 2 s of hashing asked. A sleeping implementation uses next to nothing; the bar is low because
      // other processes may share the CPUs and /work counts wall-clock milliseconds.
      assert.ok(used >= 200, `the server used only ${used}ms of CPU for 2000ms of /work`);
    },
  );

  void test(`${kind}: on SIGTERM an in-flight request completes, /healthz turns 503, then exit 0`, async (t) => {
    const server = await startNode(kind, ['--port', '0', '--grace-ms', '5000']);
    t.after(() => server.stop('SIGKILL'));
    const inFlight = await RawConnection.open(server.port);
    t.after(() => inFlight.destroy());
    // 100 Continue proves the server has the request in hand before the signal is sent.
    await inFlight.write(
      'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n',
    );
    assert.equal((await inFlight.readResponse()).status, 100);
    // Half a request: an active connection, not an idle one, so it survives the start of shutdown.
    const checker = await RawConnection.open(server.port);
    t.after(() => checker.destroy());
    await checker.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    // The server must have those bytes in hand (a request begun) before the signal, or its
    // shutdown rightly closes the connection as idle.
    await checker.readByServer(server.port);

    process.kill(server.pid, 'SIGTERM');
    await server.waitForLine((l) => l.event === 'shutdown', 'the shutdown line');
    await assert.rejects(RawConnection.open(server.port), 'no new connections are accepted');

    await checker.write('\r\n');
    const health = await checker.readResponse();
    assert.equal(health.status, 503);
    assert.equal((JSON.parse(health.body.toString()) as { status: string }).status, 'shutting-down');
    assert.equal(health.headers.connection, 'close');

    await inFlight.write('0123456789');
    const done = await inFlight.readResponse();
    assert.equal(done.status, 200);
    assert.deepEqual(JSON.parse(done.body.toString()), { received: 10 });
    assert.equal(done.headers.connection, 'close');
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });

  void test(`${kind}: an idle keep-alive client does not keep the process alive`, async (t) => {
    // Grace period and keep-alive timeout far longer than the test's patience: only closing idle
    // sockets at once lets the process exit in time.
    const server = await startNode(kind, [
      '--port',
      '0',
      '--grace-ms',
      '60000',
      '--keep-alive-timeout',
      '60s',
    ]);
    t.after(() => server.stop('SIGKILL'));
    const idle = await RawConnection.open(server.port);
    t.after(() => idle.destroy());
    await idle.write('GET /page.html HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    assert.equal((await idle.readResponse()).status, 200);
    const result = await server.stop('SIGTERM', 10_000);
    assert.deepEqual(result, { code: 0, signal: null }, 'exited by itself, not killed');
    await idle.waitForClose(1000);
  });

  void test(`${kind}: a client stuck mid-request is cut off when the grace period ends`, async (t) => {
    const server = await startNode(kind, ['--port', '0', '--grace-ms', '300']);
    t.after(() => server.stop('SIGKILL'));
    const stuck = await RawConnection.open(server.port);
    t.after(() => stuck.destroy());
    // A body promised and never sent; 100 Continue shows the server is waiting for it.
    await stuck.write(
      'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n',
    );
    assert.equal((await stuck.readResponse()).status, 100);
    const result = await server.stop('SIGTERM', 10_000);
    assert.deepEqual(result, { code: 0, signal: null });
    assert.ok(
      server.lines.some((l) => l.event === 'force-close'),
      'the force-close was logged',
    );
    await stuck.waitForClose(1000);
  });
}

void test(
  'threaded: a request running on a pool thread finishes during shutdown',
  { skip: !hasProc && 'needs /proc' },
  async (t) => {
    const server = await startNode('threaded', [
      '--port',
      '0',
      '--threads',
      '1',
      '--grace-ms',
      '10000',
      '--work-cap-ms',
      '3000',
    ]);
    t.after(() => server.stop('SIGKILL'));
    const conn = await RawConnection.open(server.port);
    t.after(() => conn.destroy());
    const before = cpuMs(server.pid);
    await conn.write('GET /work?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n');
    // The thread is hashing once the process burns CPU.
    await waitFor(() => cpuMs(server.pid) - before >= 50, 'the work to start', { timeoutMs: 5000 });
    process.kill(server.pid, 'SIGTERM');
    const res = await conn.readResponse();
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body.toString()) as { ms: number }).ms, 1500);
    assert.equal(res.headers.connection, 'close');
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  },
);

void test('threaded: a full queue answers 503 with Retry-After, and /healthz still answers', async (t) => {
  const server = await startNode('threaded', [
    '--port',
    '0',
    '--threads',
    '1',
    '--max-queue',
    '1',
    '--work-cap-ms',
    '3000',
  ]);
  t.after(() => server.stop());
  // One runs, one waits in the queue, the rest find it full.
  const pending = Array.from({ length: 4 }, () => request(server.port, '/work?ms=2000'));
  await server.waitForLine((l) => l.event === 'access' && l.status === 503, 'a 503 access line');
  const health = await request(server.port, '/healthz');
  assert.equal(health.status, 200, 'the main thread answers health while the pool is saturated');
  const results = await Promise.all(pending);
  const statuses = results.map((r) => r.status).sort();
  assert.ok(
    statuses.every((s) => s === 200 || s === 503),
    `statuses: ${statuses.join(', ')}`,
  );
  assert.ok(statuses.includes(200), 'the first request was served');
  const busy = results.filter((r) => r.status === 503);
  assert.ok(busy.length >= 1, 'at least one request found the queue full');
  for (const r of busy) {
    assert.equal(r.headers['retry-after'], '1');
    assert.match(r.body.toString(), /all threads are busy/);
  }
});
