import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { runNode } from '../helpers/processes.js';
import { request } from '../helpers/raw-http.js';
import { balancerOn, REQUEST_PATHS, startHttpServer } from '../helpers/balancer-fleet.js';
import { waitFor } from '../helpers/wait.js';

for (const engine of REQUEST_PATHS) {
  const startBalancer = balancerOn(engine);

  void test(`${engine}: bad configuration: exit 2 and every problem listed`, async () => {
    const res = await runNode('balancer', ['--port', 'eighty', '--fall', '0', '--upstreams', 'nowhere']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--port: "eighty" is not a port/);
    assert.match(res.stderr, /--fall: "0" is not a whole number from 1 to 100/);
    assert.match(res.stderr, /--upstreams: "nowhere" is not an upstream/);
  });

  void test(`${engine}: --help lists the options with their defaults and exits 0`, async () => {
    const res = await runNode('balancer', ['--help']);
    assert.equal(res.code, 0);
    for (const flag of [
      '--upstreams',
      '--health-interval',
      '--fall',
      '--rise',
      '--no-retries',
      '--proxy-timeout',
    ]) {
      assert.ok(res.stdout.includes(flag.replace('--no-', '--')), flag);
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    void test(`on ${signal} the balancer stops accepting, lets in-flight requests finish, and exits 0`, async (t) => {
      let arrived = 0;
      const slow = await startHttpServer(t, (req, res) => {
        if (req.url === '/healthz') {
          res.end('ok');
          return;
        }
        arrived++;
        setTimeout(() => res.end('finished'), 400);
      });
      const lb = await startBalancer(t, [slow.port]);
      const inFlight = request(lb.port, '/slow');
      await waitFor(() => arrived > 0, 'the request to reach the upstream');
      process.kill(lb.proc.pid, signal);
      const res = await inFlight;
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'finished');
      assert.equal(res.headers.connection, 'close', 'the client is told to go away');
      const exit = await lb.proc.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
      const refused = await new Promise<string>((resolve) => {
        const socket = net.connect(lb.port, '127.0.0.1');
        socket.on('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
      assert.equal(refused, 'ECONNREFUSED');
      assert.ok(lb.proc.lines.some((l) => l.event === 'shutdown'));
    });
  }
}
