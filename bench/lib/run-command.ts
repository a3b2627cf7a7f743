/** Run an external tool (wrk, ab) to completion with a time limit; missing tools are not errors. */
import { spawn } from 'node:child_process';

export type CommandResult =
  { kind: 'ran'; code: number | null; stdout: string; stderr: string } | { kind: 'missing' };

export function runCommand(
  command: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT') resolve({ kind: 'missing' });
      else reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ kind: 'ran', code, stdout, stderr });
    });
  });
}
