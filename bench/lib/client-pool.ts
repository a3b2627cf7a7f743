/**
 * The benchmark's load-client processes (bench/worker.ts, forked once and reused for every run).
 * A run is split over them; their observations are merged (counts added, histograms merged).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../../src/errors.js';
import { splitLoad } from './client-modes.js';
import { mergeRawRuns } from './merge-runs.js';
import { isFromWorker, type FromWorker, type RunRequest } from './worker-protocol.js';
import type { RawRun } from './types.js';

/** One run as the caller asks for it; the pool adds the message type, an id and each client's share. */
export type RunSpec = Omit<RunRequest, 'type' | 'id'>;

/** Sibling script next to this module, compiled (.js) or under tsx (.ts). */
function workerScript(): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`../worker${ext}`, import.meta.url));
}

interface Client {
  child: ChildProcess;
  exited: boolean;
  onMessage?: (message: FromWorker) => void;
}

async function startClient(): Promise<Client> {
  const child = fork(workerScript(), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const client: Client = { child, exited: false };
  child.on('message', (message: unknown) => {
    if (isFromWorker(message)) client.onMessage?.(message);
  });
  child.on('exit', () => {
    client.exited = true;
  });
  await new Promise<void>((resolve, reject) => {
    client.onMessage = (m) => {
      if (m.type === 'ready') resolve();
    };
    child.once('exit', (code) =>
      reject(new InternalError('ERR_BENCH_CLIENT', `load client exited (code ${code}) before it was ready`)),
    );
  });
  return client;
}

export class ClientPool {
  private nextId = 1;

  private constructor(private readonly clients: Client[]) {}

  static async start(count: number): Promise<ClientPool> {
    return new ClientPool(await Promise.all(Array.from({ length: count }, () => startClient())));
  }

  /** A client process that crashed (loadtest's TCP parser throws on what it cannot parse) is replaced. */
  private async replaceExited(): Promise<void> {
    for (let i = 0; i < this.clients.length; i++) {
      if (this.clients[i]?.exited === true) this.clients[i] = await startClient();
    }
  }

  get size(): number {
    return this.clients.length;
  }

  /**
   * Run one case over the client processes (or only the first `useClients` of them);
   * `onProgress` gets the total requests done so far.
   */
  async run(
    spec: RunSpec,
    onProgress?: (done: number) => void,
    useClients = this.clients.length,
  ): Promise<RawRun> {
    await this.replaceExited();
    const shares = splitLoad(spec.requests, spec.concurrency, Math.min(useClients, this.clients.length));
    const done = new Array<number>(shares.length).fill(0);
    // Settle every share before returning: a client still busy with a failed run's share would
    // otherwise overlap the next run and distort it.
    const settled = await Promise.allSettled(
      shares.map((share, i) => {
        const client = this.clients[i];
        if (client === undefined || client.exited) {
          return Promise.reject(new InternalError('ERR_BENCH_CLIENT', `load client ${i + 1} is not running`));
        }
        const id = this.nextId++;
        const request: RunRequest = { type: 'run', id, ...spec, ...share };
        return new Promise<RawRun>((resolve, reject) => {
          const onExit = (code: number | null) =>
            reject(
              new InternalError(
                'ERR_BENCH_CLIENT',
                `load client ${i + 1} exited (code ${code}) during a run`,
              ),
            );
          client.child.once('exit', onExit);
          client.onMessage = (m) => {
            if (m.type === 'progress' && m.id === id) {
              done[i] = m.done;
              onProgress?.(done.reduce((a, b) => a + b, 0));
            } else if (m.type === 'result' && m.id === id) {
              client.child.off('exit', onExit);
              resolve(m.run);
            } else if (m.type === 'error' && m.id === id) {
              client.child.off('exit', onExit);
              reject(new InternalError('ERR_BENCH_CLIENT', `load client ${i + 1}: ${m.message}`));
            }
          };
          client.child.send(request);
        });
      }),
    );
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    const parts = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const merged = mergeRawRuns(parts);
    onProgress?.(merged.ok + Object.values(merged.failed).reduce((a, b) => a + b, 0));
    return merged;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.clients.map(
        (client) =>
          new Promise<void>((resolve) => {
            if (client.exited) return resolve();
            const timer = setTimeout(() => client.child.kill('SIGKILL'), 3000);
            client.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            client.child.send({ type: 'exit' });
          }),
      ),
    );
  }
}
