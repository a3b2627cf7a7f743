/**
 * Checks every response a run's client sockets receive, whichever loadtest client drives them.
 * It subscribes to Node's `net.client.socket` diagnostics channel, so it sees each client socket as
 * it is created (before loadtest attaches its own listeners), frames the responses on it, and counts
 * each outcome once: ok (the expected status and body length), or failed by reason. It also times
 * each request (from the socket's creation or the request's first write, to the last body byte) and
 * counts the bytes read. A watchdog fails requests with no complete response within the timeout
 * and destroys their socket, which makes every loadtest client move on (its TCP client has no
 * timeout of its own). After `limit` outcomes it stops counting: later responses belong to requests
 * the client abandons when it stops.
 */
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { bodyMatches, captureLimit } from './body-check.js';
import { HistogramRecorder } from './histogram.js';
import { ResponseFramer, type FramedResponse } from './response-framer.js';
import { emptyFailures, type Expectation, type FailureReason, type RawRun } from './types.js';

export interface WireCheckerOptions {
  expect: Expectation;
  /** Count this many outcomes, then ignore the rest. */
  limit: number;
  timeoutMs: number;
  /** Called after each counted outcome with the number counted so far (keep it cheap). */
  onOutcome?: (counted: number) => void;
}

interface Tracked {
  socket: Socket;
  framer: ResponseFramer;
  /** A request is outstanding on this socket. */
  awaiting: boolean;
  sentAtNs: bigint;
}

/** Epoch milliseconds with sub-millisecond precision, comparable between processes. */
export function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

const CHANNEL = 'net.client.socket';

/** A socket error during a request: refused, timed out, or (anything else) reset. */
export function reasonForSocketError(code: string | undefined): FailureReason {
  if (code === 'ECONNREFUSED') return 'connect';
  if (code === 'ETIMEDOUT') return 'timeout';
  return 'reset';
}

export class WireChecker {
  private readonly tracked = new Set<Tracked>();
  private readonly latency = new HistogramRecorder();
  private readonly failed = emptyFailures();
  private readonly statusCodes: Record<string, number> = {};
  private ok = 0;
  private counted = 0;
  private wireBytes = 0;
  private bodyBytes = 0;
  private lastOutcomeAtMs = 0;
  /** When the first request's socket was made: the run's clock starts there, not at loadtest's set-up. */
  private firstSocketAtMs: number | null = null;
  private active = false;
  private watchdog: NodeJS.Timeout | null = null;
  private readonly timeoutNs: bigint;
  private readonly capture: number;
  private readonly onSocket = (message: unknown) => {
    const socket = (message as { socket?: Socket }).socket;
    if (socket !== undefined && this.active) this.track(socket);
  };

  constructor(private readonly options: WireCheckerOptions) {
    this.timeoutNs = BigInt(Math.round(options.timeoutMs * 1e6));
    this.capture = captureLimit(options.expect.body);
  }

  get done(): number {
    return this.counted;
  }

  start(): void {
    this.active = true;
    diagnostics.subscribe(CHANNEL, this.onSocket);
    const every = Math.max(20, Math.min(250, Math.floor(this.options.timeoutMs / 4)));
    this.watchdog = setInterval(() => this.expire(), every);
    this.watchdog.unref();
  }

  /** Stop watching; the result counts what was seen until now. */
  stop(): void {
    this.active = false;
    diagnostics.unsubscribe(CHANNEL, this.onSocket);
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.tracked.clear();
  }

  /**
   * What was observed. The run lasts from the first socket (or `calledAtMs`, when none was made)
   * to the last counted outcome (or `endedAtMs`, when the limit was not reached). Requests the
   * limit asked for but never saw an outcome (the client stopped at its deadline) count as
   * timeouts, so nothing goes missing from the totals.
   */
  result(calledAtMs: number, endedAtMs: number, concurrency: number): Omit<RawRun, 'loadtest'> {
    const missing = Math.max(0, this.options.limit - this.counted);
    const failed = { ...this.failed, timeout: this.failed.timeout + missing };
    return {
      startedAtMs: this.firstSocketAtMs ?? calledAtMs,
      endedAtMs: this.counted >= this.options.limit ? this.lastOutcomeAtMs : endedAtMs,
      requested: this.options.limit,
      concurrency,
      clients: 1,
      ok: this.ok,
      failed,
      statusCodes: { ...this.statusCodes },
      wireBytes: this.wireBytes,
      bodyBytes: this.bodyBytes,
      latency: this.latency.toJSON(),
    };
  }

  private track(socket: Socket): void {
    this.firstSocketAtMs ??= nowEpochMs();
    const entry: Tracked = {
      socket,
      framer: new ResponseFramer(this.capture),
      awaiting: true,
      sentAtNs: process.hrtime.bigint(),
    };
    this.tracked.add(entry);
    // A keep-alive socket carries one request after another: each write after a complete
    // response starts the next request's clock. Wrapped once connected, because
    // Socket.prototype.connect resets an instance's `write`; the first request's clock already
    // started when the socket was created.
    socket.once('connect', () => {
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      socket.write = (...args: unknown[]) => {
        if (!entry.awaiting) {
          entry.awaiting = true;
          entry.sentAtNs = process.hrtime.bigint();
        }
        return write(...args);
      };
    });
    socket.on('data', (chunk: Buffer) => {
      if (!this.active) return;
      this.wireBytes += chunk.length;
      let responses: FramedResponse[];
      try {
        responses = entry.framer.push(chunk);
      } catch {
        this.fail(entry, 'protocol');
        socket.destroy();
        return;
      }
      for (const response of responses) this.answered(entry, response);
    });
    socket.on('end', () => {
      if (!this.active) return;
      try {
        const last = entry.framer.end();
        if (last !== null) this.answered(entry, last);
        else if (entry.awaiting) this.fail(entry, 'reset');
      } catch {
        this.fail(entry, 'reset');
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.active) return;
      this.fail(entry, reasonForSocketError(err.code));
    });
    socket.on('close', () => {
      if (this.active && entry.awaiting) this.fail(entry, 'reset');
      this.tracked.delete(entry);
    });
  }

  private answered(entry: Tracked, response: FramedResponse): void {
    if (!entry.awaiting) return; // a response nobody asked for on this socket: not a request of ours
    const elapsedUs = Number(process.hrtime.bigint() - entry.sentAtNs) / 1000;
    entry.awaiting = false;
    if (this.counted >= this.options.limit) return;
    const { expect } = this.options;
    this.statusCodes[response.status] = (this.statusCodes[response.status] ?? 0) + 1;
    this.bodyBytes += response.bodyBytes;
    this.latency.record(elapsedUs);
    if (response.status !== expect.status) this.outcome('status');
    else if (!bodyMatches(expect.body, response.bodyBytes, response.body)) this.outcome('bytes');
    else this.outcome(null);
  }

  private fail(entry: Tracked, reason: FailureReason): void {
    if (!entry.awaiting) return;
    entry.awaiting = false;
    if (this.counted >= this.options.limit) return;
    this.outcome(reason);
  }

  private outcome(reason: FailureReason | null): void {
    this.counted++;
    if (reason === null) this.ok++;
    else this.failed[reason]++;
    this.lastOutcomeAtMs = nowEpochMs();
    this.options.onOutcome?.(this.counted);
  }

  private expire(): void {
    const now = process.hrtime.bigint();
    for (const entry of this.tracked) {
      if (entry.awaiting && now - entry.sentAtNs > this.timeoutNs) {
        this.fail(entry, 'timeout');
        entry.socket.destroy(new Error(`no complete response within ${this.options.timeoutMs} ms`));
      }
    }
  }
}
