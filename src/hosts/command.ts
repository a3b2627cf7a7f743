/** Run a program (ip, tc, etcdctl, the pm2 CLI) to its end, with a deadline, and keep its output. */
import { spawn } from 'node:child_process';
import { InternalError } from '../errors.js';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  cwd?: string;
  /** Written to the program's stdin, which is then closed (at once, without it). */
  input?: string;
}

export function runCommand(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    // A program that exits without reading all of its input must not fail the run with EPIPE.
    child.stdin.on('error', () => undefined).end(options.input);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: stderr + err.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The same, failing with the command and its stderr when it does not exit 0. */
export async function mustRun(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  const result = await runCommand(file, args, options);
  if (result.code !== 0) {
    throw new InternalError(
      'ERR_HOSTS_COMMAND',
      `${file} ${args.join(' ')} failed (exit ${result.code ?? 'killed'}): ${result.stderr.trim() || result.stdout.trim()}`,
    );
  }
  return result.stdout;
}
