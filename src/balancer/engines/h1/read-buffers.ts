/**
 * Read buffers for the h1 engine's upstream connections, kept and handed out again. A large
 * response is relayed one 64 KiB read at a time, and each read's bytes wait in the client's write
 * queue until the kernel takes them; allocating a fresh buffer for every such read grew external
 * memory by the response's size and had V8 run a full mark-compact every few hundred megabytes
 * relayed (a quarter of the balancer's CPU on the 1 MiB file). A buffer comes back here once every
 * write that holds a piece of it has completed, so the same few buffers carry the whole body.
 */

/** Bytes per read from an upstream, as node's own reads. */
export const READ_BYTES = 64 * 1024;

/** One read buffer and the writes still holding slices of it. */
export class ReadBuffer {
  /** Client writes not yet completed that hold a slice of this buffer. */
  pending = 0;
  /** Its connection has moved on to another buffer: it returns to the pool when pending is 0. */
  detached = false;
  /** False once a write that may still hold it failed, or it was handed off without a callback. */
  private reusable = true;

  constructor(
    readonly bytes: Buffer,
    private readonly home: ReadBuffers,
  ) {}

  /** A write holding a slice of this buffer completed (successfully: a failed one may still hold it). */
  readonly written = (err?: Error | null): void => {
    if (err !== undefined && err !== null) this.reusable = false;
    if (--this.pending === 0 && this.detached && this.reusable) this.home.give(this);
  };

  /** Bytes of it are held where no callback will say when they are done with: never reuse it. */
  forfeit(): void {
    this.reusable = false;
    this.pending++;
  }
}

export class ReadBuffers {
  private readonly free: ReadBuffer[] = [];

  /** At most `keep` buffers wait for reuse (beyond that, they are left to the garbage collector). */
  constructor(private readonly keep: number) {}

  take(): ReadBuffer {
    const b = this.free.pop();
    if (b === undefined) return new ReadBuffer(Buffer.allocUnsafe(READ_BYTES), this);
    b.detached = false;
    return b;
  }

  give(b: ReadBuffer): void {
    if (this.free.length < this.keep) this.free.push(b);
  }

  /** Buffers waiting for reuse (for tests). */
  get idle(): number {
    return this.free.length;
  }
}
