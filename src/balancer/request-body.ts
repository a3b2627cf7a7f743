/**
 * A request body, buffered before any upstream sees it and kept so it can be sent again.
 *
 * Buffering (nginx's `proxy_request_buffering`, HAProxy's `option http-buffer-request`): the
 * balancer opens no upstream request until the whole body is in hand, or `bufferBytes` of it. A
 * client that trickles its body, leaves after its headers, or sends `Expect: 100-continue` and
 * then nothing, only ever holds the balancer's own socket: no upstream connection sits waiting for
 * bytes that never come (a backend closes such a connection after its keep-alive timeout, and the
 * balancer would then have blamed the backend). The balancer's request timeout bounds the wait.
 *
 * Replay: reading a body hands it to the first upstream; if that upstream refused the connection,
 * the bytes never reached it, but they are gone from the client's stream. So what was read stays
 * (up to the limit) and each attempt gets a fresh stream: the kept bytes first, then the rest as
 * it arrives. Only one attempt reads at a time; opening a new reader ends the previous one.
 * Backpressure goes from the current reader to the client.
 */
import type { ClientMessage } from './client-message.js';
import { PassThrough } from 'node:stream';

export class ReplayableBody {
  private kept: Buffer[] = [];
  private keptBytes = 0;
  private overflowed = false;
  private ended = false;
  private reader: PassThrough | undefined;
  private whenReady: (() => void) | undefined;

  constructor(
    private readonly req: ClientMessage,
    private readonly maxBytes: number,
  ) {
    req.on('data', (chunk: Buffer) => this.onData(chunk));
    req.on('end', () => {
      this.ended = true;
      this.reader?.end();
      this.ready();
    });
  }

  /** False once the body outgrew the limit: what was dropped cannot be sent again. */
  get replayable(): boolean {
    return !this.overflowed;
  }

  /** Bytes kept so far (the whole body, when it is complete and replayable). */
  get bytes(): number {
    return this.keptBytes;
  }

  /** The whole body has arrived from the client. */
  get complete(): boolean {
    return this.ended;
  }

  /**
   * Call `then` once, when the body has arrived whole or has filled the buffer (at once if it
   * already has). Until then nothing is sent anywhere.
   */
  whenBuffered(then: () => void): void {
    if (this.ended || this.overflowed) then();
    else this.whenReady = then;
  }

  /** A stream of the whole body for a new attempt (the previous attempt's stream is ended). */
  open(): PassThrough {
    this.reader?.destroy();
    const reader = new PassThrough();
    this.reader = reader;
    for (const chunk of this.kept) reader.write(chunk);
    if (this.overflowed) {
      // Held only until a reader took them: this body cannot be replayed anyway.
      this.kept = [];
      this.keptBytes = 0;
    }
    if (this.ended) reader.end();
    else this.req.resume();
    return reader;
  }

  private ready(): void {
    const then = this.whenReady;
    this.whenReady = undefined;
    then?.();
  }

  private onData(chunk: Buffer): void {
    const reader = this.reader !== undefined && !this.reader.destroyed ? this.reader : undefined;
    if (!this.overflowed) {
      this.kept.push(chunk);
      this.keptBytes += chunk.length;
      if (this.keptBytes > this.maxBytes) {
        this.overflowed = true;
        if (reader !== undefined) {
          this.kept = [];
          this.keptBytes = 0;
        }
      }
    } else if (reader === undefined) {
      // Over the limit with nobody reading yet: hold this chunk for the reader about to open.
      this.kept.push(chunk);
    }
    if (reader === undefined) {
      if (this.overflowed) {
        this.req.pause();
        this.ready();
      }
      return;
    }
    if (!reader.write(chunk)) {
      this.req.pause();
      reader.once('drain', () => {
        if (this.reader === reader) this.req.resume();
      });
    }
  }
}
