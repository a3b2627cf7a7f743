/**
 * Start the project's compiled entry points as real child processes on ephemeral ports, read their
 * JSON log lines, and stop them by PID. Every process started here is also killed when the test
 * process exits, so a failing test leaves nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST = path.join(ROOT, 'dist', 'src');

export interface LogLine {
  level: string;
  message: string;
  event?: string;
  [field: string]: unknown;
}

export interface StartedProcess {
  child: ChildProcess;
  pid: number;
  /** The port from the process's `listening` log line. */
  port: number;
  /** Every JSON log line so far, from stdout and stderr. */
  lines: LogLine[];
  /** Every non-JSON line of stdout and stderr, for failure messages. */
  text: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLine(predicate: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** Signal by PID and wait for exit; SIGKILL if it has not exited in time. */
  stop(
    signal?: NodeJS.Signals,
    timeoutMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

export interface StartOptions {
  env?: Record<string, string>;
  /** Wait for this many `listening` lines (the balancer has a public and an admin listener). */
  listeners?: number;
  timeoutMs?: number;
}

/** Run `node dist/src/<script>.js ...args` with LOG_FORMAT=json and wait until it listens. */
export async function startNode(
  script: string,
  args: string[],
  options: StartOptions = {},
): Promise<StartedProcess> {
  const file = script.endsWith('.js') ? script : path.join(DIST, `${script}.js`);
  const child = spawn(process.execPath, [file, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);
  const lines: LogLine[] = [];
  let text = '';
  // The logger writes errors and warnings to stderr, the rest to stdout: read JSON lines from both.
  const readLines = (stream: NodeJS.ReadableStream | null) => {
    let buffer = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const raw = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          lines.push(JSON.parse(raw) as LogLine);
        } catch {
          text += `${raw}\n`;
        }
      }
    });
    // A crash's stack trace may end without a newline.
    stream?.on('end', () => (text += buffer));
  };
  readLines(child.stdout);
  readLines(child.stderr);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const waitForLine = (predicate: (line: LogLine) => boolean, what: string, timeoutMs = 10_000) =>
    waitFor(
      () => {
        const found = lines.find(predicate);
        if (found === undefined && hasExited) throw new Error(`process exited first; output:\n${text}`);
        return found;
      },
      what,
      { timeoutMs },
    );

  const wanted = options.listeners ?? 1;
  let port = 0;
  try {
    await waitFor(
      () => {
        if (hasExited) throw new Error(`process exited before listening; output:\n${text}`);
        const listening = lines.filter((l) => l.event === 'listening');
        if (listening.length < wanted) return undefined;
        port = Number(listening[0]?.port);
        return true;
      },
      `${script} to listen`,
      { timeoutMs: options.timeoutMs ?? 15_000 },
    );
  } catch (err) {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    throw err;
  }

  const pid = child.pid ?? -1;
  return {
    child,
    pid,
    port,
    lines,
    text: () => text,
    exited,
    waitForLine,
    async stop(signal = 'SIGTERM', timeoutMs = 5000) {
      if (!hasExited) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
        const timer = setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }, timeoutMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
  };
}

/** Run a script to completion (for config-error tests): exit code and all output. */
export async function runNode(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = script.endsWith('.js') ? script : path.join(DIST, `${script}.js`);
  const child = spawn(process.execPath, [file, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  live.delete(child);
  return { code, stdout, stderr };
}
