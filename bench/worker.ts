/**
 * A load-client process: runs one checked loadtest run at a time on request of the benchmark and
 * sends back what it saw. Separate processes let `--clients N` use more than one core, and keep
 * loadtest's module-level state apart from the benchmark's own process.
 */
import { checkedRun } from './lib/checked-run.js';
import { isToWorker, type FromWorker, type RunRequest } from './lib/worker-protocol.js';

function send(message: FromWorker): void {
  process.send?.(message);
}

let currentId = -1;

async function run(request: RunRequest): Promise<void> {
  currentId = request.id;
  const progressEvery = Math.max(1, Math.floor(request.requests / 40));
  try {
    const raw = await checkedRun(request, (done) => {
      if (done % progressEvery === 0) send({ type: 'progress', id: request.id, done });
    });
    send({ type: 'result', id: request.id, run: raw });
  } catch (err) {
    send({ type: 'error', id: request.id, message: err instanceof Error ? err.message : String(err) });
  }
}

process.on('message', (message: unknown) => {
  if (!isToWorker(message)) return;
  if (message.type === 'exit') process.exit(0);
  if (message.type === 'run') void run(message);
});
// loadtest's raw-TCP parser throws from a socket handler on responses it cannot parse (chunked
// bodies, for one); report that as this run's error instead of dying silently.
process.on('uncaughtException', (err) => {
  send({ type: 'error', id: currentId, message: `client process crashed: ${err.message}` });
  process.exit(1);
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
