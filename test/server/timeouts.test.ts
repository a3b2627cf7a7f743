/**
 * The file servers' documented timeouts (headers, request, keep-alive) hold within a second of
 * their values, on both servers, measured from outside on real sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawConnection } from '../helpers/raw-http.js';
import { startNode } from '../helpers/processes.js';
import { assertWithinASecond, silentSockets, slowloris } from '../helpers/timing.js';

const SERVERS = ['backend', 'threaded'] as const;

for (const server of SERVERS) {
  const start = async (t: import('node:test').TestContext, args: string[]) => {
    const proc = await startNode(server, ['--port', '0', ...args]);
    t.after(() => proc.stop('SIGKILL'));
    return proc;
  };

  void test(`${server}: slowloris and silent sockets are cut within a second of --headers-timeout`, async (t) => {
    const proc = await start(t, ['--headers-timeout', '3s']);
    const [dripping, silent] = await Promise.all([
      slowloris(t, proc.port, 20),
      silentSockets(t, proc.port, 20),
    ]);
    for (const ms of dripping) assertWithinASecond('a slowloris socket', ms, 3000);
    for (const ms of silent) assertWithinASecond('a silent socket', ms, 3000);
  });

  void test(`${server}: a body that does not arrive within --request-timeout gets a 408 within a second of it`, async (t) => {
    const proc = await start(t, ['--headers-timeout', '2s', '--request-timeout', '3s']);
    const conn = await RawConnection.open(proc.port);
    t.after(() => conn.destroy());
    const started = Date.now();
    await conn.write('POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\npart of it');
    const res = await conn.readResponse({ timeoutMs: 8000 });
    assert.equal(res.status, 408);
    assertWithinASecond('the 408', Date.now() - started, 3000);
  });

  void test(`${server}: an idle keep-alive connection is closed within a second of --keep-alive-timeout`, async (t) => {
    const proc = await start(t, ['--keep-alive-timeout', '2s']);
    const conn = await RawConnection.open(proc.port);
    t.after(() => conn.destroy());
    await conn.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal((await conn.readResponse()).status, 200);
    const idleSince = Date.now();
    await conn.waitForClose(6000);
    assertWithinASecond('the idle connection', Date.now() - idleSince, 2000);
  });
}
