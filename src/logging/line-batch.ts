/**
 * Lines collected and written in batches, as nginx's `access_log ... buffer= flush=` does: a batch
 * is written when it is full (`chunkBytes`) or `flushMs` after its first line (100 ms), so a busy
 * process makes one write for a few dozen requests and an idle one still shows its line within a
 * blink. Flushing at the end of each event-loop turn instead was tried first: a busy worker
 * finishes only one to four requests a turn, so that was still a pipe write, and a wake-up of the
 * reader (PM2's daemon, a JavaScript callback per chunk), for every request or two.
 *
 * A write never goes over PIPE_BUF (4096 bytes on Linux) and always ends at a line's end: POSIX
 * keeps such a write to a pipe whole, and a cluster's workers share one pipe to PM2, so one
 * worker's batch is never cut in two by another's (nginx's buffer, likewise, must not exceed an
 * atomic write). One write is in flight at a time; the rest wait here, and at most `backlogBytes` of
 * them: a reader that falls behind (PM2 busy) does not make this process buffer without limit, as
 * node's stdout would. Lines beyond that are dropped and counted; the owner is told when dropping
 * starts and, a second later, how many (then once a second while it goes on). HAProxy's log ring
 * drops and counts them too (DroppedLogs); nginx, whose access_log writes to a file, blocks its
 * worker on the write instead, which a proxy's event loop must not do.
 *
 * Whatever is waiting is written at once by `flushNow` (before another line of the same stream, so
 * the order holds), by `close`, and at the process's exit, a crash's included.
 */
import { Buffer } from 'node:buffer';

/** Where the lines go: process.stdout, or any node Writable. */
export interface LineSink {
  write(chunk: string, callback: (err?: Error | null) => void): boolean;
}

/**
 * What the owner is told about dropped lines: at most one report a second (`reportEveryMs`), so a
 * reader that keeps falling behind costs a line a second, not one per spell.
 */
export interface DropReport {
  /** A line was dropped, and nothing was reported in the last second. */
  dropping(backlogBytes: number): void;
  /** Lines dropped since the last count, a second after it (or at close); whether all is written now. */
  dropped(count: number, caughtUp: boolean): void;
}

export interface LineBatchOptions {
  sink: LineSink;
  /** Most bytes that may wait to be written; a line that would go over it is dropped. */
  backlogBytes: number;
  /** Largest single write (and so the most one batch holds before it is written). */
  chunkBytes?: number;
  /** A batch that is not full is written this long after its first line. */
  flushMs?: number;
  /** Least time between two reports of dropped lines (1 s). */
  reportEveryMs?: number;
  report: DropReport;
}

/** Linux's PIPE_BUF: a write to a pipe of at most this many bytes is never interleaved with another's. */
export const PIPE_BUF = 4096;

/** How late a line may be on an idle process (nginx's `flush=`, which has no default). */
export const FLUSH_MS = 100;

/** Batches still holding lines when the process exits; one exit listener writes them all. */
const open = new Set<LineBatch>();
let exitHooked = false;

function noop(): void {}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  // Synchronous only: a pipe with room takes the write at once (libuv tries before it queues).
  process.on('exit', () => {
    for (const batch of open) batch.flushNow();
  });
}

export class LineBatch {
  private readonly chunkBytes: number;
  private readonly flushMs: number;
  /** Lines of the batch being filled, and their size in bytes. */
  private pending = '';
  private pendingBytes = 0;
  /** Sealed batches waiting for the write in flight, oldest first. */
  private readonly waiting: { text: string; bytes: number }[] = [];
  private waitingBytes = 0;
  private inFlight = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private droppedLines = 0;
  private lastReportAt = Number.NEGATIVE_INFINITY;
  private reportTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly idle: (() => void)[] = [];

  constructor(private readonly options: LineBatchOptions) {
    this.chunkBytes = Math.min(options.chunkBytes ?? PIPE_BUF, options.backlogBytes);
    this.flushMs = options.flushMs ?? FLUSH_MS;
    hookExit();
    open.add(this);
  }

  /** Bytes taken and not yet written: filling, waiting or in flight (what `backlogBytes` bounds). */
  get backlog(): number {
    return this.pendingBytes + this.waitingBytes;
  }

  /** One line, with its newline. */
  add(line: string): void {
    if (this.closed) {
      // A request that ends while the process exits: written alone rather than lost.
      this.options.sink.write(line, noop);
      return;
    }
    const bytes = Buffer.byteLength(line);
    // A full batch goes first: the sink may take it at once, and only what it has not is backlog.
    if (this.pendingBytes + bytes > this.chunkBytes) {
      this.seal();
      this.pump();
    }
    if (this.pendingBytes + this.waitingBytes + bytes > this.options.backlogBytes) {
      if (this.droppedLines++ === 0 && this.reportDue() === 0) {
        this.lastReportAt = Date.now();
        this.options.report.dropping(this.options.backlogBytes);
      }
      this.reportTimer ??= setTimeout(this.reportDrops, this.reportDue()).unref();
      return;
    }
    this.pending += line;
    this.pendingBytes += bytes;
    // Unref'd: a batch never keeps a process alive; the exit hook writes it.
    this.flushTimer ??= setTimeout(this.flushDue, this.flushMs).unref();
  }

  /** Everything taken so far to the sink now, whatever is in flight (ordering, exit). */
  flushNow(): void {
    this.seal();
    while (this.waiting.length > 0) this.writeNext();
  }

  /** Write what is left, stop taking lines; resolves once the sink has it all (or after `timeoutMs`). */
  close(timeoutMs = 2000): Promise<void> {
    this.closed = true;
    this.flushNow();
    open.delete(this);
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.reportTimer !== null) clearTimeout(this.reportTimer);
    this.reportTimer = null;
    if (this.droppedLines > 0) this.reportDropped(this.backlog === 0);
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private readonly flushDue = (): void => {
    this.flushTimer = null;
    this.seal();
    this.pump();
  };

  private seal(): void {
    if (this.pendingBytes === 0) return;
    this.waiting.push({ text: this.pending, bytes: this.pendingBytes });
    this.waitingBytes += this.pendingBytes;
    this.pending = '';
    this.pendingBytes = 0;
  }

  private pump(): void {
    if (this.inFlight === 0 && this.waiting.length > 0) this.writeNext();
  }

  private writeNext(): void {
    const chunk = this.waiting.shift();
    if (chunk === undefined) return;
    this.inFlight++;
    // A failed write (EPIPE: PM2's daemon is gone) counts as written: those lines have nowhere to
    // go, and the stream's own error handler (src/logger.ts) keeps the process up.
    this.options.sink.write(chunk.text, () => this.written(chunk.bytes));
  }

  private written(bytes: number): void {
    this.inFlight--;
    this.waitingBytes -= bytes;
    if (this.inFlight > 0) return;
    this.pump();
    if (this.inFlight > 0) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Milliseconds until the next report may be made (0: now). */
  private reportDue(): number {
    return Math.max(0, this.lastReportAt + (this.options.reportEveryMs ?? 1000) - Date.now());
  }

  private readonly reportDrops = (): void => {
    this.reportTimer = null;
    if (this.droppedLines > 0) this.reportDropped(this.backlog === 0);
  };

  private reportDropped(caughtUp: boolean): void {
    const count = this.droppedLines;
    this.droppedLines = 0;
    this.lastReportAt = Date.now();
    this.options.report.dropped(count, caughtUp);
  }
}
