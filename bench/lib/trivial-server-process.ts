/** Starts bench/trivial-server as a child process on an ephemeral port, and stops it by PID. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../../src/errors.js';

export interface TrivialServer {
  /** Base URL; `${url}/bytes/<n>` answers n bytes. */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startTrivialServer(timeoutMs = 10_000): Promise<TrivialServer> {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const child = fork(fileURLToPath(new URL(`../trivial-server${ext}`, import.meta.url)), [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new InternalError('ERR_TRIVIAL_SERVER', 'trivial server did not start')),
      timeoutMs,
    );
    child.on('message', (m: unknown) => {
      const port = (m as { type?: string; port?: number }).port;
      if ((m as { type?: string }).type === 'listening' && typeof port === 'number') {
        clearTimeout(timer);
        resolve(port);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new InternalError('ERR_TRIVIAL_SERVER', `trivial server exited (code ${code}) before listening`),
      );
    });
  });
  const pid = child.pid ?? -1;
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => process.kill(pid, 'SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        process.kill(pid, 'SIGTERM');
      }),
  };
}
