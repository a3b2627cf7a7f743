/**
 * A port that is taken when a listener starts (a process still exiting, a socket left by a
 * benchmark) is retried, with a line each try, and the listener comes up once it frees, instead of
 * exiting into a crash loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holdPort } from '../helpers/held-port.js';
import { startNode } from '../helpers/processes.js';
import { freePorts } from '../helpers/pm2-home.js';
import { request } from '../helpers/raw-http.js';

for (const script of ['backend', 'threaded', 'balancer'] as const) {
  void test(`${script}: a port held at start-up is retried with a line each try, and taken once it frees`, async (t) => {
    const [port, admin, upstream] = await freePorts(3);
    const holder = await holdPort(t, port!);
    const args =
      script === 'balancer'
        ? [
            '--port',
            String(port),
            '--admin-port',
            String(admin),
            '--discovery',
            'static',
            '--upstreams',
            `127.0.0.1:${upstream}`,
          ]
        : ['--port', String(port)];
    const starting = startNode(script, args, { listeners: script === 'balancer' ? 2 : 1, timeoutMs: 20_000 });
    // Free it after a few tries; the process must still be there, trying.
    setTimeout(() => void holder.release(), 2500);
    const proc = await starting;
    t.after(() => proc.stop('SIGKILL'));
    const tries = proc.lines.filter((l) => l.event === 'listen-retry');
    assert.ok(tries.length >= 2, `${tries.length} retry lines`);
    assert.match(tries[0]?.message ?? '', new RegExp(`127\\.0\\.0\\.1:${port} is in use \\(try 1\\)`));
    assert.equal(proc.port, port);
    const res = await request(port!, script === 'balancer' ? '/page.html' : '/healthz');
    // The balancer's only upstream is a port nobody listens on: its own 502 or 503 proves it listens.
    assert.ok([200, 502, 503].includes(res.status), `answers on the port (${res.status})`);
  });
}
