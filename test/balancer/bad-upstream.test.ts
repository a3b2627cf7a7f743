import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { RawConnection, rawRequest, request } from '../helpers/raw-http.js';
import { balancerOn, REQUEST_PATHS, startTcpServer } from '../helpers/balancer-fleet.js';

/**
 * An upstream that passes its health checks and answers every other request with `answer`, as raw
 * bytes, then keeps the connection open (a 101 leaves it to whoever took it over).
 */
async function misbehavingUpstream(t: TestContext, answer: string) {
  return startTcpServer(t, (socket) => {
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      if (!buffered.includes('\r\n\r\n')) return;
      if (buffered.startsWith('GET /healthz')) {
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      } else {
        socket.write(answer);
      }
      buffered = '';
    });
  });
}

const ANSWERS: Record<string, string> = {
  'status 099': 'HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok',
  'status 000': 'HTTP/1.1 000 Nothing\r\nContent-Length: 2\r\n\r\nok',
  'an unasked 101': 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: something\r\n\r\n',
  // Another protocol's greeting, and then the connection held open waiting for the client's.
  'an SSH banner': 'SSH-2.0-OpenSSH_9.2\r\n',
};

/** Nothing of these reached the client, so the balancer has every chance to answer 502 itself. */
const ALWAYS_502 = new Set(['an SSH banner']);

for (const engine of REQUEST_PATHS) {
  const startBalancer = balancerOn(engine);
  for (const [what, answer] of Object.entries(ANSWERS)) {
    void test(`${engine}: an upstream answering ${what} gets the client a 502 or a cut connection, and the balancer keeps serving`, async (t) => {
      const bad = await misbehavingUpstream(t, answer);
      // Retries off: the request must meet the bad upstream, not be rescued by the good one.
      const lb = await startBalancer(t, [bad.port], ['--proxy-timeout', '10s', '--no-retries']);

      const conn = await RawConnection.open(lb.port);
      t.after(() => conn.destroy());
      const started = Date.now();
      await conn.write(rawRequest('GET', '/page.html'));
      let status: number | 'cut';
      try {
        status = (await conn.readResponse({ timeoutMs: 8000 })).status;
      } catch (err) {
        assert.ok(conn.closed, `no answer and the connection still open: ${(err as Error).message}`);
        status = 'cut';
      }
      assert.ok(status === 502 || (status === 'cut' && !ALWAYS_502.has(what)), `the client got ${status}`);
      // Well inside the proxy timeout (10 s): waiting for it on a dead end would be the defect.
      assert.ok(Date.now() - started < 5000, `answered after ${Date.now() - started}ms, not left hanging`);

      await lb.proc.waitForLine(
        (l) => l.event === 'own-answer' || l.event === 'upstream-broke',
        'a line saying what the upstream did',
      );
      assert.equal(lb.proc.child.exitCode, null, `the balancer is still running:\n${lb.proc.text()}`);
      // The same process answers the next request the same way.
      const status2 = await request(lb.port, '/page.html').catch(() => ({ status: 'cut' as const }));
      assert.ok(status2.status === 502 || status2.status === 'cut', `second request got ${status2.status}`);
      assert.equal(lb.proc.child.exitCode, null, 'still running after a second such answer');
      const u = await lb.upstream(`backend-${bad.port}`);
      assert.ok(u.failures >= 1, 'the bad answers count against the upstream that gave them');
      assert.equal(u.inFlight, 0);
    });
  }
}
