/**
 * Finds where each HTTP/1.x response starts and ends in the bytes a client socket receives, and
 * reports its status and body length. It is how the benchmark checks every response whatever
 * loadtest client drives the socket (loadtest's raw-TCP client offers no per-response hook).
 * Handles Content-Length, chunked and close-delimited bodies, interim 1xx responses and bodiless
 * statuses. It only counts body bytes, never copies them. Pure: bytes in, responses out.
 */

export interface FramedResponse {
  status: number;
  /** Bytes of the status line and headers, terminator included. */
  headBytes: number;
  /** Body bytes after transfer decoding (chunk framing excluded). */
  bodyBytes: number;
  /** Content-Length as announced, when there was one. */
  contentLength: number | null;
  /** The body itself, only when capturing was asked for and it fit. */
  body?: Buffer;
}

/** Bytes that cannot be an HTTP response; the connection cannot be framed any further. */
export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE = 1024;

type State =
  | { kind: 'head' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunk-size'; line: string }
  | { kind: 'chunk-data'; remaining: number }
  | { kind: 'chunk-crlf'; remaining: number }
  | { kind: 'trailers'; line: string }
  | { kind: 'close' };

export class ResponseFramer {
  private state: State = { kind: 'head' };
  /** Body pieces of the current response, while it still fits the capture limit. */
  private captured: Buffer[] | null = null;
  private capturedBytes = 0;

  /** @param captureUpTo keep bodies up to this many bytes (0: never), for checks on content. */
  constructor(private readonly captureUpTo = 0) {}

  /** Head bytes received so far when the head spans several chunks. */
  private pendingHead: Buffer | null = null;
  private current: FramedResponse | null = null;
  private failed: FramingError | null = null;

  /** True between the first byte of a response and its last. */
  get inResponse(): boolean {
    return this.current !== null || this.pendingHead !== null;
  }

  /** Feed received bytes; returns the responses they completed (usually zero or one). */
  push(chunk: Buffer): FramedResponse[] {
    if (this.failed) throw this.failed;
    const done: FramedResponse[] = [];
    try {
      let offset = 0;
      while (offset < chunk.length) offset = this.step(chunk, offset, done);
    } catch (err) {
      this.failed = err instanceof FramingError ? err : new FramingError(String(err));
      throw this.failed;
    }
    return done;
  }

  /**
   * The server closed the connection. Completes a close-delimited body; returns null when no
   * response was in progress, and throws when one was cut short.
   */
  end(): FramedResponse | null {
    if (this.failed) throw this.failed;
    if (this.state.kind === 'close' && this.current) {
      const response = this.current;
      if (this.captured !== null) response.body = Buffer.concat(this.captured);
      this.current = null;
      this.captured = null;
      this.state = { kind: 'head' };
      return response;
    }
    if (this.inResponse) throw new FramingError('connection closed in the middle of a response');
    return null;
  }

  private finish(done: FramedResponse[]): void {
    if (this.current) {
      if (this.captured !== null) this.current.body = Buffer.concat(this.captured);
      done.push(this.current);
    }
    this.current = null;
    this.captured = null;
    this.state = { kind: 'head' };
  }

  /** Consume from `offset`; returns the new offset. */
  private step(chunk: Buffer, offset: number, done: FramedResponse[]): number {
    const state = this.state;
    switch (state.kind) {
      case 'head':
        return this.readHead(chunk, offset, done);
      case 'length': {
        const take = Math.min(state.remaining, chunk.length - offset);
        state.remaining -= take;
        this.body(chunk, offset, take);
        if (state.remaining === 0) this.finish(done);
        return offset + take;
      }
      case 'close': {
        this.body(chunk, offset, chunk.length - offset);
        return chunk.length;
      }
      case 'chunk-size':
      case 'trailers': {
        const nl = chunk.indexOf(0x0a, offset);
        const end = nl === -1 ? chunk.length : nl + 1;
        state.line += chunk.toString('latin1', offset, end);
        if (state.line.length > MAX_CHUNK_LINE) throw new FramingError('chunk size line too long');
        if (nl === -1) return end;
        const line = state.line.replace(/\r?\n$/, '');
        if (state.kind === 'trailers') {
          if (line === '') this.finish(done);
          else state.line = '';
          return end;
        }
        const size = Number.parseInt(line.split(';')[0]?.trim() ?? '', 16);
        if (!Number.isFinite(size) || size < 0 || !/^[0-9a-fA-F]+$/.test(line.split(';')[0]?.trim() ?? '')) {
          throw new FramingError(`bad chunk size line "${line.slice(0, 40)}"`);
        }
        this.state = size === 0 ? { kind: 'trailers', line: '' } : { kind: 'chunk-data', remaining: size };
        return end;
      }
      case 'chunk-data': {
        const take = Math.min(state.remaining, chunk.length - offset);
        state.remaining -= take;
        this.body(chunk, offset, take);
        if (state.remaining === 0) this.state = { kind: 'chunk-crlf', remaining: 2 };
        return offset + take;
      }
      case 'chunk-crlf': {
        const take = Math.min(state.remaining, chunk.length - offset);
        state.remaining -= take;
        if (state.remaining === 0) this.state = { kind: 'chunk-size', line: '' };
        return offset + take;
      }
    }
  }

  private body(chunk: Buffer, offset: number, length: number): void {
    if (this.current === null) return;
    this.current.bodyBytes += length;
    if (this.captured === null) return;
    this.capturedBytes += length;
    // Copied: the socket's buffer is not ours to keep.
    if (this.capturedBytes <= this.captureUpTo)
      this.captured.push(Buffer.from(chunk.subarray(offset, offset + length)));
    else this.captured = null;
  }

  private readHead(chunk: Buffer, offset: number, done: FramedResponse[]): number {
    let head: Buffer;
    let consumed: number;
    if (this.pendingHead === null) {
      const at = chunk.indexOf(CRLFCRLF, offset);
      if (at === -1) {
        this.pendingHead = Buffer.from(chunk.subarray(offset));
        this.checkHeadSize(this.pendingHead.length);
        return chunk.length;
      }
      head = chunk.subarray(offset, at + 4);
      consumed = at + 4;
    } else {
      // The terminator may straddle the boundary: search from 3 bytes before the new data.
      const before = this.pendingHead.length;
      const joined = Buffer.concat([this.pendingHead, chunk.subarray(offset)]);
      const at = joined.indexOf(CRLFCRLF, Math.max(0, before - 3));
      if (at === -1) {
        this.pendingHead = joined;
        this.checkHeadSize(joined.length);
        return chunk.length;
      }
      head = joined.subarray(0, at + 4);
      consumed = offset + (at + 4 - before);
      this.pendingHead = null;
    }
    this.checkHeadSize(head.length);
    this.startResponse(head, done);
    return consumed;
  }

  private checkHeadSize(length: number): void {
    if (length > MAX_HEAD_BYTES) throw new FramingError(`response head larger than ${MAX_HEAD_BYTES} bytes`);
  }

  private startResponse(head: Buffer, done: FramedResponse[]): void {
    const text = head.toString('latin1');
    const lines = text.split('\r\n');
    const statusLine = lines[0] ?? '';
    const match = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
    if (match === null) throw new FramingError(`not an HTTP/1.x status line: "${statusLine.slice(0, 60)}"`);
    const status = Number(match[1]);
    let contentLength: number | null = null;
    let chunked = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value)) throw new FramingError(`bad Content-Length "${value}"`);
        contentLength = Number(value);
      } else if (name === 'transfer-encoding') {
        chunked = value.toLowerCase().split(',').pop()?.trim() === 'chunked';
      }
    }
    if (status >= 100 && status < 200) {
      // Interim response (100 Continue): the real one follows on the same connection.
      this.state = { kind: 'head' };
      return;
    }
    this.current = { status, headBytes: head.length, bodyBytes: 0, contentLength };
    this.captured = this.captureUpTo > 0 ? [] : null;
    this.capturedBytes = 0;
    if (status === 204 || status === 304) this.finish(done);
    else if (chunked) this.state = { kind: 'chunk-size', line: '' };
    else if (contentLength !== null) {
      if (contentLength === 0) this.finish(done);
      else this.state = { kind: 'length', remaining: contentLength };
    } else this.state = { kind: 'close' };
  }
}
