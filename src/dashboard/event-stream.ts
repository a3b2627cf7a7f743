/**
 * Server-sent events to every open dashboard: the same frame, serialized once, written to each
 * client. Frames go out once a second while someone watches (the timer stops when nobody does) and
 * at once when `pushSoon()` is called, so an upstream leaving the pool shows up without waiting for
 * the next tick. A client that cannot keep up skips frames: each frame is the whole view, so the next
 * one it gets is complete.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface EventStreamOptions {
  /** Builds the frame's data; called once per frame whatever the number of clients. */
  frame: () => unknown;
  intervalMs?: number;
  /** Reported when building a frame fails (the stream keeps going). */
  onError?: (err: unknown) => void;
}

export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private pending = false;

  constructor(private readonly options: EventStreamOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
  }

  get size(): number {
    return this.clients.size;
  }

  /** Whether the once-a-second timer runs (only while someone watches). */
  get ticking(): boolean {
    return this.timer !== undefined;
  }

  /** Take over a GET request as an event stream: headers now, the first frame at once. */
  open(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // Proxies in front must not buffer the stream.
      'X-Accel-Buffering': 'no',
    });
    // Tell the browser to come back quickly if the balancer restarts.
    res.write('retry: 1000\n\n');
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTimer();
    });
    const data = this.serialize();
    if (data !== undefined) res.write(data);
    this.timer ??= setInterval(() => this.push(), this.intervalMs).unref();
  }

  /** Send a frame on the next turn of the event loop; several calls in one turn send one frame. */
  pushSoon(): void {
    if (this.pending || this.clients.size === 0) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      this.push();
    });
  }

  /** End every stream (the admin server can then close). */
  close(): void {
    this.stopTimer();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private push(): void {
    if (this.clients.size === 0) return;
    const data = this.serialize();
    if (data === undefined) return;
    for (const res of this.clients) {
      // A client still draining the last frame skips this one.
      if (!res.writableNeedDrain) res.write(data);
    }
  }

  private serialize(): string | undefined {
    try {
      return `data: ${JSON.stringify(this.options.frame())}\n\n`;
    } catch (err) {
      this.options.onError?.(err);
      return undefined;
    }
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
