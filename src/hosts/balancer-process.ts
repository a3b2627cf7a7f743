/**
 * The balancer as a user runs it (dist/src/balancer.js), a child of this process in the root
 * namespace, on ports picked beforehand, with an IPC channel on which it says when it is ready.
 */
import { spawn, type ChildProcess, type IOType } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/common.js';

/** Where the child's output goes: an inherited or ignored stream, or an open file. */
export type ChildOutput = IOType | number;

export function spawnBalancer(
  ports: { port: number; adminPort: number },
  args: readonly string[],
  output: { stdout: ChildOutput; stderr: ChildOutput },
): ChildProcess {
  return spawn(
    process.execPath,
    [
      path.join(PROJECT_ROOT, 'dist', 'src', 'balancer.js'),
      '--port',
      String(ports.port),
      '--admin-port',
      String(ports.adminPort),
      ...args,
    ],
    { stdio: ['ignore', output.stdout, output.stderr, 'ipc'] },
  );
}
