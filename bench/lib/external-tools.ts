/**
 * wrk (the reference for what a fast client does against the trivial server) and ApacheBench (the
 * assignment's tool, run beside loadtest with --with ab): invocation and output parsing. The
 * parsers are pure.
 */
import { runCommand } from './run-command.js';

export interface WrkResult {
  command: string;
  rps: number;
  requests: number;
  /** Non-2xx/3xx answers plus socket errors, as wrk reports them. */
  errors: number;
}

/** Read "Requests/sec:", "N requests in", "Non-2xx or 3xx responses:" and "Socket errors:". */
export function parseWrkOutput(text: string): Omit<WrkResult, 'command'> | null {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (rps === null) return null;
  const requests = /(\d+) requests in/.exec(text);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((s, n) => s + Number(n), 0);
  return {
    rps: Number(rps[1]),
    requests: requests === null ? 0 : Number(requests[1]),
    errors: (non2xx === null ? 0 : Number(non2xx[1])) + socketErrors,
  };
}

export type ToolOutcome<T> = { ok: true; result: T } | { ok: false; reason: string };

export async function runWrk(url: string, durationMs: number): Promise<ToolOutcome<WrkResult>> {
  const seconds = Math.max(1, Math.round(durationMs / 1000));
  const args = ['-t1', '-c10', `-d${seconds}s`, url];
  const command = `wrk ${args.join(' ')}`;
  const ran = await runCommand('wrk', args, durationMs + 30_000);
  if (ran.kind === 'missing') return { ok: false, reason: 'wrk is not installed' };
  const parsed = parseWrkOutput(ran.stdout);
  if (ran.code !== 0 || parsed === null) {
    return {
      ok: false,
      reason: `wrk failed (exit ${ran.code}): ${(ran.stderr || ran.stdout).trim().slice(0, 200)}`,
    };
  }
  return { ok: true, result: { command, ...parsed } };
}

export interface AbResult {
  command: string;
  rps: number;
  complete: number;
  failed: number;
  non2xx: number;
  timeTakenS: number;
  totalTransferred: number;
  /** ab's own breakdown: "(Connect: 0, Receive: 0, Length: 12, Exceptions: 0)". */
  failedDetail: string;
}

export function parseAbOutput(text: string): Omit<AbResult, 'command'> | null {
  const num = (re: RegExp): number | null => {
    const m = re.exec(text);
    return m === null ? null : Number(m[1]);
  };
  const rps = num(/Requests per second:\s+([\d.]+)/);
  const complete = num(/Complete requests:\s+(\d+)/);
  if (rps === null || complete === null) return null;
  const detail = /Failed requests:\s+\d+\s*\n\s*(\(Connect:[^)]*\))/.exec(text);
  return {
    rps,
    complete,
    failed: num(/Failed requests:\s+(\d+)/) ?? 0,
    non2xx: num(/Non-2xx responses:\s+(\d+)/) ?? 0,
    timeTakenS: num(/Time taken for tests:\s+([\d.]+)/) ?? Number.NaN,
    totalTransferred: num(/Total transferred:\s+(\d+)/) ?? Number.NaN,
    failedDetail: detail?.[1] ?? '',
  };
}

export async function runAb(
  url: string,
  requests: number,
  concurrency: number,
  options: { keepalive: boolean; varyingLength: boolean; timeoutMs: number; deadlineMs: number },
): Promise<ToolOutcome<AbResult>> {
  const args = [
    '-q',
    '-n',
    String(requests),
    '-c',
    String(concurrency),
    '-s',
    String(Math.ceil(options.timeoutMs / 1000)),
  ];
  if (options.keepalive) args.push('-k');
  // ab counts a body whose length differs from the first one as failed; /work's JSON varies.
  if (options.varyingLength) args.push('-l');
  args.push(url);
  const command = `ab ${args.join(' ')}`;
  const ran = await runCommand('ab', args, options.deadlineMs);
  if (ran.kind === 'missing') return { ok: false, reason: 'ab (apache2-utils) is not installed' };
  const parsed = parseAbOutput(ran.stdout);
  if (parsed === null) {
    return {
      ok: false,
      reason: `ab failed (exit ${ran.code}): ${(ran.stderr || ran.stdout).trim().slice(0, 200)}`,
    };
  }
  return { ok: true, result: { command, ...parsed } };
}
