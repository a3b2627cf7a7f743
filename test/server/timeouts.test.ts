/**
 * The file servers' documented timeouts (headers, request, keep-alive) hold within a second of
 * their values, on both servers, measured from outside on real sockets.
 */
import { test } from 'node:test';
import { startNode } from '../helpers/processes.js';
import { assertHeadersTimeout, assertKeepAliveTimeout, assertRequestTimeout } from '../helpers/timing.js';

const SERVERS = ['backend', 'threaded'] as const;

for (const server of SERVERS) {
  const start = async (t: import('node:test').TestContext, args: string[]) => {
    const proc = await startNode(server, ['--port', '0', ...args]);
    t.after(() => proc.stop('SIGKILL'));
    return proc;
  };

  void test(`${server}: slowloris and silent sockets are cut within a second of --headers-timeout`, async (t) => {
    const proc = await start(t, ['--headers-timeout', '3s']);
    await assertHeadersTimeout(t, proc.port, 3000);
  });

  void test(`${server}: a body that does not arrive within --request-timeout gets a 408 within a second of it`, async (t) => {
    const proc = await start(t, ['--headers-timeout', '2s', '--request-timeout', '3s']);
    await assertRequestTimeout(t, proc.port, 3000);
  });

  void test(`${server}: an idle keep-alive connection is closed within a second of --keep-alive-timeout`, async (t) => {
    const proc = await start(t, ['--keep-alive-timeout', '2s']);
    await assertKeepAliveTimeout(t, proc.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 2000);
  });
}
