/**
 * Every process of the fleet exports its event-loop delay, and the gauge moves when the loop is
 * held: each process is stopped (SIGSTOP) for 600 ms, which no timer of its can escape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText, sumSamples } from '../helpers/prometheus-text.js';
import { startBackends, startBalancer } from '../helpers/balancer-fleet.js';
import { startNode, type StartedProcess } from '../helpers/processes.js';
import { delay } from '../helpers/wait.js';

async function delayMax(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  const families = parsePrometheusText(await res.text());
  assert.ok(families.has('nodejs_event_loop_delay_max_seconds'), 'the gauge is exported');
  assert.ok(families.has('nodejs_event_loop_delay_worst_seconds'));
  return sumSamples(families, 'nodejs_event_loop_delay_max_seconds');
}

async function holdLoop(proc: StartedProcess, ms: number): Promise<void> {
  process.kill(proc.pid, 'SIGSTOP');
  await delay(ms);
  process.kill(proc.pid, 'SIGCONT');
  await delay(100);
}

void test('the backend, the thread-pool server and the balancer export event-loop delay, and it moves when the loop is held', async (t) => {
  const [backend] = await startBackends(t, 1);
  const threaded = await startNode('threaded', ['--port', '0', '--threads', '1']);
  t.after(() => threaded.stop('SIGKILL'));
  const lb = await startBalancer(t, [backend!.port]);
  const targets: [string, StartedProcess, number][] = [
    ['backend', backend!.proc, backend!.port],
    ['threaded', threaded, threaded.port],
    ['balancer', lb.proc, lb.adminPort],
  ];
  for (const [name, proc, port] of targets) {
    const before = await delayMax(port);
    assert.ok(before < 0.3, `${name}: ${before}s before`);
    await holdLoop(proc, 600);
    const after = await delayMax(port);
    assert.ok(after >= 0.4, `${name}: ${after}s after the loop was held 600 ms`);
  }
});
