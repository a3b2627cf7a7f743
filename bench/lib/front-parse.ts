/**
 * What the balancer's own HTTP/1.1 server (`--front h1`) reads out of a client's bytes, without a
 * socket: its head parser (request-head.ts) and chunked decoder (chunked-body.ts) driven the way
 * inbound-connection.ts drives them (a buffer of unread bytes compacted as pieces arrive, one
 * request at a time, nothing read after a request that closes the connection or upgrades it).
 * Used by the differential fuzz (front-fuzz.ts) and the parser's tests.
 */
import { ChunkedDecoder } from '../../src/balancer/h1-server/chunked-body.js';
import {
  DEFAULT_LIMITS,
  HeadReader,
  type HeadLimits,
  type HeadRefusal,
  type RequestHead,
} from '../../src/balancer/h1-server/request-head.js';

/** One request read whole: what an upstream would be asked for. */
export interface ReadRequest {
  method: string;
  target: string;
  /** The body's bytes as latin1 (chunked bodies decoded). */
  body: string;
  /** Handed to the upgrade handler after its head: nothing after it is HTTP. */
  upgrade: boolean;
}

/** How reading the bytes ended, after the requests read whole. */
export type ReadEnd =
  /** Every byte read, at a boundary between requests (or only empty lines after the last). */
  | { kind: 'clean' }
  /** The bytes ended inside a request (the server would wait for more). */
  | { kind: 'incomplete' }
  | { kind: 'refused'; refusal: HeadRefusal }
  /** The last request ends the connection (Connection: close, HTTP/1.0): the rest is not read. */
  | { kind: 'closed' }
  /** The last request upgraded the connection. */
  | { kind: 'upgraded' };

export interface ReadVerdict {
  requests: ReadRequest[];
  end: ReadEnd;
}

/** Where the model is: between requests (reading a head), or in a body. */
type Phase =
  | { kind: 'head' }
  | { kind: 'length'; head: RequestHead; left: number; body: Buffer[] }
  | { kind: 'chunked'; head: RequestHead; body: Buffer[] };

/**
 * Read `bytes` as the h1 front would, arriving in pieces cut at `cuts` (offsets into `bytes`).
 * Throws anything the parser throws (a bug: it refuses by returning, never by throwing).
 */
export function readRequests(
  bytes: Buffer,
  cuts: readonly number[] = [],
  limits: HeadLimits = DEFAULT_LIMITS,
): ReadVerdict {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const reader = new HeadReader(limits);
  reader.reset(0);
  const requests: ReadRequest[] = [];
  let chunkData: Buffer[] = [];
  const decoder = new ChunkedDecoder((buf, start, end) =>
    chunkData.push(Buffer.from(buf.subarray(start, end))),
  );
  let phase: Phase = { kind: 'head' };
  let buffer: Buffer | null = null;
  let pos = 0;

  const finish = (head: RequestHead, body: Buffer[]): ReadEnd | undefined => {
    requests.push({
      method: head.method,
      target: head.target,
      body: Buffer.concat(body).toString('latin1'),
      upgrade: false,
    });
    phase = { kind: 'head' };
    if (!head.keepAlive) return { kind: 'closed' };
    reader.reset(pos);
    return undefined;
  };

  /** Everything the buffer holds now, as far as it goes; an end once reading stops for good. */
  const process = (buf: Buffer): ReadEnd | undefined => {
    for (;;) {
      if (phase.kind === 'length') {
        const n = Math.min(phase.left, buf.length - pos);
        phase.body.push(buf.subarray(pos, pos + n));
        pos += n;
        phase.left -= n;
        if (phase.left > 0) return undefined;
        const end = finish(phase.head, phase.body);
        if (end !== undefined) return end;
        continue;
      }
      if (phase.kind === 'chunked') {
        if (pos >= buf.length) return undefined;
        const at = decoder.feed(buf, pos, buf.length);
        if (at < 0) return { kind: 'refused', refusal: decoder.refusal as HeadRefusal };
        pos = at;
        if (!decoder.done) return undefined;
        const end = finish(phase.head, chunkData);
        if (end !== undefined) return end;
        continue;
      }
      if (pos >= buf.length) return undefined;
      const result = reader.feed(buf, buf.length);
      if (result.kind === 'more') {
        pos = Math.max(pos, reader.start >= 0 ? reader.start : buf.length);
        return undefined;
      }
      if (result.kind === 'refused') return { kind: 'refused', refusal: result.refusal };
      pos = result.end;
      const head = result.head;
      if (head.upgrade) {
        requests.push({ method: head.method, target: head.target, body: '', upgrade: true });
        return { kind: 'upgraded' };
      }
      if (head.chunked) {
        decoder.reset();
        chunkData = [];
        phase = { kind: 'chunked', head, body: chunkData };
      } else if (head.contentLength > 0) {
        phase = { kind: 'length', head, left: head.contentLength, body: [] };
      } else {
        const end = finish(head, []);
        if (end !== undefined) return end;
      }
    }
  };

  let from = 0;
  for (const to of [...points, bytes.length]) {
    const piece = bytes.subarray(from, to);
    from = to;
    // As the connection keeps its unread bytes: a new buffer when all was read, else the rest
    // and the new piece together, the reader's offsets moved down to match.
    if (buffer === null || pos >= buffer.length) {
      if (buffer !== null) reader.shift(buffer.length);
      buffer = piece;
    } else {
      reader.shift(pos);
      buffer = Buffer.concat([buffer.subarray(pos), piece]);
    }
    pos = 0;
    const end = process(buffer);
    if (end !== undefined) return { requests, end };
  }
  const between = phase.kind === 'head' && reader.start < 0;
  return { requests, end: between ? { kind: 'clean' } : { kind: 'incomplete' } };
}
