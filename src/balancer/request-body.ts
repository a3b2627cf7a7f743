/**
 * A request body that can be sent again. Reading a body hands it to the first upstream; if that
 * upstream refused the connection, the bytes never reached it, but they are gone from the client's
 * stream. So the balancer keeps what it reads (up to a limit, as nginx buffers request bodies) and
 * gives each attempt a fresh stream: the kept bytes first, then the rest as it arrives.
 *
 * Only one attempt reads at a time; opening a new reader ends the previous one. Backpressure goes
 * from the current reader to the client.
 */
import type { ClientMessage } from './client-message.js';
import { PassThrough } from 'node:stream';

export class ReplayableBody {
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private overflowed = false;
  private ended = false;
  private reader: PassThrough | undefined;

  constructor(
    private readonly req: ClientMessage,
    private readonly maxBytes: number,
  ) {
    req.on('data', (chunk: Buffer) => this.onData(chunk));
    req.on('end', () => {
      this.ended = true;
      this.reader?.end();
    });
  }

  /** False once the body outgrew the limit: what was dropped cannot be sent again. */
  get replayable(): boolean {
    return !this.overflowed;
  }

  /** A stream of the whole body for a new attempt (the previous attempt's stream is ended). */
  open(): PassThrough {
    this.reader?.destroy();
    const reader = new PassThrough();
    this.reader = reader;
    for (const chunk of this.kept) reader.write(chunk);
    if (this.ended) reader.end();
    else this.req.resume();
    return reader;
  }

  private onData(chunk: Buffer): void {
    if (!this.overflowed) {
      if (this.keptBytes + chunk.length <= this.maxBytes) {
        this.kept.push(chunk);
        this.keptBytes += chunk.length;
      } else {
        this.overflowed = true;
        this.kept.length = 0;
        this.keptBytes = 0;
      }
    }
    const reader = this.reader;
    if (reader === undefined || reader.destroyed) return;
    if (!reader.write(chunk)) {
      this.req.pause();
      reader.once('drain', () => {
        if (this.reader === reader) this.req.resume();
      });
    }
  }
}
